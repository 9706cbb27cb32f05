// Binding expressions into shell scripts without ever making a value shell
// syntax (SPEC.md §4, "values never become syntax").
//
// Each `${{ expr }}` of a `run:` script is replaced by a reference to an
// environment variable (RUNBOOK_EXPR_1, ...) that carries the value:
//   outside quotes        ->  "${RUNBOOK_EXPR_1}"
//   inside "double quotes" ->  ${RUNBOOK_EXPR_1}
//   inside 'single quotes' ->  '"${RUNBOOK_EXPR_1}"'   (close, expand, reopen)
// so `ufw deny from "${{ params.ip }}"` with ip = `x"; rm -rf / #` passes the
// whole text as one argument. Stateless functions.
#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <string>

#include "engine/expr/expr.h"
#include "engine/status.h"

namespace runbook {

struct BoundScript {
  std::string text;                        // the script as the shell sees it
  std::map<std::string, std::string> env;  // RUNBOOK_EXPR_N -> value
};

Result<BoundScript> BindScript(const std::string& script, const expr::Context& ctx);

// Renders every `${{ }}` of `text` to a plain string (argv elements, cwd,
// stdin, URLs...): the value is data in that position, never re-parsed.
Result<std::string> RenderText(const std::string& text, const expr::Context& ctx);

// A YAML/JSON value as written (an http step's `json:`, a runbook step's
// `params:`) with every string rendered — keys as text; a string that is one
// expression keeps its value's type (numbers stay numbers).
Result<boost::json::value> RenderJson(const boost::json::value& v, const expr::Context& ctx);

}  // namespace runbook
