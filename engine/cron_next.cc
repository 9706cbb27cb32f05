// Next fire times of a cron expression in a time zone, and the zone helpers.
//
// The search walks the zone's UTC offset periods (date::sys_info) in order.
// Inside one period local time is UTC plus a constant, so the first matching
// local minute in the period's local range is its first fire. At the boundary
// between two periods the DST rules apply: a forward jump leaves a gap of
// local times (fixed-time expressions fire once at the jump for the slots in
// it), a backward jump repeats local times (fixed-time expressions skip the
// repetition).
#include <date/tz.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "engine/cron.h"
#include "engine/diagnostics.h"

namespace runbook::cron {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;
using LocalSeconds = date::local_seconds;
using LocalDays = date::local_days;

const sys_seconds kEarliest = date::sys_days{date::year{1} / 1 / 1};
const sys_seconds kLatest = date::sys_days{date::year{9000} / 1 / 1};

LocalSeconds ToLocal(sys_seconds t, seconds offset) { return LocalSeconds{(t + offset).time_since_epoch()}; }
sys_seconds ToSys(LocalSeconds t, seconds offset) { return sys_seconds{t.time_since_epoch() - offset}; }

// The first local time L with lo <= L < hi, on a whole local minute, that the
// expression matches; nullopt if none.
std::optional<LocalSeconds> FirstMatch(const CronExpr& e, LocalSeconds lo, LocalSeconds hi) {
  LocalSeconds t = std::chrono::ceil<std::chrono::minutes>(lo);
  LocalDays day = std::chrono::floor<date::days>(t);
  int minute_of_day = static_cast<int>((t - day) / std::chrono::minutes{1});
  while (day < hi) {
    date::year_month_day ymd{day};
    unsigned month = static_cast<unsigned>(ymd.month());
    if (!((e.months >> month) & 1)) {
      date::year_month next = ymd.year() / ymd.month() + date::months{1};
      day = LocalDays{next / 1};
      minute_of_day = 0;
      continue;
    }
    if (e.MatchesDay(month, static_cast<unsigned>(ymd.day()), date::weekday{day}.c_encoding())) {
      for (int h = minute_of_day / 60; h < 24; ++h) {
        if (!((e.hours >> h) & 1)) continue;
        int from = h == minute_of_day / 60 ? minute_of_day % 60 : 0;
        std::uint64_t left = (e.minutes >> from) << from;
        if (left == 0) continue;
        LocalSeconds match = day + std::chrono::hours{h} + std::chrono::minutes{std::countr_zero(left)};
        if (match >= hi) return std::nullopt;
        return match;
      }
    }
    day += date::days{1};
    minute_of_day = 0;
  }
  return std::nullopt;
}

}  // namespace

std::optional<sys_seconds> NextFire(const CronExpr& e, const date::time_zone* tz, sys_seconds after) {
  if (after < kEarliest || after > kLatest) return std::nullopt;
  const bool fixed = e.IsFixedTime();
  const sys_seconds limit = after + kSearchHorizon;
  sys_seconds t = after + seconds{1};
  while (t <= limit) {
    date::sys_info info = tz->get_info(t);
    date::sys_info prev = tz->get_info(info.begin - seconds{1});
    const seconds off = info.offset, prev_off = prev.offset;
    LocalSeconds lo = ToLocal(t, off);
    if (fixed && off > prev_off && t == info.begin) {
      // Spring forward: local times [begin + prev_off, begin + off) never
      // happen. A fixed-time slot among them fires once, at the jump.
      if (FirstMatch(e, ToLocal(info.begin, prev_off), ToLocal(info.begin, off))) return info.begin;
    }
    if (fixed && off < prev_off) {
      // Fall back: local times before begin + prev_off happened already in the
      // previous period; a fixed-time slot fires only at its first occurrence.
      lo = std::max(lo, ToLocal(info.begin, prev_off));
    }
    const sys_seconds end = std::min(info.end, limit + seconds{1});
    if (auto match = FirstMatch(e, lo, ToLocal(end, off))) return ToSys(*match, off);
    t = info.end;
  }
  return std::nullopt;
}

std::vector<sys_seconds> NextFires(const CronExpr& e, const date::time_zone* tz, sys_seconds after, int count) {
  std::vector<sys_seconds> out;
  for (int i = 0; i < count; ++i) {
    auto next = NextFire(e, tz, after);
    if (!next) break;
    out.push_back(*next);
    after = *next;
  }
  return out;
}

Result<const date::time_zone*> LocateZone(std::string_view name) {
  if (name.empty()) {
    // The system's zone: $TZ when it names a zone (":Europe/Berlin" too), as
    // for the C library; otherwise /etc/localtime.
    if (const char* env = std::getenv("TZ"); env && *env) {
      try {
        return date::locate_zone(env[0] == ':' ? env + 1 : env);
      } catch (const std::exception&) {
      }
    }
    try {
      return date::current_zone();
    } catch (const std::exception&) {
      // No /etc/localtime: libc treats local time as UTC, so do we.
      name = "UTC";
    }
  }
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
  }
  std::vector<std::string> names;
  try {
    const date::tzdb& db = date::get_tzdb();
    for (const auto& z : db.zones) names.push_back(z.name());
  } catch (const std::exception& e) {
    return Status::InvalidArgument("unknown time zone '" + std::string(name) + "' (" + e.what() + ")");
  }
  return Status::InvalidArgument("unknown time zone '" + std::string(name) + "'" +
                                 DidYouMean(std::string(name), names));
}

std::string ZoneName(const date::time_zone* tz) { return std::string(tz->name()); }

std::string FormatIso(sys_seconds t, const date::time_zone* tz) {
  const seconds off = tz->get_info(t).offset;
  const LocalSeconds local = ToLocal(t, off);
  const LocalDays day = std::chrono::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<seconds> tod{local - day};
  const long long abs_off = off.count() < 0 ? -off.count() : off.count();
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%c%02lld:%02lld",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), static_cast<int>(tod.hours().count()),
                        static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()),
                        off.count() < 0 ? '-' : '+', abs_off / 3600, abs_off / 60 % 60);
  std::string out(buf, static_cast<size_t>(n));
  if (abs_off % 60 != 0) {
    std::snprintf(buf, sizeof buf, ":%02lld", abs_off % 60);
    out += buf;
  }
  return out;
}

}  // namespace runbook::cron
