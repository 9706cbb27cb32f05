// OutputExcerpt: what the export shows of one captured stream without holding
// it: byte and line counts, the first and last N lines (made valid UTF-8,
// control characters shown as control pictures, each line capped), and what
// the renderers need to quote the full text later (whether it is valid UTF-8,
// the longest run of backticks for a Markdown fence). ExcerptBuilder fills
// one from the stream's chunks as they are read. Values and a single-owner
// builder; any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "journal/records.h"
#include "report/text.h"

namespace runbook::report {

// Longest line kept in an excerpt, in bytes; longer lines end in "…".
inline constexpr size_t kMaxExcerptLineBytes = 400;

struct OutputExcerpt {
  journal::Stream stream = journal::Stream::kStdout;
  int64_t bytes = 0;               // counted from the chunks
  std::string sha256;              // the attempt's recorded digest ("" while running)
  int64_t lines = 0;               // a last line without '\n' counts
  std::vector<std::string> head;   // the first lines
  std::vector<std::string> tail;   // the last lines, after the omitted ones
  int64_t omitted_lines = 0;       // between head and tail
  bool valid_utf8 = true;          // the bytes as captured
  int longest_backtick_run = 0;    // in the displayed (sanitized) text
};

class ExcerptBuilder {
 public:
  // Keeps `lines` lines at each end (at least 1).
  ExcerptBuilder(journal::Stream stream, int lines);
  void Feed(std::string_view bytes);
  OutputExcerpt Finish();

 private:
  void AddText(std::string_view text);
  void EndLine();

  OutputExcerpt x_;
  size_t keep_;
  Utf8Sanitizer sanitizer_{ControlChars::kPicture};
  std::string line_;
  bool line_cut_ = false;
  bool line_open_ = false;  // a line has started and not ended
  int backticks_ = 0;       // current run
  std::deque<std::string> tail_;
};

}  // namespace runbook::report
