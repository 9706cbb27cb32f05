// Source locations and compile diagnostics.
//
// Every error the loader, the compiler or the expression checker reports is a
// Diagnostic with a location, rendered as `file:line:col: error: message`
// (STYLE.md rule 6: these strings are API and tests compare them verbatim).
// Diagnostics collects them in report order; a definition is usable only
// when it holds no error. Not thread-safe; one per load.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace runbook {

struct SourceLoc {
  std::shared_ptr<const std::string> file;  // shared: one string per loaded file
  int line = 0;                             // 1-based; 0 = unknown
  int col = 0;                              // 1-based; 0 = unknown

  std::string FileName() const { return file ? *file : std::string("<input>"); }
  // "file:line:col" (or "file" when the position is unknown).
  std::string ToString() const;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  SourceLoc loc;
  Severity severity = Severity::kError;
  std::string message;

  // "file:line:col: error: message"
  std::string Format() const;
};

class Diagnostics {
 public:
  void Error(const SourceLoc& loc, std::string message);
  void Warning(const SourceLoc& loc, std::string message);

  bool has_errors() const { return errors_ > 0; }
  int error_count() const { return errors_; }
  const std::vector<Diagnostic>& all() const { return list_; }
  // Stable order: by file, then line, then column, then report order.
  void SortByLocation();
  // All diagnostics, one formatted line each, '\n'-terminated.
  std::string FormatAll() const;
  void Append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> list_;
  int errors_ = 0;
};

// Closest candidate to `word` by edit distance (for "did you mean"), or "" if
// none is close enough to be a plausible typo.
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "".
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace runbook
