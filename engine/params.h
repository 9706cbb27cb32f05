// Parameter resolution for a run or a plan: declared defaults, then the site
// profile (lenient: keys the runbook does not declare are ignored), then a
// --param-file, then -p k=v (strict: unknown keys are errors). Every
// violation is reported at once. Stateless functions.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/model.h"

namespace runbook {

struct ParamSources {
  // Parsed YAML/JSON mappings with their nodes (for locations); may be null.
  const Node* site = nullptr;        // --site / RUNBOOK_SITE
  const Node* param_file = nullptr;  // --param-file
  std::vector<std::pair<std::string, std::string>> cli;  // -p k=v, in order
};

// Splits "k=v" (the first '='); false if there is no '=' or the key is empty.
bool SplitAssignment(const std::string& text, std::string& key, std::string& value);

// Resolved values for every declared parameter that has one. Errors go to
// `diags` (command-line problems at location "-p").
boost::json::object ResolveParams(const RunbookSpec& spec, const ParamSources& sources, Diagnostics& diags);

// Reads a YAML or JSON mapping file (site profile, param file).
std::optional<Node> ReadParamFile(const std::string& path, Diagnostics& diags);

}  // namespace runbook
