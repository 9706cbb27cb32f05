// The daily routine runbooks (daily-health-check, daily-review) run for real
// against the test environment (scripts/test-env.sh): their SPEC §9 outputs
// must equal what the test knows about the data it generated — including
// the traps of the operations document's literal commands.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/runbooks/runbooks_env.h"

namespace runbook::runbooktest {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// --- daily-health-check ------------------------------------------------------------

TEST_F(RunbooksTest, DailyHealthCheckReportsMaintenanceRedisSessionsAndDatabaseSize) {
  Site& s = site();
  WebFixture& web = s.StartWeb();
  s.WriteProfile();
  // 9 sessions of this site (some without a TTL) and keys that do not match.
  std::string cmds;
  for (int i = 0; i < 6; ++i) cmds += "SET " + s.session_prefix + ":session:a" + std::to_string(i) + " u EX 3600\n";
  for (int i = 0; i < 3; ++i) cmds += "SET " + s.session_prefix + ":session:b" + std::to_string(i) + " u\n";
  cmds += "SET " + s.session_prefix + ":cache:x 1\nSET " + s.session_prefix + "x:session:y 1\n";
  env_->RedisPipe(cmds);
  ASSERT_EQ(web.Post("/api/maintenance/enable", R"({"reason": "planned upgrade"})"), 200);

  clitest::Outcome o;
  boost::json::value show = Run("daily-health-check", {}, &o);
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  ASSERT_TRUE(Output(show, "maintenance_active"));
  EXPECT_EQ(*Output(show, "maintenance_active"), boost::json::value(true));
  EXPECT_EQ(*Output(show, "redis_ok"), boost::json::value(true));
  EXPECT_EQ(Number(Output(show, "active_sessions")), 9);
  EXPECT_DOUBLE_EQ(Number(Output(show, "database_size_mb")), DatabaseSizeMb(*env_, s.database));
  // Active maintenance is the document's warning alert: verify it is intentional.
  EXPECT_THAT(Findings(show), ElementsAre(AllOf(HasSubstr("warning maintenance-intentional"),
                                                HasSubstr("planned upgrade"))));
}

TEST_F(RunbooksTest, DailyHealthCheckWithServicesAbsentEndsWithCriticalFindingsNamingThem) {
  Site& s = site();
  // Nothing listens on port 9 (discard) of 127.0.0.1 in the test machines.
  s.WriteProfile({{"app_url", "http://127.0.0.1:9"}, {"mysql_port", "9"}, {"redis_port", "9"},
                  {"health_check_script", s.dir + "/missing.sh"}});
  clitest::Outcome o;
  boost::json::value show = Run("daily-health-check", {}, &o);
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  EXPECT_EQ(clitest::JsonString(show, "status"), "failed");
  std::vector<std::string> findings = Findings(show);
  // Each finding says why: the step's error (steps.ID.error), then what the
  // command printed on stderr.
  EXPECT_THAT(findings, Contains(AllOf(HasSubstr("critical system-healthy"), HasSubstr("missing.sh"),
                                       HasSubstr("exit code 2."))));
  EXPECT_THAT(findings, Contains(AllOf(HasSubstr("critical app-reachable"), HasSubstr("127.0.0.1:9"),
                                       HasSubstr("exit code 7. curl: (7)"))));
  EXPECT_THAT(findings, Contains(AllOf(HasSubstr("critical db-reachable"), HasSubstr("127.0.0.1:9"),
                                       HasSubstr("exit code 1. ERROR"))));
  EXPECT_THAT(findings, Contains(AllOf(HasSubstr("critical redis-reachable"), HasSubstr("127.0.0.1:9"),
                                       HasSubstr("exit code 1. Could not connect to Redis"))));
  EXPECT_THAT(findings, Not(Contains(HasSubstr("redis-pong"))));  // not reached, not a second finding
  EXPECT_EQ(*Output(show, "redis_ok"), boost::json::value(false));
  EXPECT_TRUE(Output(show, "active_sessions")->is_null());
  EXPECT_TRUE(Output(show, "database_size_mb")->is_null());
}

TEST_F(RunbooksTest, DailyHealthCheckWithoutTheDatabasePasswordSaysSoInItsFinding) {
  Site& s = site();
  s.WriteProfile();
  sandbox_.UnsetEnv("MYSQL_PASSWORD");
  clitest::Outcome o;
  boost::json::value show = Run("daily-health-check", {}, &o);
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  // db-connections never ran (its secret has no value); the finding carries
  // the step's error instead of an empty stderr.
  EXPECT_EQ(StepStatus(show, "db-connections"), "failed");
  EXPECT_THAT(Findings(show), Contains(AllOf(HasSubstr("critical db-reachable: Database connection failure"),
                                             HasSubstr("secret 'MYSQL_PASSWORD' is not available: environment "
                                                       "variable MYSQL_PASSWORD is not set"))));
}

TEST_F(RunbooksTest, DailyHealthCheckReportsARedisThatAnswersPingWithAnErrorReply) {
  Site& s = site();
  s.WriteProfile();
  // A Redis still loading its dataset answers every command with an error
  // reply, which redis-cli prints on stdout and exits 0 (checked against a
  // socket answering -LOADING).
  s.FakeCommand("redis-cli", "LOADING Redis is loading the dataset in memory\n", 0);
  clitest::Outcome o;
  boost::json::value show = Run("daily-health-check", {}, &o);
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  std::vector<std::string> findings = Findings(show);
  EXPECT_THAT(findings, Contains(AllOf(HasSubstr("critical redis-pong: Redis connection failure"),
                                       HasSubstr("PING answered 'LOADING Redis is loading the dataset in memory'"))));
  EXPECT_THAT(findings, Not(Contains(HasSubstr("redis-reachable"))));
  EXPECT_EQ(*Output(show, "redis_ok"), boost::json::value(false));
}

// --- daily-review ------------------------------------------------------------------

TEST_F(RunbooksTest, DailyReviewCountsTheDaysEntriesByDateAndLevel) {
  Site& s = site();
  s.WriteProfile();
  const std::string day = "2025-03-10", before = "2025-03-09", after = "2025-03-11";
  std::string log;
  // Yesterday: an error whose message names today's date (the seed's grep counts it).
  log += LogEntry(before, "23:59:58", "ERROR", "job scheduled for " + day + " failed");
  log += LogEntry(before, "23:59:59", "WARNING", "Maintenance mode activated: reason=late deploy");
  int activations = 0, blocked = 0, errors = 0;
  log += LogEntry(day, "01:00:00", "WARNING", "Maintenance mode activated: reason=deploy"), ++activations;
  log += LogEntry(day, "01:05:00", "WARNING", "Operation blocked: caption generation (maintenance)"), ++blocked;
  log += LogEntry(day, "01:06:00", "WARNING", "Operation blocked: image upload (maintenance)"), ++blocked;
  log += LogEntry(day, "01:30:00", "INFO", "Maintenance mode deactivated");
  log += LogEntry(day, "09:00:00", "ERROR", "Database connection lost"), ++errors;
  log += "Traceback (most recent call last):\n  File \"app.py\", line 12 ERROR CRITICAL\n";
  log += LogEntry(day, "09:01:00", "CRITICAL", "Worker pool exhausted"), ++errors;
  // A WARNING whose message contains the word ERROR is not an error entry.
  log += LogEntry(day, "10:00:00", "WARNING", "upstream answered ERROR 502; retrying");
  log += LogEntry(day, "10:00:01", "INFO", "retry succeeded after ERROR");
  log += LogEntry(day, "14:00:00", "CRITICAL", "Emergency maintenance activated: reason=disk full");
  ++errors;  // (CRITICAL: an error entry; not a "Maintenance mode activated")
  log += LogEntry(day, "15:00:00", "WARNING", "Maintenance mode activated: reason=hotfix"), ++activations;
  log += LogEntry(day, "15:02:00", "WARNING", "Operation blocked: batch job"), ++blocked;
  log += RequestEntry(day, "15:03:00", 500, "0.200");
  log += LogEntry(after, "00:00:01", "ERROR", "tomorrow's error");
  log += LogEntry(after, "00:00:02", "WARNING", "Operation blocked: tomorrow");
  s.Append(s.webapp_log, log);

  // The peak is neither the last sample of the day nor the largest as text
  // ("99.5" > "100.0"); other days have higher values.
  std::string metrics;
  metrics += MetricsSample(before, "23:59:00", "100.0", "50.0");
  metrics += MetricsSample(day, "08:00:00", "45.2", "60.1");
  metrics += MetricsSample(day, "09:00:00", "100.0", "70.2");
  metrics += MetricsSample(day, "10:00:00", "99.5", "71.0");
  metrics += MetricsSample(day, "11:00:00", "9.75", "40.0");
  metrics += MetricsSample(after, "00:01:00", "100.0", "99.0");
  s.Append(s.metrics_log, metrics);

  // Backups: files whose name carries 20250310 as a date.
  for (const char* f : {"vedfolnir_20250310_020000.sql", "app_20250310.tar.gz", "redis_20250310_0200.rdb",
                        "vedfolnir_20250309_020000.sql", "dump_202503100.sql", "x20250310.log"})
    s.Append(s.backup_dir + "/" + f, "backup\n");
  std::filesystem::create_directories(s.backup_dir + "/logs_emergency_20250310_101010");
  const int backups = 4;  // the first three and x20250310.log

  clitest::Outcome o;
  boost::json::value show = Run("daily-review", {"-p", "date=" + day}, &o);
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(Number(Output(show, "maintenance_activations")), activations);
  EXPECT_EQ(Number(Output(show, "blocked_operations")), blocked);
  EXPECT_EQ(Number(Output(show, "errors")), errors);
  EXPECT_DOUBLE_EQ(Number(Output(show, "peak_cpu_percent")), 100.0);
  EXPECT_EQ(Number(Output(show, "backups_for_date")), backups);
  EXPECT_THAT(Findings(show), IsEmpty());
}

TEST_F(RunbooksTest, DailyReviewWarnsWhenTheDayHasNoBackupAndNoMetrics) {
  Site& s = site();
  s.WriteProfile();
  s.Append(s.webapp_log, LogEntry("2025-03-10", "09:00:00", "INFO", "quiet day"));
  s.Append(s.backup_dir + "/vedfolnir_20250309_020000.sql", "yesterday\n");
  boost::json::value show = Run("daily-review", {"-p", "date=2025-03-10"});
  EXPECT_EQ(Number(Output(show, "backups_for_date")), 0);
  EXPECT_EQ(Number(Output(show, "errors")), 0);
  EXPECT_TRUE(Output(show, "peak_cpu_percent")->is_null());
  EXPECT_THAT(Findings(show), ElementsAre(HasSubstr("warning backups-present")));
}

}  // namespace
}  // namespace runbook::runbooktest
