// Output extraction rules (SPEC.md §3): turn a step's text output into typed
// values — `{from: stdout, regex: '...', group: 1, type: number}` or
// `{from: body, json: /is_active}`. Pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "engine/model.h"
#include "engine/status.h"

namespace runbook {

// Applies `rule` to `text`. When nothing matches: the rule's default, else
// an error ("output 'cpu': regex '...' did not match stdout"). Conversion
// errors name the value: "output 'cpu': 'abc' is not a number".
Result<boost::json::value> ExtractOutput(const OutputRule& rule, std::string_view text);

// Converts text to a typed value as an output rule's `type` says.
Result<boost::json::value> ConvertOutput(const std::string& name, OutputType type, const boost::json::value& v);

}  // namespace runbook
