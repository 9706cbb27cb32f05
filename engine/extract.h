// Output extraction rules (SPEC.md §3): turn a step's text output into typed
// values — `{from: stdout, regex: '...', group: 1, type: number}` or
// `{from: body, json: /is_active}`. Pure functions, any thread.
//
// Regexes use ECMAScript syntax (`.` stops at line ends, `^`/`$` anchor the
// whole text) but run on Boost.Regex's non-recursive matcher: a pattern or a
// text chosen by an attacker (a 16 MiB HTTP body, 30,000 nested parentheses,
// `(a*)*b`) ends in an error within bounded time and memory, never in a stack
// overflow or an endless match (libstdc++'s std::regex recurses per character).
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

// The number of capture groups of `pattern`, or why it is not a valid regex
// ("Unmatched marking parenthesis ( or \( at offset 20").
Result<size_t> RegexGroups(std::string_view pattern);

// Whether `pattern` matches the whole of `text` (a parameter's `pattern:`),
// with the same engine and bounds; an invalid pattern or a match that gives
// up is an error.
Result<bool> RegexFullMatch(std::string_view pattern, std::string_view text);

// Converts text to a typed value as an output rule's `type` says.
Result<boost::json::value> ConvertOutput(const std::string& name, OutputType type, const boost::json::value& v);

}  // namespace runbook
