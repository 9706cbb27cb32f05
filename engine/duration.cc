#include "engine/duration.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace runbook {

std::optional<Millis> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  int last_rank = 100;  // units must appear in decreasing order
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    std::string number(text.substr(start, i - start));
    if (number.front() == '.' || number.back() == '.' ||
        number.find('.') != number.rfind('.'))
      return std::nullopt;
    double v = std::strtod(number.c_str(), nullptr);
    size_t ustart = i;
    while (i < text.size() && isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    double factor;
    int rank;
    if (unit.empty()) {
      if (any || i != text.size()) return std::nullopt;  // bare number only on its own
      factor = 1000, rank = 2;
    } else if (unit == "ms") {
      factor = 1, rank = 1;
    } else if (unit == "s") {
      factor = 1000, rank = 2;
    } else if (unit == "m") {
      factor = 60e3, rank = 3;
    } else if (unit == "h") {
      factor = 3600e3, rank = 4;
    } else if (unit == "d") {
      factor = 86400e3, rank = 5;
    } else {
      return std::nullopt;
    }
    if (rank >= last_rank) return std::nullopt;
    last_rank = rank;
    total_ms += v * factor;
    any = true;
  }
  if (!std::isfinite(total_ms) || total_ms > 1e15) return std::nullopt;
  return Millis(static_cast<long long>(std::llround(total_ms)));
}

std::string BadDurationMessage(std::string_view text) {
  return "invalid duration '" + std::string(text) + "' (use e.g. 30s, 5m, 1h30m)";
}

std::string FormatDuration(Millis d) {
  long long ms = d.count();
  if (ms < 0) return "-" + FormatDuration(Millis(-ms));
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms % 1000 != 0 && ms < 60000) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.1fs", ms / 1000.0);
    return buf;
  }
  long long s = ms / 1000;
  std::string out;
  const std::pair<long long, const char*> units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (auto [size, name] : units) {
    if (s >= size) {
      out += std::to_string(s / size) + name;
      s %= size;
    }
  }
  return out;
}

}  // namespace runbook
