// Durations as runbooks write them: "500ms", "30s", "5m", "1h30m", "2d", or a
// bare number of seconds. Pure functions, no state.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace runbook {

using Millis = std::chrono::milliseconds;

// nullopt when `text` is not a duration. Units: ms, s, m, h, d; several
// components in decreasing order ("1h30m"); a bare non-negative number means
// seconds; decimals allowed per component ("1.5s").
std::optional<Millis> ParseDuration(std::string_view text);
// The fixed message for a bad duration: "invalid duration 'x' (use e.g. 30s, 5m, 1h30m)".
std::string BadDurationMessage(std::string_view text);
// Compact human form: "250ms", "30s", "5m", "1h30m", "2d3h".
std::string FormatDuration(Millis d);

}  // namespace runbook
