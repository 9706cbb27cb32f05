#include "engine/diagnostics.h"

#include <algorithm>

namespace runbook {

std::string SourceLoc::ToString() const {
  std::string s = FileName();
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (col > 0) s += ":" + std::to_string(col);
  }
  return s;
}

std::string Diagnostic::Format() const {
  return loc.ToString() + (severity == Severity::kError ? ": error: " : ": warning: ") + message;
}

void Diagnostics::Error(const SourceLoc& loc, std::string message) {
  list_.push_back({loc, Severity::kError, std::move(message)});
  ++errors_;
}

void Diagnostics::Warning(const SourceLoc& loc, std::string message) {
  list_.push_back({loc, Severity::kWarning, std::move(message)});
}

void Diagnostics::SortByLocation() {
  std::stable_sort(list_.begin(), list_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    const std::string fa = a.loc.FileName(), fb = b.loc.FileName();
    if (fa != fb) return fa < fb;
    if (a.loc.line != b.loc.line) return a.loc.line < b.loc.line;
    return a.loc.col < b.loc.col;
  });
}

std::string Diagnostics::FormatAll() const {
  std::string out;
  for (const auto& d : list_) out += d.Format() + "\n";
  return out;
}

void Diagnostics::Append(const Diagnostics& other) {
  for (const auto& d : other.list_) {
    list_.push_back(d);
    if (d.severity == Severity::kError) ++errors_;
  }
}

namespace {
size_t EditDistance(const std::string& a, const std::string& b) {
  // Optimal string alignment: insertions, deletions, substitutions and
  // transpositions of neighbours ("stesp" -> "steps") each cost 1.
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}
}  // namespace

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Plausible typo: at most a third of the word's length wrong (min 1, max 3).
  size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  if (best_d == std::string::npos || best_d > limit) return "";
  return best;
}

std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string m = ClosestMatch(word, candidates);
  return m.empty() ? "" : " (did you mean '" + m + "'?)";
}

}  // namespace runbook
