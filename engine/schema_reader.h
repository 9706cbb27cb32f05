// Helpers that read located Nodes into typed values, reporting shape errors
// with a consistent wording. Used by the loader and by the step types'
// schemas (steps/). Each function reports at most one error per value and
// returns nullopt on error. `what` names the value in messages, e.g.
// "step 'x': 'timeout'". Stateless.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/model.h"
#include "engine/node.h"
#include "engine/status.h"

namespace runbook::schema {

// Reports keys of mapping `node` not in `allowed`:
// "<prefix>unknown <noun> 'x' (did you mean 'y'?)". Returns false if any.
bool CheckKeys(const Node& node, const std::vector<std::string>& allowed, const std::string& prefix,
               const std::string& noun, Diagnostics& diags);

// "<what> must be <expected>, got <kind>"
void KindError(const Node& node, const std::string& what, const std::string& expected, Diagnostics& diags);

bool ExpectMapping(const Node& node, const std::string& what, Diagnostics& diags);
bool ExpectSequence(const Node& node, const std::string& what, Diagnostics& diags);

std::optional<std::string> String(const Node& node, const std::string& what, Diagnostics& diags);
std::optional<bool> Bool(const Node& node, const std::string& what, Diagnostics& diags);
std::optional<long long> Int(const Node& node, const std::string& what, Diagnostics& diags,
                             std::optional<long long> min = std::nullopt,
                             std::optional<long long> max = std::nullopt);
std::optional<double> Number(const Node& node, const std::string& what, Diagnostics& diags);
std::optional<Millis> Duration(const Node& node, const std::string& what, Diagnostics& diags);
std::optional<std::vector<std::string>> StringList(const Node& node, const std::string& what,
                                                   Diagnostics& diags);
// One of `choices`: "<what> must be one of a, b, c, got 'x'" (+ did you mean).
std::optional<std::string> Enum(const Node& node, const std::string& what,
                                const std::vector<std::string>& choices, Diagnostics& diags);
// A comparison like "> 80", ">= 0.5", "== 0", "!= 'up'": operator and operand.
struct Threshold {
  std::string op;   // > >= < <= == !=
  double number = 0;
  std::optional<std::string> text;  // for == / != with a quoted string
  std::string source;
};
std::optional<Threshold> ParseThreshold(const std::string& text);
std::optional<Threshold> ThresholdField(const Node& node, const std::string& what, Diagnostics& diags);

// Typed parameter declarations (params:, approval inputs:).
std::vector<ParamSpec> ParamSpecs(const Node& node, const std::string& prefix, Diagnostics& diags);
// A value for parameter `p` from YAML (default:, param files, site profile).
// Error messages: "<what> must be an int, got 'abc'" etc. Does not check
// pattern/min/max (CheckParamValue does).
std::optional<boost::json::value> ParamValueFromNode(const ParamSpec& p, const Node& node,
                                                     const std::string& what, Diagnostics& diags);
// Same from a command-line string (-p k=v): "abc" for a string, "3" for an int...
Result<boost::json::value> ParamValueFromString(const ParamSpec& p, const std::string& text);
// Pattern, enum membership, min/max. Empty string when fine, else the reason:
// "value 'x' does not match pattern '^[a-z]+$'".
std::string CheckParamValue(const ParamSpec& p, const boost::json::value& v);

}  // namespace runbook::schema
