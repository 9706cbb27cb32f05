#include "cli/tail_lines.h"

namespace runbook::cli {

namespace {
constexpr size_t kLineChars = 240;
}  // namespace

std::vector<std::string> LastLines(std::string_view text, bool cut, size_t max_lines, bool* more) {
  std::vector<std::string> lines;
  size_t end = text.size();
  *more = false;
  while (end > 0) {
    size_t nl = text.rfind('\n', end - 1);
    size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    if (begin == 0 && cut) {  // a line whose start is not in `text`
      *more = true;
      break;
    }
    size_t stop = end;  // without a CRLF's CR and trailing blanks
    while (stop > begin && (text[stop - 1] == '\r' || text[stop - 1] == ' ' || text[stop - 1] == '\t')) --stop;
    std::string line;
    for (size_t i = begin; i < stop; ++i) {
      unsigned char ch = static_cast<unsigned char>(text[i]);
      line += (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : static_cast<char>(ch);
    }
    if (line.find_first_not_of(" \t") != std::string::npos) {
      if (lines.size() == max_lines) {
        *more = true;
        break;
      }
      if (line.size() > kLineChars) line = line.substr(0, kLineChars) + "…";
      lines.push_back(std::move(line));
    }
    if (nl == std::string_view::npos) break;
    end = nl;
  }
  return {lines.rbegin(), lines.rend()};
}

}  // namespace runbook::cli
