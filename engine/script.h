// Binding expressions into shell scripts without ever making a value shell
// syntax (SPEC.md §4, "values never become syntax").
//
// Each `${{ expr }}` of a `run:` script is replaced by a reference to an
// environment variable (RUNBOOK_EXPR_1, ...) that carries the value, written
// for where the expression sits in the shell's grammar:
//   outside quotes (or in a comment)   ->  "${RUNBOOK_EXPR_1}"
//   inside "double quotes"              ->  ${RUNBOOK_EXPR_1}
//   inside 'single quotes'              ->  '"${RUNBOOK_EXPR_1}"'   (close, expand, reopen)
//   inside bash $'...'                  ->  '"${RUNBOOK_EXPR_1}"$'
//   in a here-document body (<<EOF)     ->  ${RUNBOOK_EXPR_1}
//   in shell arithmetic $(( )), (( ))   ->  ${RUNBOOK_EXPR_1}, and the value must be an integer
// so `ufw deny from "${{ params.ip }}"` with ip = `x"; rm -rf / #` passes the
// whole text as one argument. The scanner knows quotes, backslashes,
// comments, `$( )`, backticks, `${ }`, `$(( ))`, `case` patterns and
// here-documents (`<<`, `<<-`, quoted delimiters, several on one line; not
// `<<<`). Refused, because the shell would not expand the value there or its
// quoting would be undone: an expression in the body of a here-document with
// a quoted delimiter (<<'EOF'), as a here-document's delimiter, or right
// after an escaping backslash. Stateless functions.
#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <string>

#include "engine/expr/expr.h"
#include "engine/status.h"

namespace runbook {

// Which shell reads the script: bash also has $'...' and (( )).
enum class ShellDialect { kSh, kBash };

struct BoundScript {
  std::string text;                        // the script as the shell sees it
  std::map<std::string, std::string> env;  // RUNBOOK_EXPR_N -> value
};

// Errors: a template parse error; an expression where it is refused (above),
// e.g. "'${{ params.v }}' (line 3 of the script) is in a here-document with a
// quoted delimiter (<<'EOF'), where the shell expands nothing; ..."; an
// evaluation error; a value in shell arithmetic that is not an integer.
Result<BoundScript> BindScript(const std::string& script, const expr::Context& ctx,
                               ShellDialect dialect = ShellDialect::kSh);

// The text BindScript would produce, without evaluating anything (for
// `runbook plan` and load-time checks). Errors: as BindScript's, minus the
// ones that need values.
Result<std::string> ScriptText(const std::string& script, ShellDialect dialect = ShellDialect::kSh);

// Renders every `${{ }}` of `text` to a plain string (argv elements, cwd,
// stdin, URLs...): the value is data in that position, never re-parsed.
Result<std::string> RenderText(const std::string& text, const expr::Context& ctx);

// A YAML/JSON value as written (an http step's `json:`, a runbook step's
// `params:`) with every string rendered — keys as text; a string that is one
// expression keeps its value's type (numbers stay numbers).
Result<boost::json::value> RenderJson(const boost::json::value& v, const expr::Context& ctx);

}  // namespace runbook
