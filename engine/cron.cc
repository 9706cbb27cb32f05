// Cron expressions: the parser, the day rule and the OnCalendar conversion.
// Next fire times and time zones are in cron_next.cc.
#include "engine/cron.h"

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diagnostics.h"

namespace runbook::cron {
namespace {

enum class Names { kNone, kMonths, kWeekdays };

struct Field {
  const char* name;  // as in messages: "value 61 out of range 0-59 in minute field"
  int min;
  int max;
  Names names;
};

constexpr Field kFields[5] = {
    {"minute", 0, 59, Names::kNone},       {"hour", 0, 23, Names::kNone},
    {"day-of-month", 1, 31, Names::kNone}, {"month", 1, 12, Names::kMonths},
    {"day-of-week", 0, 7, Names::kWeekdays},
};

constexpr const char* kMonthNames[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kWeekdayNames[7] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct Macro {
  const char* name;
  const char* expansion;
};
constexpr Macro kMacros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

// Values larger than this are only ever reported, never used.
constexpr int kHuge = 1000000;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

std::string Lower(std::string_view s) {
  std::string l(s);
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return l;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitBlanks(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsBlank(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// All digits, at most kHuge. REQUIRES: !s.empty() and all digits.
int ParseDigits(std::string_view s) {
  long long n = 0;
  for (char c : s) {
    n = n * 10 + (c - '0');
    if (n > kHuge) return kHuge + 1;
  }
  return static_cast<int>(n);
}

// One value of a range or list item: a number, or a name where the field
// has names. `item` is for messages.
Result<int> ParseValue(std::string_view v, const Field& f, std::string_view item) {
  if (v.empty()) return Status::InvalidArgument("missing value in " + Quote(item));
  bool digits = true, alpha = true;
  for (char c : v) {
    digits = digits && IsDigit(c);
    alpha = alpha && IsAlpha(c);
  }
  if (digits) {
    int n = ParseDigits(v);
    if (n < f.min || n > f.max) {
      // Print the number as written (minus leading zeros) even when huge.
      std::string_view shown = v;
      while (shown.size() > 1 && shown.front() == '0') shown.remove_prefix(1);
      return Status::InvalidArgument("value " + std::string(shown) + " out of range " +
                                     std::to_string(f.min) + "-" + std::to_string(f.max) + " in " +
                                     f.name + " field");
    }
    return n;
  }
  if (alpha && f.names != Names::kNone) {
    std::string u = Upper(v);
    if (f.names == Names::kMonths) {
      for (int i = 0; i < 12; ++i)
        if (u == kMonthNames[i]) return i + 1;
      return Status::InvalidArgument("unknown month name " + Quote(v) + " in " + Quote(item));
    }
    for (int i = 0; i < 7; ++i)
      if (u == kWeekdayNames[i]) return i;
    return Status::InvalidArgument("unknown weekday name " + Quote(v) + " in " + Quote(item));
  }
  return Status::InvalidArgument("invalid value " + Quote(v) + " in " + f.name + " field");
}

// One list item: `*`, `a`, `a-b`, each optionally followed by `/step`.
// Sets bit v of `bits` for each value v (7 -> 0 for weekdays).
Status ParseItem(std::string_view item, const Field& f, std::uint64_t* bits) {
  for (char c : item) {
    if (!IsDigit(c) && !IsAlpha(c) && c != '*' && c != '-' && c != '/')
      return Status::InvalidArgument("unexpected character " + Quote(std::string(1, c)) + " in " +
                                     Quote(item));
  }
  std::string_view base = item;
  int step = 1;
  bool has_step = false;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    has_step = true;
    base = item.substr(0, slash);
    std::string_view s = item.substr(slash + 1);
    bool ok = !s.empty();
    for (char c : s) ok = ok && IsDigit(c);
    if (!ok) return Status::InvalidArgument("invalid step " + Quote(s) + " in " + Quote(item));
    step = ParseDigits(s);
    if (step < 1) return Status::InvalidArgument("step must be at least 1 in " + Quote(item));
  }
  int lo = f.min, hi = f.max;
  if (base != "*") {
    size_t dash = base.find('-');
    if (dash == std::string_view::npos) {
      auto v = ParseValue(base, f, item);
      if (!v.ok()) return v.status();
      lo = *v;
      hi = has_step ? f.max : lo;
    } else {
      std::string_view a = base.substr(0, dash), b = base.substr(dash + 1);
      auto va = ParseValue(a, f, item);
      if (!va.ok()) return va.status();
      auto vb = ParseValue(b, f, item);
      if (!vb.ok()) return vb.status();
      lo = *va;
      hi = *vb;
      // "FRI-SUN": a range that ends on the name SUN ends on day 7.
      if (f.names == Names::kWeekdays && hi == 0 && lo > 0 && Upper(b) == "SUN") hi = 7;
      if (lo > hi)
        return Status::InvalidArgument("range start " + std::to_string(lo) + " greater than end " +
                                       std::to_string(hi) + " in " + Quote(item));
    }
  }
  for (int v = lo; v <= hi; v += step) {
    int bit = (f.names == Names::kWeekdays && v == 7) ? 0 : v;
    *bits |= std::uint64_t{1} << bit;
  }
  return Status::Ok();
}

Status ParseField(std::string_view text, const Field& f, std::uint64_t* bits) {
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (item.empty()) return Status::InvalidArgument("empty list item in " + Quote(text));
    Status s = ParseItem(item, f, bits);
    if (!s.ok()) return s;
    if (comma == std::string_view::npos) return Status::Ok();
    start = comma + 1;
  }
}

Result<CronExpr> ParseFields(std::string_view text) {
  std::vector<std::string_view> fields = SplitBlanks(text);
  if (fields.size() != 5)
    return Status::InvalidArgument("expected 5 fields, got " + std::to_string(fields.size()));
  std::uint64_t bits[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 5; ++i) {
    Status s = ParseField(fields[i], kFields[i], &bits[i]);
    if (!s.ok()) return s;
  }
  CronExpr e;
  e.minutes = bits[0];
  e.hours = static_cast<std::uint32_t>(bits[1]);
  e.days_of_month = static_cast<std::uint32_t>(bits[2]);
  e.months = static_cast<std::uint16_t>(bits[3]);
  e.days_of_week = static_cast<std::uint8_t>(bits[4]);
  e.minute_star = fields[0].front() == '*';
  e.hour_star = fields[1].front() == '*';
  e.dom_star = fields[2].front() == '*';
  e.dow_star = fields[4].front() == '*';
  return e;
}

Result<CronExpr> ParseMacro(std::string_view text) {
  std::vector<std::string_view> words = SplitBlanks(text);
  std::string name = Lower(words[0]);
  if (words.size() > 1) return Status::InvalidArgument("unexpected text after " + Quote(words[0]));
  if (name == "@reboot") return Status::InvalidArgument("@reboot is not supported");
  std::vector<std::string> names;
  for (const Macro& m : kMacros) {
    if (name == m.name) return ParseFields(m.expansion);
    names.push_back(m.name);
  }
  return Status::InvalidArgument("unknown macro " + Quote(words[0]) + DidYouMean(name, names));
}

// "*" when every value min..max is set, else "01,03..05" (systemd ranges
// for three or more consecutive values).
std::string OnCalendarList(std::uint64_t bits, int min, int max) {
  bool all = true;
  for (int v = min; v <= max; ++v) all = all && ((bits >> v) & 1);
  if (all) return "*";
  auto two = [](int v) { return std::string(1, char('0' + v / 10)) + char('0' + v % 10); };
  std::string out;
  for (int v = min; v <= max; ++v) {
    if (!((bits >> v) & 1)) continue;
    int end = v;
    while (end + 1 <= max && ((bits >> (end + 1)) & 1)) ++end;
    if (!out.empty()) out += ',';
    if (end - v >= 2) {
      out += two(v) + ".." + two(end);
      v = end;
    } else {
      out += two(v);
    }
  }
  return out;
}

// Weekdays in systemd's order (Monday first): "Mon..Fri,Sun".
std::string OnCalendarWeekdays(std::uint8_t bits) {
  static constexpr const char* kNames[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  auto has = [bits](int i) { return ((bits >> ((i + 1) % 7)) & 1) != 0; };  // i: 0 = Monday
  std::string out;
  for (int i = 0; i < 7; ++i) {
    if (!has(i)) continue;
    int end = i;
    while (end + 1 < 7 && has(end + 1)) ++end;
    if (!out.empty()) out += ',';
    out += kNames[i];
    if (end - i >= 2) {
      out += std::string("..") + kNames[end];
      i = end;
    }
  }
  return out;
}

}  // namespace

bool CronExpr::MatchesDay(unsigned month, unsigned day, unsigned weekday) const {
  if (!((months >> month) & 1)) return false;
  bool dom = (days_of_month >> day) & 1;
  bool dow = (days_of_week >> weekday) & 1;
  return (dom_star || dow_star) ? (dom && dow) : (dom || dow);
}

Result<CronExpr> ParseCron(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return Status::InvalidArgument("empty cron expression");
  auto e = text.front() == '@' ? ParseMacro(text) : ParseFields(text);
  if (!e.ok()) return e;
  e->text = std::string(text);
  return e;
}

std::vector<std::string> ToOnCalendar(const CronExpr& e, std::string_view tz) {
  std::string time = OnCalendarList(e.hours, 0, 23) + ":" + OnCalendarList(e.minutes, 0, 59) + ":00";
  std::string months = OnCalendarList(e.months, 1, 12);
  auto line = [&](const std::string& weekdays, const std::string& days) {
    std::string s = weekdays.empty() ? "" : weekdays + " ";
    s += "*-" + months + "-" + days + " " + time;
    if (!tz.empty()) s += " " + std::string(tz);
    return s;
  };
  std::string days = OnCalendarList(e.days_of_month, 1, 31);
  std::string weekdays = e.days_of_week == 0x7f ? "" : OnCalendarWeekdays(e.days_of_week);
  if (!e.dom_star && !e.dow_star) return {line("", days), line(weekdays, "*")};
  return {line(weekdays, days)};
}

}  // namespace runbook::cron
