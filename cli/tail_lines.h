// The last lines of a step's output, as `runbook run` shows them under a
// failed step and `runbook show` under a failed step's row: non-blank lines,
// control characters shown as '?' (the output of a failed program may hold
// anything, terminal escapes included), each cut at 240 characters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace runbook::cli {

// How many bytes of a stream's end are enough for a few lines.
inline constexpr size_t kTailBytes = 2048;

// The last `max_lines` non-blank lines of `text`, oldest first. `cut`: text
// is the end of a longer output, so its first line may be partial (it is not
// returned). *more: earlier output exists that is not returned.
std::vector<std::string> LastLines(std::string_view text, bool cut, size_t max_lines, bool* more);

}  // namespace runbook::cli
