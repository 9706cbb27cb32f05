// format_time(t, fmt [, tz]): the only user of <date/tz.h> in engine/expr/.
#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <cmath>
#include <exception>

#include "engine/expr/functions.h"
#include "engine/expr/values.h"

namespace runbook::expr {

namespace {

using std::chrono::seconds;
using Seconds = date::sys_seconds;

// The years format_time() accepts: 0000-01-01 .. 9999-12-31 (UTC).
constexpr std::int64_t kMinEpochSeconds = -62167219200;
constexpr std::int64_t kMaxEpochSeconds = 253402300799;

// Reads `n` digits at `*i` into `out`.
bool Digits(std::string_view s, size_t* i, int n, int* out) {
  if (*i + n > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

// YYYY-MM-DD[(T|t|' ')HH:MM[:SS[.fff]]][Z|z|(+|-)HH[:]MM]; no zone means UTC.
// Fractions of a second are ignored (the result is floored to seconds).
std::optional<Seconds> ParseIsoTime(std::string_view s) {
  s = TrimBlanks(s);
  size_t i = 0;
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, &i, 4, &y) || !Expect(s, &i, '-') || !Digits(s, &i, 2, &mo) || !Expect(s, &i, '-') ||
      !Digits(s, &i, 2, &d))
    return std::nullopt;
  date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                           date::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    ++i;
    if (!Digits(s, &i, 2, &h) || !Expect(s, &i, ':') || !Digits(s, &i, 2, &mi)) return std::nullopt;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!Digits(s, &i, 2, &sec)) return std::nullopt;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;  // 60: a leap second
  }
  int offset = 0;  // minutes east of UTC
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh, om = 0;
    if (!Digits(s, &i, 2, &oh)) return std::nullopt;
    if (i < s.size()) {
      Expect(s, &i, ':');
      if (!Digits(s, &i, 2, &om)) return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset = sign * (oh * 60 + om);
  }
  if (i != s.size()) return std::nullopt;
  return Seconds(date::sys_days(ymd)) + std::chrono::hours(h) + std::chrono::minutes(mi - offset) +
         seconds(sec);
}

std::optional<Seconds> EpochSeconds(const boost::json::value& v) {
  if (const auto* i = v.if_int64()) {
    if (*i < kMinEpochSeconds || *i > kMaxEpochSeconds) return std::nullopt;
    return Seconds(seconds(*i));
  }
  if (const auto* u = v.if_uint64()) {
    if (*u > static_cast<std::uint64_t>(kMaxEpochSeconds)) return std::nullopt;
    return Seconds(seconds(static_cast<std::int64_t>(*u)));
  }
  double d = std::floor(v.get_double());
  if (!(d >= static_cast<double>(kMinEpochSeconds) && d <= static_cast<double>(kMaxEpochSeconds)))
    return std::nullopt;
  return Seconds(seconds(static_cast<std::int64_t>(d)));
}

// The zone for `tz`, or null for UTC. Throws std::runtime_error for an
// unknown name (date::locate_zone).
const date::time_zone* Zone(std::string_view tz) {
  if (tz == "UTC") return nullptr;
  if (tz == "local") {
    try {
      return date::current_zone();
    } catch (const std::exception&) {
      return nullptr;  // no usable /etc/localtime: UTC
    }
  }
  return date::locate_zone(tz);
}

}  // namespace

bool IsKnownTimeZone(std::string_view tz) {
  try {
    Zone(tz);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

Result<boost::json::value> FormatTime(const boost::json::value* args, int n) {
  std::optional<Seconds> t;
  if (const auto* s = args[0].if_string()) {
    t = ParseIsoTime(*s);
    if (!t)
      return Status::InvalidArgument("format_time() cannot read the time " + QuoteValue(*s) +
                                     "; expected ISO-8601 like '2026-11-29T06:53:04Z' or seconds since the epoch");
    if (t->time_since_epoch().count() < kMinEpochSeconds || t->time_since_epoch().count() > kMaxEpochSeconds)
      return Status::InvalidArgument("format_time() time out of range: " + QuoteValue(*s));
  } else {
    t = EpochSeconds(args[0]);
    if (!t) return Status::InvalidArgument("format_time() time out of range: " + ToDisplayString(args[0]));
  }
  std::string fmt(args[1].get_string());
  std::string_view tz = n > 2 ? std::string_view(args[2].get_string()) : std::string_view("local");
  const date::time_zone* zone = nullptr;
  try {
    zone = Zone(tz);
  } catch (const std::exception&) {
    return Status::InvalidArgument("format_time() unknown time zone " + QuoteValue(tz));
  }
  try {
    if (!zone) return boost::json::value(date::format(fmt, *t));
    return boost::json::value(date::format(fmt, date::make_zoned(zone, *t)));
  } catch (const std::exception& e) {
    return Status::InvalidArgument("format_time() cannot format " + QuoteValue(fmt) + ": " + e.what());
  }
}

}  // namespace runbook::expr
