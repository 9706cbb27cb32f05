// Text hygiene for the export renderers: captured output and journaled
// messages are arbitrary bytes (invalid UTF-8, NUL, terminal escapes), and a
// review document must show them faithfully without letting them become
// markup. Utf8Sanitizer makes any byte stream valid UTF-8 incrementally
// (a character split across output chunks is kept whole); the escapers quote
// for HTML and CSV (RFC 4180); Base64Encoder streams binary output into JSON.
// Pure functions and small single-owner objects; any thread.
#pragma once

#include <string>
#include <string_view>

namespace runbook::report {

enum class ControlChars {
  kKeep,     // only invalid UTF-8 is replaced (U+FFFD)
  kPicture,  // also C0 controls but TAB and LF, and DEL, become their visible
             // "control pictures" (ESC -> U+241B); CR LF becomes LF
};

class Utf8Sanitizer {
 public:
  explicit Utf8Sanitizer(ControlChars controls) : controls_(controls) {}
  // Appends the sanitized form of `bytes` to `out`. An incomplete character
  // at the end is held back until the next Feed or Finish.
  void Feed(std::string_view bytes, std::string& out);
  // Flushes what was held back (an incomplete character becomes U+FFFD).
  void Finish(std::string& out);
  // False once any invalid byte was seen.
  bool valid() const { return valid_; }

 private:
  void Emit(std::string_view ch, std::string& out);
  ControlChars controls_;
  std::string pending_;  // the start of a multi-byte character
  bool pending_cr_ = false;
  bool valid_ = true;
};

// One-shot forms.
std::string Sanitize(std::string_view bytes, ControlChars controls = ControlChars::kPicture);
bool IsValidUtf8(std::string_view bytes);

// & < > " ' escaped; the input must already be sanitized.
std::string HtmlEscape(std::string_view text);
// One RFC 4180 field: quoted (with doubled quotes) when it holds a comma,
// quote, CR or LF, or starts or ends with a space; else as is.
std::string CsvField(std::string_view text);

// Standard base64 (RFC 4648, with padding), streamed.
class Base64Encoder {
 public:
  void Feed(std::string_view bytes, std::string& out);
  void Finish(std::string& out);

 private:
  unsigned char held_[3] = {0, 0, 0};
  int held_count_ = 0;
};

// At most `max_bytes` of valid UTF-8 `text`, cut at a character boundary,
// with "…" appended when cut.
std::string Truncate(std::string_view text, size_t max_bytes);

}  // namespace runbook::report
