// NextFire against systemd's calendar implementation: each expression is
// converted with ToOnCalendar and handed to `systemd-analyze calendar`, and
// the fire times must agree. Only fires before the zone's next DST transition
// are compared (systemd has its own DST behaviour). Skipped when
// systemd-analyze is not installed (Debian package `systemd`).
#include <date/tz.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cron.h"

namespace runbook::cron {
namespace {

using std::chrono::sys_seconds;

struct Output {
  int status = -1;
  std::string text;
};

Output RunShell(const std::string& command) {
  Output out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.text.append(buf, n);
  out.status = pclose(pipe);
  return out;
}

// The elapse times systemd-analyze prints (in UTC: it runs with TZ=UTC):
//     Next elapse: Fri 2026-05-01 07:00:00 UTC
//        Iter. #2: Fri 2026-05-01 07:15:00 UTC
std::vector<sys_seconds> ParseElapses(const std::string& text) {
  std::vector<sys_seconds> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string label = line.substr(0, colon);
    if (label.find("Next elapse") == std::string::npos && label.find("Iter. #") == std::string::npos) continue;
    std::istringstream in(line.substr(colon + 1));
    sys_seconds t;
    in >> date::parse(" %a %Y-%m-%d %H:%M:%S UTC", t);
    if (!in.fail()) out.push_back(t);
  }
  return out;
}

std::string ShowTimes(const std::vector<sys_seconds>& times) {
  std::string out;
  for (sys_seconds t : times) out += date::format("%FT%TZ ", t);
  return out;
}

TEST(CronSystemdTest, NextFiresMatchSystemdAnalyzeAwayFromTransitions) {
  if (RunShell("command -v systemd-analyze >/dev/null 2>&1").status != 0)
    GTEST_SKIP() << "systemd-analyze not found (Debian package systemd): cannot compare with systemd's calendar";

  const char* const kExprs[] = {
      "0 9 * * *",       "*/15 * * * *",   "0 9 * * 1-5",     "30 4 1,15 * *",   "0 9 1-7 * 1",
      "0 0 * * 7",       "0 12 * * SUN,WED", "5 4 * * sun",   "0 22 * * 1-5",    "23 0-20/2 * * *",
      "0 0 1 */3 *",     "0 8-18 * * MON-FRI", "*/7 3 * * *", "0 0 13 * 5",      "0 */6 * * *",
      "45 23 31 * *",    "0 0 1 JAN,JUL *", "10 2 */2 * *",   "0 12 * * 5-7",    "1-5 1 1 * *",
      "@hourly",         "@daily",          "@weekly",        "@monthly",        "59 23 * * 6",
      "0 6,18 * * *",    "30 1 * 2-11 1",   "0 0 */10 * *",
  };
  struct Where {
    const char* zone;
    const char* base;  // UTC, months away from a DST transition
  };
  const Where kWhere[] = {{"UTC", "2026-01-10T10:17:31Z"},
                          {"Europe/Berlin", "2026-04-10T10:17:31Z"},
                          {"America/New_York", "2026-11-10T10:17:31Z"},
                          {"Asia/Kolkata", "2026-07-10T10:17:31Z"}};
  constexpr int kIterations = 5;

  int cases = 0, compared = 0;
  for (const Where& where : kWhere) {
    const date::time_zone* tz = LocateZone(where.zone).value();
    sys_seconds base;
    std::istringstream in(where.base);
    in >> date::parse("%Y-%m-%dT%H:%M:%SZ", base);
    ASSERT_FALSE(in.fail());
    // Compare only before the next offset change.
    const sys_seconds cutoff = tz->get_info(base).end;
    for (const char* text : kExprs) {
      ++cases;
      CronExpr e = ParseCron(text).value();
      std::set<sys_seconds> systemd;
      for (const std::string& line : ToOnCalendar(e, where.zone)) {
        std::string command = "TZ=UTC systemd-analyze calendar --iterations=" + std::to_string(kIterations) +
                              " --base-time=@" + std::to_string(base.time_since_epoch().count()) + " '" + line +
                              "' 2>&1";
        Output out = RunShell(command);
        ASSERT_EQ(out.status, 0) << command << "\n" << out.text;
        for (sys_seconds t : ParseElapses(out.text)) systemd.insert(t);
      }
      // Of two OnCalendar lines (Vixie OR) the first kIterations of the
      // union are among the first kIterations of each.
      std::vector<sys_seconds> want(systemd.begin(), systemd.end());
      if (want.size() > kIterations) want.resize(kIterations);
      std::vector<sys_seconds> got = NextFires(e, tz, base, kIterations);
      auto beyond = [cutoff](sys_seconds t) { return t >= cutoff; };
      want.erase(std::remove_if(want.begin(), want.end(), beyond), want.end());
      got.erase(std::remove_if(got.begin(), got.end(), beyond), got.end());
      EXPECT_EQ(ShowTimes(got), ShowTimes(want))
          << "'" << text << "' in " << where.zone << " as " << ToOnCalendar(e, where.zone)[0];
      compared += static_cast<int>(want.size());
    }
  }
  EXPECT_EQ(cases, 112);
  EXPECT_GE(compared, 400);  // not vacuous
  std::printf("systemd-analyze: %d cases, %d fires compared\n", cases, compared);
}

}  // namespace
}  // namespace runbook::cron
