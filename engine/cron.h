// Cron expressions (SPEC.md §8): parsing, next fire times in an IANA time
// zone with cronie's daylight-saving rules, and conversion to systemd
// OnCalendar= lines. docs/scheduling.md is the user-facing description; the
// rules are restated briefly here.
//
//   CronExpr e = ParseCron("30 2 * * 1-5").value();
//   const date::time_zone* tz = LocateZone("Europe/Berlin").value();
//   NextFire(e, tz, now)  -> the first fire instant strictly after `now`
//
// Syntax: five fields (minute hour day-of-month month day-of-week); `*`,
// lists `a,b`, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (= a to the
// field's maximum); JAN-DEC and SUN-SAT, case-insensitive; 0 and 7 are both
// Sunday; macros @hourly @daily @midnight @weekly @monthly @yearly @annually.
// When both day fields are restricted (neither begins with `*`) a day matches
// if EITHER does (Vixie cron); otherwise both must.
//
// Daylight saving (cronie): a "fixed-time" expression (neither the minute nor
// the hour field begins with `*`) fires once, at the transition instant, for
// its slots skipped by a spring-forward gap, and fires only at the first
// occurrence of a slot repeated by a fall-back. Other expressions follow real
// elapsed time: slots in the gap do not exist, repeated slots fire twice.
//
// Everything here is a pure function of its arguments; CronExpr is a value
// and may be shared between threads. <date/tz.h> stays in the .cc files.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace date {
class time_zone;
}  // namespace date

namespace runbook::cron {

// A parsed expression: one bit per allowed value of each field.
struct CronExpr {
  std::uint64_t minutes = 0;       // bit m: minute m, 0-59
  std::uint32_t hours = 0;         // bit h: hour h, 0-23
  std::uint32_t days_of_month = 0; // bit d: day d, 1-31
  std::uint16_t months = 0;        // bit m: month m, 1-12
  std::uint8_t days_of_week = 0;   // bit d: weekday d, 0 (Sunday) - 6 (Saturday)
  // Whether the field's text begins with `*` (for a macro: of its expansion).
  // minute_star/hour_star select the DST rule, dom_star/dow_star the Vixie rule.
  bool minute_star = false;
  bool hour_star = false;
  bool dom_star = false;
  bool dow_star = false;
  std::string text;  // as written, surrounding blanks removed

  // Neither the minute nor the hour field begins with `*` (cronie's DST rule).
  bool IsFixedTime() const { return !minute_star && !hour_star; }
  // Whether a civil date matches the day fields (Vixie OR rule included).
  // `month` 1-12, `day` 1-31, `weekday` 0 (Sunday) - 6.
  bool MatchesDay(unsigned month, unsigned day, unsigned weekday) const;
};

// Parses `text`. Errors are short and specific, e.g. "expected 5 fields, got
// 6", "value 61 out of range 0-59 in minute field", "step must be at least 1
// in '*/0'", "range start 5 greater than end 2 in '5-2'", "unknown weekday
// name 'FOO' in 'MON-FOO'", "unknown macro '@fortnightly'", "@reboot is not
// supported".
Result<CronExpr> ParseCron(std::string_view text);

// No fire is further than this from the previous one (Feb 29 around 2100 is
// eight years apart); NextFire gives up after it and returns nullopt.
inline constexpr std::chrono::hours kSearchHorizon{24 * 366 * 10};

// The first fire strictly after `after`, evaluating `expr` in `tz` with the
// DST rules above; nullopt when there is none within kSearchHorizon (e.g.
// "0 0 30 2 *") or `after` is outside the years 1-9000.
// REQUIRES: tz != nullptr.
std::optional<std::chrono::sys_seconds> NextFire(const CronExpr& expr, const date::time_zone* tz,
                                                 std::chrono::sys_seconds after);
// Up to `count` successive fires after `after` (fewer if NextFire runs out).
std::vector<std::chrono::sys_seconds> NextFires(const CronExpr& expr, const date::time_zone* tz,
                                                std::chrono::sys_seconds after, int count);

// The IANA zone `name`; "" is the system's zone: $TZ if it names one, else
// /etc/localtime, else UTC. Error: "unknown time zone 'Europe/Berln' (did you
// mean 'Europe/Berlin'?)" (the suggestion only when one is close).
Result<const date::time_zone*> LocateZone(std::string_view name);
// The zone's name ("Europe/Berlin"). REQUIRES: tz != nullptr.
std::string ZoneName(const date::time_zone* tz);

// ISO-8601 local time with the zone's offset: "2026-03-29T03:00:00+02:00"
// ("+00:00" for UTC; "+HH:MM:SS" only for historical offsets with seconds).
// REQUIRES: tz != nullptr.
std::string FormatIso(std::chrono::sys_seconds t, const date::time_zone* tz);

// systemd OnCalendar= lines with the same fire times in zones without DST
// (systemd has its own DST behaviour). One line, or two when the Vixie OR rule
// applies (OnCalendar cannot express "day-of-month OR weekday"); the timer then
// lists both. `tz` (e.g. "Europe/Berlin") is appended when not empty.
// "0 9 * * 1-5" -> {"Mon..Fri *-*-* 09:00:00"}
// "0 9 1-7 * 1" -> {"*-*-01..07 09:00:00", "Mon *-*-* 09:00:00"}
std::vector<std::string> ToOnCalendar(const CronExpr& expr, std::string_view tz = {});

}  // namespace runbook::cron
