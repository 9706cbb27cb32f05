// The cron parser: syntax, names, macros, the star flags, every error message
// word for word, the day rule, and the systemd OnCalendar conversion.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/cron.h"

namespace runbook::cron {
namespace {

// "0,30" for the set bits of `bits` between min and max, "-" when none.
std::string Bits(std::uint64_t bits, int min, int max) {
  std::string out;
  for (int v = min; v <= max; ++v) {
    if (!((bits >> v) & 1)) continue;
    if (!out.empty()) out += ',';
    out += std::to_string(v);
  }
  return out.empty() ? "-" : out;
}

// The parsed fields, "minutes | hours | days | months | weekdays", with a
// '*' after each field that begins with one; or "error: message".
std::string Parsed(std::string_view text) {
  auto e = ParseCron(text);
  if (!e.ok()) return "error: " + e.status().message();
  auto star = [](bool s) { return s ? "*" : ""; };
  return Bits(e->minutes, 0, 59) + star(e->minute_star) + " | " + Bits(e->hours, 0, 23) + star(e->hour_star) +
         " | " + Bits(e->days_of_month, 1, 31) + star(e->dom_star) + " | " + Bits(e->months, 1, 12) + " | " +
         Bits(e->days_of_week, 0, 6) + star(e->dow_star);
}

const char* const kAllMinutes =
    "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,"
    "37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59";
const char* const kAllHours = "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23";
const char* const kAllDays =
    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31";

struct Case {
  const char* text;
  std::string want;
};

void ExpectAll(const std::vector<Case>& cases) {
  for (const auto& c : cases) EXPECT_EQ(Parsed(c.text), c.want) << c.text;
}

TEST(CronParseTest, ParsesValuesListsRangesAndSteps) {
  ExpectAll({
      {"0 9 * * *", "0 | 9 | " + std::string(kAllDays) + "* | 1,2,3,4,5,6,7,8,9,10,11,12 | 0,1,2,3,4,5,6*"},
      {"0,30 8-10 1,15 6 1-5", "0,30 | 8,9,10 | 1,15 | 6 | 1,2,3,4,5"},
      {"*/15 */6 */10 */4 */2", "0,15,30,45* | 0,6,12,18* | 1,11,21,31* | 1,5,9 | 0,2,4,6*"},
      {"10-30/10 1-23/11 5/9 2/5 1/3", "10,20,30 | 1,12,23 | 5,14,23 | 2,7,12 | 0,1,4"},
      {"5/100 0 1 1 0", "5 | 0 | 1 | 1 | 0"},
      {"05 007 01 01 00", "5 | 7 | 1 | 1 | 0"},
      {"* * * * *", std::string(kAllMinutes) + "* | " + kAllHours + "* | " + kAllDays +
                        "* | 1,2,3,4,5,6,7,8,9,10,11,12 | 0,1,2,3,4,5,6*"},
      {"*,5 5,* * * *", std::string(kAllMinutes) + "* | " + kAllHours + " | " + kAllDays +
                            "* | 1,2,3,4,5,6,7,8,9,10,11,12 | 0,1,2,3,4,5,6*"},
      {"  0\t9  *  *  * \n", "0 | 9 | " + std::string(kAllDays) + "* | 1,2,3,4,5,6,7,8,9,10,11,12 | 0,1,2,3,4,5,6*"},
  });
}

TEST(CronParseTest, SevenAndZeroAreBothSunday) {
  ExpectAll({
      {"0 0 1 1 7", "0 | 0 | 1 | 1 | 0"},
      {"0 0 1 1 0,7", "0 | 0 | 1 | 1 | 0"},
      {"0 0 1 1 5-7", "0 | 0 | 1 | 1 | 0,5,6"},
      {"0 0 1 1 */7", "0 | 0 | 1 | 1 | 0*"},
      {"0 0 1 1 1/3", "0 | 0 | 1 | 1 | 0,1,4"},  // 1, 4, 7 as cronie counts to 7
  });
}

TEST(CronParseTest, AcceptsMonthAndWeekdayNamesInAnyCase) {
  ExpectAll({
      {"0 0 1 JAN,mar,Dec MON", "0 | 0 | 1 | 1,3,12 | 1"},
      {"0 0 1 jun-AUG tue-Thu", "0 | 0 | 1 | 6,7,8 | 2,3,4"},
      {"0 0 1 feb-dec/5 sun,sat", "0 | 0 | 1 | 2,7,12 | 0,6"},
      {"0 0 1 1 FRI-SUN", "0 | 0 | 1 | 1 | 0,5,6"},
      {"0 0 1 1 SUN-SAT", "0 | 0 | 1 | 1 | 0,1,2,3,4,5,6"},
      {"0 0 1 1 SUN-SUN", "0 | 0 | 1 | 1 | 0"},
      {"0 0 1 1 mon-5", "0 | 0 | 1 | 1 | 1,2,3,4,5"},
  });
}

TEST(CronParseTest, ExpandsMacrosAndKeepsTheirText) {
  const std::string months = "1,2,3,4,5,6,7,8,9,10,11,12";
  const std::string week = "0,1,2,3,4,5,6*";
  ExpectAll({
      {"@yearly", "0 | 0 | 1 | 1 | " + week},
      {"@annually", "0 | 0 | 1 | 1 | " + week},
      {"@monthly", "0 | 0 | 1 | " + months + " | " + week},
      {"@weekly", "0 | 0 | " + std::string(kAllDays) + "* | " + months + " | 0"},
      {"@daily", "0 | 0 | " + std::string(kAllDays) + "* | " + months + " | " + week},
      {"@midnight", "0 | 0 | " + std::string(kAllDays) + "* | " + months + " | " + week},
      {"@hourly", "0 | " + std::string(kAllHours) + "* | " + kAllDays + "* | " + months + " | " + week},
      {"@DAILY", "0 | 0 | " + std::string(kAllDays) + "* | " + months + " | " + week},
  });
  EXPECT_EQ(ParseCron("  @daily ")->text, "@daily");
  EXPECT_EQ(ParseCron(" 0 9 * * 1-5\n")->text, "0 9 * * 1-5");
}

TEST(CronParseTest, RejectsBadExpressionsSayingWhy) {
  ExpectAll({
      {"", "error: empty cron expression"},
      {"   ", "error: empty cron expression"},
      {"0 9 * *", "error: expected 5 fields, got 4"},
      {"0 0 9 * * *", "error: expected 5 fields, got 6"},
      {"*/0 * * * *", "error: step must be at least 1 in '*/0'"},
      {"1-5/0 * * * *", "error: step must be at least 1 in '1-5/0'"},
      {"*/x * * * *", "error: invalid step 'x' in '*/x'"},
      {"*/ * * * *", "error: invalid step '' in '*/'"},
      {"*/2/3 * * * *", "error: invalid step '2/3' in '*/2/3'"},
      {"61 * * * *", "error: value 61 out of range 0-59 in minute field"},
      {"0 24 * * *", "error: value 24 out of range 0-23 in hour field"},
      {"0 0 0 * *", "error: value 0 out of range 1-31 in day-of-month field"},
      {"0 0 32 * *", "error: value 32 out of range 1-31 in day-of-month field"},
      {"0 0 * 13 *", "error: value 13 out of range 1-12 in month field"},
      {"0 0 * 0 *", "error: value 0 out of range 1-12 in month field"},
      {"0 0 * * 8", "error: value 8 out of range 0-7 in day-of-week field"},
      {"99999999999999999999 * * * *", "error: value 99999999999999999999 out of range 0-59 in minute field"},
      {"0 0 * * MON-FOO", "error: unknown weekday name 'FOO' in 'MON-FOO'"},
      {"0 0 * * MONDAY", "error: unknown weekday name 'MONDAY' in 'MONDAY'"},
      {"0 0 * JAN-FOO *", "error: unknown month name 'FOO' in 'JAN-FOO'"},
      {"0 MON * * *", "error: invalid value 'MON' in hour field"},
      {"0 0 L * *", "error: invalid value 'L' in day-of-month field"},
      {"5-2 * * * *", "error: range start 5 greater than end 2 in '5-2'"},
      {"0 22-2 * * *", "error: range start 22 greater than end 2 in '22-2'"},
      {"0 0 * * SAT-MON", "error: range start 6 greater than end 1 in 'SAT-MON'"},
      {"5- * * * *", "error: missing value in '5-'"},
      {"-5 * * * *", "error: missing value in '-5'"},
      {"1-2-3 * * * *", "error: invalid value '2-3' in minute field"},
      {"*-5 * * * *", "error: invalid value '*' in minute field"},
      {"1,,2 * * * *", "error: empty list item in '1,,2'"},
      {"1, * * * *", "error: empty list item in '1,'"},
      {"0 0 ? * *", "error: unexpected character '?' in '?'"},
      {"0 0 * * 1#1", "error: unexpected character '#' in '1#1'"},
      {"0 0 * * 1L", "error: invalid value '1L' in day-of-week field"},
      {"@reboot", "error: @reboot is not supported"},
      {"@fortnightly", "error: unknown macro '@fortnightly'"},
      {"@dialy", "error: unknown macro '@dialy' (did you mean '@daily'?)"},
      {"@daily 5", "error: unexpected text after '@daily'"},
  });
}

TEST(CronParseTest, FixedTimeMeansNeitherMinuteNorHourBeginsWithStar) {
  EXPECT_TRUE(ParseCron("30 2 * * *")->IsFixedTime());
  EXPECT_TRUE(ParseCron("0-59 2 * * *")->IsFixedTime());
  EXPECT_TRUE(ParseCron("@daily")->IsFixedTime());
  EXPECT_FALSE(ParseCron("30 * * * *")->IsFixedTime());
  EXPECT_FALSE(ParseCron("*/15 2 * * *")->IsFixedTime());
  EXPECT_FALSE(ParseCron("@hourly")->IsFixedTime());
}

TEST(CronParseTest, DayMatchesEitherFieldOnlyWhenBothAreRestricted) {
  // Vixie OR: "days 1-7 OR Mondays", not "the first Monday".
  CronExpr either = ParseCron("0 9 1-7 * 1").value();
  EXPECT_TRUE(either.MatchesDay(6, 2, 2));    // the 2nd, a Tuesday
  EXPECT_TRUE(either.MatchesDay(6, 15, 1));   // the 15th, a Monday
  EXPECT_FALSE(either.MatchesDay(6, 16, 2));  // neither
  // A field that begins with '*' (even "*/2") makes it AND.
  CronExpr both = ParseCron("0 9 */2 * 1").value();
  EXPECT_TRUE(both.MatchesDay(6, 15, 1));
  EXPECT_FALSE(both.MatchesDay(6, 16, 1));
  EXPECT_FALSE(both.MatchesDay(6, 15, 2));
  CronExpr weekly = ParseCron("0 9 * * 1").value();
  EXPECT_TRUE(weekly.MatchesDay(6, 15, 1));
  EXPECT_FALSE(weekly.MatchesDay(6, 2, 2));
  CronExpr monthly = ParseCron("0 9 1-7 * *").value();
  EXPECT_TRUE(monthly.MatchesDay(6, 2, 2));
  EXPECT_FALSE(monthly.MatchesDay(6, 15, 1));
  // The month always has to match.
  EXPECT_FALSE(ParseCron("0 9 1-7 JAN 1")->MatchesDay(6, 2, 2));
}

TEST(CronParseTest, ConvertsToSystemdOnCalendarLines) {
  struct OnCalendarCase {
    const char* cron;
    std::vector<std::string> want;
  };
  const std::vector<OnCalendarCase> cases = {
      {"0 9 * * *", {"*-*-* 09:00:00"}},
      {"0 9 * * 1-5", {"Mon..Fri *-*-* 09:00:00"}},
      {"*/15 * * * *", {"*-*-* *:00,15,30,45:00"}},
      {"* * * * *", {"*-*-* *:*:00"}},
      {"0 9 1-7 * 1", {"*-*-01..07 09:00:00", "Mon *-*-* 09:00:00"}},
      {"0 9 */2 * 1", {"Mon *-*-01,03,05,07,09,11,13,15,17,19,21,23,25,27,29,31 09:00:00"}},
      {"0 9 1-7 * *", {"*-*-01..07 09:00:00"}},
      {"30 4 1 jan,jun-aug sun,sat,mon", {"*-01,06..08-01 04:30:00", "Mon,Sat,Sun *-01,06..08-* 04:30:00"}},
      {"0 0 * * 0,1,2,4,5", {"Mon,Tue,Thu,Fri,Sun *-*-* 00:00:00"}},
      {"0 0 * * 5-7", {"Fri..Sun *-*-* 00:00:00"}},
      {"@yearly", {"*-01-01 00:00:00"}},
      {"@weekly", {"Sun *-*-* 00:00:00"}},
      {"@hourly", {"*-*-* *:00:00"}},
      {"0-4,6 1,2 * * *", {"*-*-* 01,02:00..04,06:00"}},
  };
  for (const auto& c : cases) EXPECT_EQ(ToOnCalendar(ParseCron(c.cron).value()), c.want) << c.cron;
  EXPECT_EQ(ToOnCalendar(ParseCron("0 9 * * 1").value(), "Europe/Berlin"),
            std::vector<std::string>{"Mon *-*-* 09:00:00 Europe/Berlin"});
}

}  // namespace
}  // namespace runbook::cron
