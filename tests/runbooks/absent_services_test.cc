// Routine runbooks on a machine where MySQL, Redis and the application are
// absent (nothing listens where the site profile says): each run ends —
// no crash, no hang — failed, with critical findings that name what could
// not be reached. (daily-health-check and alert-checks: see their tests.)
#include <chrono>
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

class AbsentServicesTest : public RunbooksTest {
 protected:
  void SetUp() override {
    RunbooksTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Port 9 (discard) of 127.0.0.1: nothing listens there on the test machines.
    site().WriteProfile({{"app_url", "http://127.0.0.1:9"},
                         {"mysql_port", "9"},
                         {"redis_port", "9"},
                         {"package_cleanup", "false"},
                         {"pip", site().bin_dir + "/pip"},
                         {"tls_host", "127.0.0.1"},
                         {"tls_port", "9"}});
    for (const char* c : {"logrotate", "ufw", "apt-get", "apt", "pip"}) site().FakeCommand(c);
  }

  // Runs `name`; expects a failed run, within a minute, with a critical
  // finding from each of `steps` naming 127.0.0.1:9.
  void ExpectCriticalFindings(const std::string& name, const std::vector<std::string>& steps) {
    auto started = std::chrono::steady_clock::now();
    clitest::Outcome o;
    boost::json::value show = Run(name, {}, &o);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60)) << name;
    EXPECT_EQ(o.exit_code, 1) << o.Describe();
    EXPECT_EQ(clitest::JsonString(show, "status"), "failed") << name;
    for (const auto& step : steps)
      EXPECT_THAT(Findings(show), Contains(AllOf(HasSubstr("critical " + step + ":"), HasSubstr("127.0.0.1:9"),
                                                 HasSubstr("exit code "))))
          << name;
  }
};

TEST_F(AbsentServicesTest, WeeklyOptimizationNamesTheDatabaseAndRedis) {
  ExpectCriticalFindings("weekly-optimization", {"db-reachable", "redis-reachable"});
}

TEST_F(AbsentServicesTest, MonthlySecurityAuditNamesTheDatabase) {
  ExpectCriticalFindings("monthly-security-audit", {"db-reachable"});
}

TEST_F(AbsentServicesTest, MonthlyPerformanceReviewNamesTheDatabaseAndRedis) {
  ExpectCriticalFindings("monthly-performance-review", {"db-reachable", "redis-reachable"});
}

}  // namespace
}  // namespace runbook::runbooktest
