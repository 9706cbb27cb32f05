// Next fire times written out by hand: calendar edge cases, the Vixie day
// rule, names and macros, and the cronie daylight-saving rules in New York,
// Berlin and Lord Howe (a 30-minute shift). Every DST case names its rule.
// Also the zone helpers and ISO formatting. All instants are fixed, all zones
// explicit: nothing depends on the machine's clock or TZ.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cron.h"

namespace runbook::cron {
namespace {

using std::chrono::sys_seconds;

sys_seconds Utc(const std::string& iso) {  // "2026-03-28T12:00:00Z"
  std::istringstream in(iso);
  sys_seconds t;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
  EXPECT_FALSE(in.fail()) << iso;
  return t;
}

const date::time_zone* Zone(std::string_view name) { return LocateZone(name).value(); }

// The next `count` fires of `expr` in `zone` after `from` (UTC), as ISO-8601
// local times with offsets; {"error: ..."} when the expression is invalid.
std::vector<std::string> Fires(std::string_view expr, std::string_view zone, const std::string& from, int count) {
  auto e = ParseCron(expr);
  if (!e.ok()) return {"error: " + e.status().message()};
  const date::time_zone* tz = Zone(zone);
  std::vector<std::string> out;
  for (sys_seconds t : NextFires(*e, tz, Utc(from), count)) out.push_back(FormatIso(t, tz));
  return out;
}

using Want = std::vector<std::string>;

TEST(CronNextTest, FiresStrictlyAfterTheStartInstant) {
  EXPECT_EQ(Fires("0 9 * * *", "UTC", "2026-01-01T00:00:00Z", 2),
            (Want{"2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00"}));
  EXPECT_EQ(Fires("0 9 * * *", "UTC", "2026-01-01T09:00:00Z", 1), (Want{"2026-01-02T09:00:00+00:00"}));
  EXPECT_EQ(Fires("0 9 * * *", "UTC", "2026-01-01T08:59:59Z", 1), (Want{"2026-01-01T09:00:00+00:00"}));
  EXPECT_EQ(Fires("* * * * *", "UTC", "2026-01-01T08:59:30Z", 2),
            (Want{"2026-01-01T09:00:00+00:00", "2026-01-01T09:01:00+00:00"}));
}

TEST(CronNextTest, RollsOverMonthsAndYears) {
  EXPECT_EQ(Fires("0 0 1 1 *", "UTC", "2026-12-31T23:59:59Z", 2),
            (Want{"2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"}));
  EXPECT_EQ(Fires("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", 1), (Want{"2027-12-31T23:59:00+00:00"}));
  EXPECT_EQ(Fires("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", 3),
            (Want{"2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00"}));
  EXPECT_EQ(Fires("*/20 23 31 12 *", "Asia/Tokyo", "2026-12-31T14:30:00Z", 3),
            (Want{"2026-12-31T23:40:00+09:00", "2027-12-31T23:00:00+09:00", "2027-12-31T23:20:00+09:00"}));
}

TEST(CronNextTest, FindsLeapDaysEvenEightYearsApart) {
  EXPECT_EQ(Fires("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 2),
            (Want{"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"}));
  // 2100 is not a leap year.
  EXPECT_EQ(Fires("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", 1), (Want{"2104-02-29T00:00:00+00:00"}));
}

TEST(CronNextTest, ReturnsNothingForDatesThatNeverExist) {
  EXPECT_EQ(Fires("0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z", 1), Want{});
  EXPECT_EQ(Fires("0 0 31 4,6,9,11 *", "Europe/Berlin", "2026-01-01T00:00:00Z", 1), Want{});
  // Outside the supported years.
  auto e = ParseCron("* * * * *").value();
  EXPECT_FALSE(NextFire(e, Zone("UTC"), Utc("9500-01-01T00:00:00Z")).has_value());
  EXPECT_FALSE(NextFire(e, Zone("UTC"), sys_seconds::max()).has_value());
  EXPECT_FALSE(NextFire(e, Zone("UTC"), sys_seconds::min()).has_value());
}

TEST(CronNextTest, RestrictedDayOfMonthAndWeekdayFireOnEither) {
  // "0 9 1-7 * 1" is days 1-7 OR Mondays (Vixie), not "the first Monday".
  EXPECT_EQ(Fires("0 9 1-7 * 1", "UTC", "2026-06-30T12:00:00Z", 10),
            (Want{"2026-07-01T09:00:00+00:00", "2026-07-02T09:00:00+00:00", "2026-07-03T09:00:00+00:00",
                  "2026-07-04T09:00:00+00:00", "2026-07-05T09:00:00+00:00", "2026-07-06T09:00:00+00:00",
                  "2026-07-07T09:00:00+00:00", "2026-07-13T09:00:00+00:00", "2026-07-20T09:00:00+00:00",
                  "2026-07-27T09:00:00+00:00"}));
  // A day field beginning with '*' makes it AND: odd days that are Mondays.
  EXPECT_EQ(Fires("0 9 */2 * 1", "UTC", "2026-06-30T12:00:00Z", 3),
            (Want{"2026-07-13T09:00:00+00:00", "2026-07-27T09:00:00+00:00", "2026-08-03T09:00:00+00:00"}));
  EXPECT_EQ(Fires("0 9 * * 1", "UTC", "2026-06-30T12:00:00Z", 2),
            (Want{"2026-07-06T09:00:00+00:00", "2026-07-13T09:00:00+00:00"}));
}

TEST(CronNextTest, NamesAndSevenMeanTheSameDays) {
  const Want sundays = {"2026-07-05T12:00:00+00:00", "2026-07-12T12:00:00+00:00"};
  for (const char* e : {"0 12 * * 0", "0 12 * * 7", "0 12 * * SUN", "0 12 * * sun", "0 12 * JAN-DEC 7"})
    EXPECT_EQ(Fires(e, "UTC", "2026-07-01T00:00:00Z", 2), sundays) << e;
  EXPECT_EQ(Fires("0 12 * * 5-7", "UTC", "2026-07-01T00:00:00Z", 4),
            (Want{"2026-07-03T12:00:00+00:00", "2026-07-04T12:00:00+00:00", "2026-07-05T12:00:00+00:00",
                  "2026-07-10T12:00:00+00:00"}));
  EXPECT_EQ(Fires("0 0 1 feb,AUG *", "UTC", "2026-07-01T00:00:00Z", 2),
            (Want{"2026-08-01T00:00:00+00:00", "2027-02-01T00:00:00+00:00"}));
}

TEST(CronNextTest, MacrosFireLikeTheirExpansions) {
  const std::string from = "2026-07-01T10:30:00Z";  // a Wednesday
  EXPECT_EQ(Fires("@hourly", "UTC", from, 2), (Want{"2026-07-01T11:00:00+00:00", "2026-07-01T12:00:00+00:00"}));
  EXPECT_EQ(Fires("@daily", "UTC", from, 1), (Want{"2026-07-02T00:00:00+00:00"}));
  EXPECT_EQ(Fires("@midnight", "UTC", from, 1), (Want{"2026-07-02T00:00:00+00:00"}));
  EXPECT_EQ(Fires("@weekly", "UTC", from, 1), (Want{"2026-07-05T00:00:00+00:00"}));
  EXPECT_EQ(Fires("@monthly", "UTC", from, 1), (Want{"2026-08-01T00:00:00+00:00"}));
  EXPECT_EQ(Fires("@yearly", "UTC", from, 1), (Want{"2027-01-01T00:00:00+00:00"}));
  EXPECT_EQ(Fires("@annually", "UTC", from, 1), (Want{"2027-01-01T00:00:00+00:00"}));
}

TEST(CronNextTest, EvaluatesTheExpressionInItsTimeZone) {
  EXPECT_EQ(Fires("0 9 * * *", "Asia/Kolkata", "2026-07-01T00:00:00Z", 1), (Want{"2026-07-01T09:00:00+05:30"}));
  EXPECT_EQ(Fires("0 9 * * *", "America/Los_Angeles", "2026-07-01T00:00:00Z", 1),
            (Want{"2026-07-01T09:00:00-07:00"}));
  // Monday 09:00 in Auckland is still Sunday in UTC.
  auto e = ParseCron("0 9 * * 1").value();
  EXPECT_EQ(NextFire(e, Zone("Pacific/Auckland"), Utc("2026-07-01T00:00:00Z")), Utc("2026-07-05T21:00:00Z"));
}

// --- Daylight saving. Berlin 2026: 02:00 CET -> 03:00 CEST on 29 March,
// 03:00 CEST -> 02:00 CET on 25 October.

TEST(CronDstTest, BerlinFixedTimeInTheGapFiresOnceAtTheJump) {
  // Rule: fixed-time, skipped by spring-forward -> fires at the first instant after the gap.
  EXPECT_EQ(Fires("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 2),
            (Want{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}));
  EXPECT_EQ(Fires("0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 1), (Want{"2026-03-29T03:00:00+02:00"}));
  // Rule: a time after the gap is an ordinary time.
  EXPECT_EQ(Fires("0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 1), (Want{"2026-03-29T03:00:00+02:00"}));
  // Rule: many skipped fixed slots still fire once.
  EXPECT_EQ(Fires("0-59 2 * * *", "Europe/Berlin", "2026-03-29T00:30:00Z", 2),
            (Want{"2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"}));
  // Rule: once the jump has passed, the skipped slot is gone.
  EXPECT_EQ(Fires("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", 1), (Want{"2026-03-30T02:30:00+02:00"}));
}

TEST(CronDstTest, BerlinStarJobSkipsTheGap) {
  // Rule: '*' job follows real time -> slots in the gap do not exist.
  EXPECT_EQ(Fires("30 * * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", 3),
            (Want{"2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-29T04:30:00+02:00"}));
  EXPECT_EQ(Fires("*/30 2 * * *", "Europe/Berlin", "2026-03-28T23:00:00Z", 1), (Want{"2026-03-30T02:00:00+02:00"}));
  EXPECT_EQ(Fires("@hourly", "Europe/Berlin", "2026-03-28T23:30:00Z", 3),
            (Want{"2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"}));
}

TEST(CronDstTest, BerlinFixedTimeInTheRepeatedHourFiresOnlyAtTheFirstOccurrence) {
  // Rule: fixed-time, occurring twice at fall-back -> fires once, at the first occurrence.
  EXPECT_EQ(Fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2),
            (Want{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}));
  // Rule: starting between the two occurrences, the second one is not a fire.
  EXPECT_EQ(Fires("30 2 * * *", "Europe/Berlin", "2026-10-25T00:45:00Z", 1), (Want{"2026-10-26T02:30:00+01:00"}));
  EXPECT_EQ(Fires("30 2 * * *", "Europe/Berlin", "2026-10-25T01:15:00Z", 1), (Want{"2026-10-26T02:30:00+01:00"}));
}

TEST(CronDstTest, BerlinStarJobFiresTwiceInTheRepeatedHour) {
  // Rule: '*' job follows real time -> slots in the repeated hour fire twice.
  EXPECT_EQ(Fires("30 * * * *", "Europe/Berlin", "2026-10-24T23:00:00Z", 4),
            (Want{"2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00",
                  "2026-10-25T03:30:00+01:00"}));
  EXPECT_EQ(Fires("*/20 2 * * *", "Europe/Berlin", "2026-10-24T23:30:00Z", 7),
            (Want{"2026-10-25T02:00:00+02:00", "2026-10-25T02:20:00+02:00", "2026-10-25T02:40:00+02:00",
                  "2026-10-25T02:00:00+01:00", "2026-10-25T02:20:00+01:00", "2026-10-25T02:40:00+01:00",
                  "2026-10-26T02:00:00+01:00"}));
  // Rule: starting inside the second occurrence, the rest of it still fires.
  EXPECT_EQ(Fires("*/20 2 * * *", "Europe/Berlin", "2026-10-25T01:10:00Z", 2),
            (Want{"2026-10-25T02:20:00+01:00", "2026-10-25T02:40:00+01:00"}));
}

// New York 2026: 02:00 EST -> 03:00 EDT on 8 March, 02:00 EDT -> 01:00 EST on 1 November.

TEST(CronDstTest, NewYorkFixedTimeInTheGapFiresAtTheJump) {
  // Rule: fixed-time, skipped by spring-forward -> fires at the first instant after the gap.
  EXPECT_EQ(Fires("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2),
            (Want{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}));
  EXPECT_EQ(Fires("0 2 * * SUN", "America/New_York", "2026-03-01T12:00:00Z", 2),
            (Want{"2026-03-08T03:00:00-04:00", "2026-03-15T02:00:00-04:00"}));
  // Rule: '*' job -> slots in the gap do not exist.
  EXPECT_EQ(Fires("*/30 * * * *", "America/New_York", "2026-03-08T06:15:00Z", 3),
            (Want{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"}));
}

TEST(CronDstTest, NewYorkRepeatedHourFiresFixedOnceAndStarTwice) {
  // Rule: fixed-time at fall-back -> once, at the first occurrence (EDT).
  EXPECT_EQ(Fires("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2),
            (Want{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}));
  // Rule: '*' job at fall-back -> each slot of the repeated hour twice.
  EXPECT_EQ(Fires("15,45 * * * *", "America/New_York", "2026-11-01T04:50:00Z", 5),
            (Want{"2026-11-01T01:15:00-04:00", "2026-11-01T01:45:00-04:00", "2026-11-01T01:15:00-05:00",
                  "2026-11-01T01:45:00-05:00", "2026-11-01T02:15:00-05:00"}));
}

// Lord Howe 2026: 02:00 +10:30 -> 02:30 +11 on 4 October (a 30-minute gap),
// 02:00 +11 -> 01:30 +10:30 on 5 April (01:30-01:59 happens twice).

TEST(CronDstTest, LordHoweHalfHourGap) {
  // Rule: fixed-time, skipped by spring-forward -> fires at the first instant after the gap.
  EXPECT_EQ(Fires("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", 2),
            (Want{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}));
  // Rule: a fixed time after the gap is ordinary.
  EXPECT_EQ(Fires("45 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", 1),
            (Want{"2026-10-04T02:45:00+11:00"}));
  // Rule: '*' job -> 02:00 and 02:15 do not exist.
  EXPECT_EQ(Fires("*/15 * * * *", "Australia/Lord_Howe", "2026-10-03T15:00:00Z", 3),
            (Want{"2026-10-04T01:45:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"}));
}

TEST(CronDstTest, LordHoweHalfHourRepeat) {
  // Rule: fixed-time at fall-back -> once, at the first occurrence (+11).
  EXPECT_EQ(Fires("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z", 2),
            (Want{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}));
  // Rule: '*' job at fall-back -> 01:30 and 01:45 twice.
  EXPECT_EQ(Fires("*/15 1 * * *", "Australia/Lord_Howe", "2026-04-04T14:20:00Z", 5),
            (Want{"2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30",
                  "2026-04-05T01:45:00+10:30", "2026-04-06T01:00:00+10:30"}));
}

TEST(CronZoneTest, LocatesZonesAndExplainsUnknownOnes) {
  EXPECT_EQ(ZoneName(Zone("Europe/Berlin")), "Europe/Berlin");
  EXPECT_TRUE(LocateZone("UTC").ok());
  EXPECT_TRUE(LocateZone("").ok());  // the system's zone, whatever it is
  auto typo = LocateZone("Europe/Berln");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().message(), "unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)");
  auto unknown = LocateZone("Nowhere/Atlantis");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown time zone 'Nowhere/Atlantis'");
  EXPECT_EQ(LocateZone("europe/berlin").status().message(),
            "unknown time zone 'europe/berlin' (did you mean 'Europe/Berlin'?)");
}

TEST(CronZoneTest, SystemZoneHonoursTzWhenItNamesAZone) {
  const char* saved = std::getenv("TZ");
  const std::string old = saved ? saved : "";
  setenv("TZ", "Asia/Tokyo", 1);
  EXPECT_EQ(ZoneName(LocateZone("").value()), "Asia/Tokyo");
  setenv("TZ", ":America/Chicago", 1);
  EXPECT_EQ(ZoneName(LocateZone("").value()), "America/Chicago");
  setenv("TZ", "not a zone", 1);
  EXPECT_TRUE(LocateZone("").ok());  // falls back to /etc/localtime or UTC
  if (saved) setenv("TZ", old.c_str(), 1);
  else unsetenv("TZ");
}

TEST(CronZoneTest, FormatsIsoWithTheZoneOffset) {
  EXPECT_EQ(FormatIso(Utc("2026-03-29T01:00:00Z"), Zone("Europe/Berlin")), "2026-03-29T03:00:00+02:00");
  EXPECT_EQ(FormatIso(Utc("2026-03-29T00:59:59Z"), Zone("Europe/Berlin")), "2026-03-29T01:59:59+01:00");
  EXPECT_EQ(FormatIso(Utc("2026-07-01T00:00:00Z"), Zone("UTC")), "2026-07-01T00:00:00+00:00");
  EXPECT_EQ(FormatIso(Utc("2026-07-01T00:00:00Z"), Zone("America/St_Johns")), "2026-06-30T21:30:00-02:30");
  EXPECT_EQ(FormatIso(Utc("2026-07-01T00:00:00Z"), Zone("Asia/Kathmandu")), "2026-07-01T05:45:00+05:45");
  // A historical offset with seconds (Amsterdam Mean Time).
  EXPECT_EQ(FormatIso(Utc("1900-01-01T00:00:00Z"), Zone("Europe/Amsterdam")), "1900-01-01T00:19:32+00:19:32");
}

TEST(CronPerformanceTest, ThousandsOfNextFiresTakeMilliseconds) {
  const char* exprs[] = {"*/5 * * * *", "0 9 * * 1-5", "30 2 * * *", "0 0 1 * *", "0 9 1-7 * 1", "@hourly",
                         "0 0 29 2 *",  "15 3 * * SUN", "0 */6 * * *", "0 0 30 2 *"};
  const date::time_zone* tz = Zone("Europe/Berlin");
  auto start = std::chrono::steady_clock::now();
  int fires = 0;
  for (const char* text : exprs) {
    CronExpr e = ParseCron(text).value();
    sys_seconds t = Utc("2026-01-01T00:00:00Z");
    for (int i = 0; i < 100; ++i) {
      auto next = NextFire(e, tz, t);
      if (!next) break;
      t = *next;
      ++fires;
    }
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(fires, 900);
  // Typically a few milliseconds; the bound only catches a pathological search.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace runbook::cron
