// alert-checks: the operations document's monitoring thresholds as check
// steps. Crafted metrics and request logs must give exactly the expected
// alert periods and windows, each at the document's alert level; live
// figures must match what the test measures itself.
#include <sys/statvfs.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/runbooks/runbooks_env.h"

namespace runbook::runbooktest {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::string Clock(int minute_of_day) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:00", minute_of_day / 60, minute_of_day % 60);
  return buf;
}

// A day of samples, one a minute from 09:55 to 18:15, shaped so that the
// CPU has exactly four alert periods and the memory one:
//   10:00-10:06 CPU 85 (peak 97.5 at 10:03)   6 min   period
//   11:00-11:04 CPU 90                         4 min   too short
//   12:00-12:02 CPU 91, no samples 12:03-12:09, 12:10-12:16 CPU 88
//                                              2 min + 6 min: the second is a period
//   14:00-14:05 CPU 81                         5 min   period (the limit)
//   16:00-16:07 CPU 95 but exactly 80 at 16:03 3 + 3 min: none
//   18:00-18:10 CPU 95                        10 min   period
//   memory 90 from 15:00 to 15:10 (period), exactly 85 from 17:00 to 17:06 (none)
std::string CraftedMetrics(const std::string& day) {
  std::string out = MetricsSample("2025-03-09", "10:00:00", "99", "99");
  for (int m = 9 * 60 + 55; m <= 18 * 60 + 15; ++m) {
    if (m > 12 * 60 + 2 && m < 12 * 60 + 10) continue;  // the gap
    auto in = [&](int h1, int m1, int h2, int m2) { return m >= h1 * 60 + m1 && m <= h2 * 60 + m2; };
    std::string cpu = "20";
    if (in(10, 0, 10, 6)) cpu = m == 10 * 60 + 3 ? "97.5" : "85";
    if (in(11, 0, 11, 4)) cpu = "90";
    if (in(12, 0, 12, 2)) cpu = "91";
    if (in(12, 10, 12, 16)) cpu = "88";
    if (in(14, 0, 14, 5)) cpu = "81";
    if (in(16, 0, 16, 7)) cpu = m == 16 * 60 + 3 ? "80.0" : "95";
    if (in(18, 0, 18, 10)) cpu = "95";
    std::string mem = "50";
    if (in(15, 0, 15, 10)) mem = "90";
    if (in(17, 0, 17, 6)) mem = "85.0";
    out += MetricsSample(day, Clock(m), cpu, mem);
  }
  out += MetricsSample("2025-03-11", "10:00:00", "99", "99");
  return out;
}

// df's Use% for the filesystem of `path`: used / (used + available), rounded up.
int DiskUsePercent(const std::string& path) {
  struct statvfs v;
  if (::statvfs(path.c_str(), &v) != 0) return -1;
  double used = static_cast<double>(v.f_blocks - v.f_bfree) * v.f_frsize;
  double avail = static_cast<double>(v.f_bavail) * v.f_frsize;
  return static_cast<int>(std::ceil(used * 100 / (used + avail)));
}

TEST_F(RunbooksTest, AlertChecksReportEachSustainedPeriodAndTheWorstWindowsAsWarnings) {
  Site& s = site();
  s.StartWeb();
  s.WriteProfile({{"disk_paths", "/"}, {"slow_query_sample_seconds", "1"}});
  const std::string day = "2025-03-10";
  s.Append(s.metrics_log, CraftedMetrics(day));
  // Requests: 09:00-09:05 has 2 errors in 20 (10%), 09:10-09:15 averages
  // 2.5 s, 10:00-10:05 has 1 error in 25 (4%, under the threshold).
  std::string log;
  for (int i = 0; i < 20; ++i) log += RequestEntry(day, "09:0" + std::to_string(i % 5) + ":10", i < 2 ? 500 : 200, "0.100");
  for (const char* t : {"2.000", "3.000", "2.500", "2.500"}) log += RequestEntry(day, "09:12:00", 200, t);
  for (int i = 0; i < 25; ++i) log += RequestEntry(day, "10:01:00", i == 0 ? 503 : 200, "0.050");
  log += RequestEntry("2025-03-09", "09:00:00", 500, "9.000");  // another day
  s.Append(s.webapp_log, log);

  clitest::Outcome o;
  boost::json::value show = Run("alert-checks", {"-p", "date=" + day}, &o);
  EXPECT_EQ(o.exit_code, 0) << o.Describe();  // warnings do not fail the run
  EXPECT_EQ(Number(Output(show, "cpu_alert_periods")), 4);
  EXPECT_EQ(Number(Output(show, "memory_alert_periods")), 1);
  EXPECT_DOUBLE_EQ(Number(Output(show, "worst_error_rate_percent")), 10.0);
  EXPECT_DOUBLE_EQ(Number(Output(show, "worst_avg_response_seconds")), 2.5);
  EXPECT_NEAR(Number(Output(show, "disk_max_percent")), DiskUsePercent("/"), 1.0);
  double connections = Number(Output(show, "mysql_connections_percent"));
  EXPECT_GT(connections, 0);
  EXPECT_LT(connections, 80);
  EXPECT_LT(Number(Output(show, "redis_memory_percent")), 90);

  std::vector<std::string> expected = {
      "warning cpu-period-1: CPU above 80% on 2025-03-10 from 10:00:00 to 10:06:00 (6 min, peak 97.5%)",
      "warning cpu-period-2: CPU above 80% on 2025-03-10 from 12:10:00 to 12:16:00 (6 min, peak 88%)",
      "warning cpu-period-3: CPU above 80% on 2025-03-10 from 14:00:00 to 14:05:00 (5 min, peak 81%)",
      "warning cpu-periods-more: 4 CPU alert periods on 2025-03-10 (all listed in the output of step metric-periods)",
      "warning memory-period-1: Memory above 85% on 2025-03-10 from 15:00:00 to 15:10:00 (10 min, peak 90%)",
      "warning error-rate: Error rate 10% on 2025-03-10 09:00-09:05 (1 window(s) above 5%)",
      "warning response-time: Average response time 2.5 s on 2025-03-10 09:10-09:15 (1 window(s) above 2 s)",
  };
  std::vector<std::string> findings = Findings(show);
  // The disk of the machine running the test may itself be above 90%.
  std::erase_if(findings, [](const std::string& f) { return f.starts_with("warning disk-usage:"); });
  EXPECT_THAT(findings, ::testing::UnorderedElementsAreArray(expected));
  // All four periods are in the step's outputs.
  const boost::json::object* step = clitest::FindStep(show, "metric-periods");
  ASSERT_TRUE(step);
  const boost::json::value& fourth = step->at("outputs").at("cpu").at(3);
  EXPECT_EQ(clitest::JsonString(fourth, "start"), "18:00:00");
  EXPECT_EQ(clitest::JsonString(fourth, "end"), "18:10:00");
  EXPECT_EQ(Number(&fourth.at("minutes")), 10);
  EXPECT_EQ(Number(&fourth.at("peak")), 95);
}

TEST_F(RunbooksTest, AlertChecksRaiseCriticalFindingsForEmergencyMaintenanceAndUnreachableServices) {
  Site& s = site();
  WebFixture& web = s.StartWeb();
  s.WriteProfile({{"mysql_port", "9"}, {"redis_port", "9"}, {"disk_paths", "/"}, {"slow_query_sample_seconds", "1"}});
  ASSERT_EQ(web.Post("/api/maintenance/emergency", R"({"reason": "EMERGENCY: disk failure"})"), 200);

  clitest::Outcome o;
  boost::json::value show = Run("alert-checks", {}, &o);
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  std::vector<std::string> findings = Findings(show);
  std::erase_if(findings, [](const std::string& f) { return f.starts_with("warning disk-usage:"); });
  EXPECT_THAT(findings,
              UnorderedElementsAre(
                  "warning maintenance-active: Maintenance mode is active: EMERGENCY: disk failure",
                  "critical emergency-active: Emergency maintenance is active: EMERGENCY: disk failure",
                  AllOf(HasSubstr("critical mysql-reachable: Database connection failure"), HasSubstr("127.0.0.1:9")),
                  AllOf(HasSubstr("critical redis-reachable: Redis connection failure"), HasSubstr("127.0.0.1:9"))));
  EXPECT_EQ(Number(Output(show, "cpu_alert_periods")), 0);
  EXPECT_TRUE(Output(show, "mysql_connections_percent")->is_null());
}

TEST_F(RunbooksTest, AlertChecksReportAnUnreachableApplicationAsSystemDown) {
  Site& s = site();
  s.WriteProfile({{"app_url", "http://127.0.0.1:9"}, {"disk_paths", "/"}, {"slow_query_sample_seconds", "1"}});
  clitest::Outcome o;
  boost::json::value show = Run("alert-checks", {}, &o);
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  EXPECT_THAT(Findings(show), Contains(AllOf(HasSubstr("critical app-reachable: System down or unreachable"),
                                             HasSubstr("http://127.0.0.1:9/health"))));
}

}  // namespace
}  // namespace runbook::runbooktest
