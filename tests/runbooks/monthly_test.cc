// The monthly routine runbooks (monthly-security-audit,
// monthly-performance-review) run for real against the test environment.
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
using ::testing::Not;
using ::testing::UnorderedElementsAre;


// --- monthly-security-audit --------------------------------------------------------

TEST_F(RunbooksTest, MonthlySecurityAuditCountsAdminsActiveOrNotAndKeepsSecretsOutOfTheJournal) {
  Site& s = site();
  s.WriteProfile({{"pip", s.bin_dir + "/pip"}, {"tls_host", "127.0.0.1"}, {"tls_port", "9"}});
  s.FakeCommand("ufw", "Status: active\nDefault: deny (incoming), allow (outgoing)\n");
  s.FakeCommand("apt-get");
  s.FakeCommand("apt", "Listing...\nopenssl/stable-security 3.0.15 amd64 [upgradable from: 3.0.14]\n");
  s.FakeCommand("pip", "Package Version Latest\nflask 2.3.0 3.0.3\n");
  // The fixture has admin1, admin2 (active) and admin3 (inactive); one more
  // inactive admin and a moderator.
  env_->Sql(s.database,
            "INSERT INTO users (username, email, password_hash, role, is_active) VALUES "
            "('root_admin', 'root@example.org', 'x', 'ADMIN', FALSE), ('mod', 'mod@example.org', 'x', 'MODERATOR', TRUE)");
  s.Append(s.env_file,
           "SECURITY_CSRF_ENABLED=true\nRATE_LIMIT_PER_MINUTE=60\nSECURITY_SECRET_KEY=hunter2-do-not-journal\n"
           "DATABASE_URL=mysql://x\n");
  s.Append(s.security_log, LogEntry("2025-03-01", "10:00:00", "CRITICAL", "ATTACK detected from 203.0.113.9", "security"));

  clitest::Outcome o;
  boost::json::value show = Run("monthly-security-audit", {}, &o);
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(Number(Output(show, "admin_users")), 4);
  std::string id = clitest::JsonString(show, "id");
  std::string admins = sandbox_.RawLogs(id, "admin-users");
  EXPECT_THAT(admins, HasSubstr("admin3 (admin3@example.org) [inactive]"));
  EXPECT_THAT(admins, Not(HasSubstr("mod@example.org")));
  std::string settings = sandbox_.RawLogs(id, "security-settings");
  EXPECT_THAT(settings, HasSubstr("RATE_LIMIT_PER_MINUTE=60"));
  EXPECT_THAT(settings, HasSubstr("SECURITY_SECRET_KEY=***"));
  EXPECT_THAT(settings, Not(HasSubstr("hunter2")));
  EXPECT_THAT(settings, Not(HasSubstr("DATABASE_URL")));
  EXPECT_THAT(sandbox_.RawLogs(id, "security-log"), HasSubstr("ATTACK detected"));
  EXPECT_THAT(s.Calls(), Contains("ufw status verbose"));
  EXPECT_THAT(s.Calls(), Contains("apt-get update -qq"));
  EXPECT_THAT(s.Calls(), Contains("pip list --outdated"));
  // No certificate to read on 127.0.0.1:9: a warning, not a failed run.
  EXPECT_THAT(Findings(show), UnorderedElementsAre(AllOf(HasSubstr("warning tls-certificate-read"),
                                                         HasSubstr("127.0.0.1:9"))));
}

TEST_F(RunbooksTest, MonthlySecurityAuditWarnsWhenTheFirewallIsInactive) {
  Site& s = site();
  s.WriteProfile({{"pip", s.bin_dir + "/pip"}, {"tls_host", "127.0.0.1"}, {"tls_port", "9"}});
  s.FakeCommand("ufw", "Status: inactive\n");
  s.FakeCommand("apt-get");
  s.FakeCommand("apt");
  s.FakeCommand("pip");
  boost::json::value show = Run("monthly-security-audit");
  EXPECT_THAT(Findings(show), Contains(AllOf(HasSubstr("warning firewall-active"), HasSubstr("Status: inactive"))));
  EXPECT_EQ(Number(Output(show, "admin_users")), 3);
}

// --- monthly-performance-review ----------------------------------------------------

TEST_F(RunbooksTest, MonthlyPerformanceReviewReportsTheMonthsPeakResponseTimeAndDatabaseSize) {
  Site& s = site();
  s.WriteProfile();
  // The peak of March is neither its last sample nor the largest as text.
  std::string metrics;
  metrics += MetricsSample("2025-02-28", "23:59:00", "99.99", "50");
  metrics += MetricsSample("2025-03-01", "00:00:00", "12.5", "50");
  metrics += MetricsSample("2025-03-10", "09:00:00", "100.0", "50");
  metrics += MetricsSample("2025-03-15", "09:00:00", "99.5", "50");
  metrics += MetricsSample("2025-03-31", "23:59:00", "7.25", "50");
  metrics += MetricsSample("2025-04-01", "00:00:00", "100.0", "50");
  s.Append(s.metrics_log, metrics);
  // Request entries: March's mean response time is (0.100 + 0.300 + 2.600) / 3 = 1.000 s.
  std::string log;
  log += RequestEntry("2025-02-28", "12:00:00", 200, "9.000");
  log += RequestEntry("2025-03-02", "12:00:00", 200, "0.100");
  log += RequestEntry("2025-03-10", "12:00:00", 500, "0.300");
  log += LogEntry("2025-03-10", "12:00:01", "INFO", "GET requests are slow today");  // not a request entry
  log += RequestEntry("2025-03-31", "12:00:00", 200, "2.600");
  log += RequestEntry("2025-04-01", "12:00:00", 200, "9.000");
  s.Append(s.webapp_log, log);

  clitest::Outcome o;
  boost::json::value show = Run("monthly-performance-review", {"-p", "date=2025-03-10"}, &o);
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_DOUBLE_EQ(Number(Output(show, "peak_cpu_percent")), 100.0);
  EXPECT_DOUBLE_EQ(Number(Output(show, "avg_response_seconds")), 1.0);
  EXPECT_DOUBLE_EQ(Number(Output(show, "database_size_mb")), DatabaseSizeMb(*env_, s.database));
  EXPECT_EQ(StepStatus(show, "schedule-guard"), "succeeded");
  EXPECT_THAT(sandbox_.RawLogs(clitest::JsonString(show, "id"), "table-sizes"), HasSubstr("user_sessions"));
}

}  // namespace
}  // namespace runbook::runbooktest
