#include "report/excerpt.h"

#include <algorithm>

namespace runbook::report {

ExcerptBuilder::ExcerptBuilder(journal::Stream stream, int lines) : keep_(static_cast<size_t>(std::max(1, lines))) {
  x_.stream = stream;
}

void ExcerptBuilder::Feed(std::string_view bytes) {
  x_.bytes += static_cast<int64_t>(bytes.size());
  std::string text;
  sanitizer_.Feed(bytes, text);
  AddText(text);
}

void ExcerptBuilder::AddText(std::string_view text) {
  for (char c : text) {
    if (c == '`') {
      x_.longest_backtick_run = std::max(x_.longest_backtick_run, ++backticks_);
    } else {
      backticks_ = 0;
    }
    if (c == '\n') {
      EndLine();
      continue;
    }
    line_open_ = true;
    // The text is valid UTF-8 here: past the cap, only the continuation
    // bytes of the character being added are still kept.
    if (!line_cut_ && (line_.size() < kMaxExcerptLineBytes || (static_cast<unsigned char>(c) & 0xC0) == 0x80)) {
      line_ += c;
    } else {
      line_cut_ = true;
    }
  }
}

void ExcerptBuilder::EndLine() {
  std::string line = line_cut_ ? line_ + "\xE2\x80\xA6" : line_;
  line_.clear();
  line_cut_ = false;
  line_open_ = false;
  ++x_.lines;
  if (x_.head.size() < keep_) {
    x_.head.push_back(std::move(line));
    return;
  }
  tail_.push_back(std::move(line));
  if (tail_.size() > keep_) {
    tail_.pop_front();
    ++x_.omitted_lines;
  }
}

OutputExcerpt ExcerptBuilder::Finish() {
  std::string rest;
  sanitizer_.Finish(rest);
  AddText(rest);
  if (line_open_) EndLine();
  x_.valid_utf8 = sanitizer_.valid();
  x_.tail.assign(tail_.begin(), tail_.end());
  tail_.clear();
  return std::move(x_);
}

}  // namespace runbook::report
