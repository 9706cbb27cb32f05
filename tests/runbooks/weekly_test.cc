// The weekly routine runbooks (weekly-review, weekly-optimization) run for
// real against the test environment; their SPEC §9 outputs must equal what
// the test computes from the data it generated.
#include <algorithm>
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

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::HasSubstr;


// A value rounded to 2 decimals as "%.2f" prints it.
double Round2(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return std::stod(buf);
}

// --- weekly-review -----------------------------------------------------------------

struct Period {
  std::string start_date, start_time, end_date, end_time;
  bool emergency = false;
  double minutes = 0;
};

TEST_F(RunbooksTest, WeeklyReviewComputesTheWindowsCountsAndExactAverages) {
  Site& s = site();
  s.WriteProfile();
  // The window: the 7 days ending Monday 2025-03-10, i.e. 03-04 .. 03-10.
  const std::string from = "2025-03-04", to = "2025-03-10";
  auto in_window = [&](const std::string& d) { return d >= from && d <= to; };

  // Maintenance periods: start, end, and whether each counts for the mean
  // (it started in the window and ended, possibly after the window).
  std::vector<Period> periods = {
      {"2025-03-03", "23:00:00", "2025-03-04", "01:00:00", false, 120},  // started before the window
      {"2025-03-04", "09:00:00", "2025-03-04", "09:30:00", false, 30},
      {"2025-03-06", "22:00:00", "2025-03-06", "23:15:00", true, 75},
      {"2025-03-08", "10:00:00", "2025-03-08", "11:05:00", false, 65},
      {"2025-03-10", "23:50:00", "2025-03-11", "00:40:00", false, 50},  // ends after the window
  };
  // Entries in time order (the log is chronological).
  std::vector<std::string> entries;
  auto add = [&](const std::string& entry) { entries.push_back(entry); };
  add(LogEntry("2025-03-05", "12:00:00", "INFO", "Maintenance mode deactivated"));  // nothing open: ignored
  int activations = 0, emergencies = 0, counted = 0, blocked = 0;
  double minutes = 0;
  for (const Period& p : periods) {
    if (p.emergency) {
      add(LogEntry(p.start_date, p.start_time, "CRITICAL", "Emergency maintenance activated: reason=attack"));
      if (in_window(p.start_date)) ++emergencies;
    } else {
      add(LogEntry(p.start_date, p.start_time, "WARNING", "Maintenance mode activated: reason=deploy"));
      if (in_window(p.start_date)) ++activations;
    }
    if (p.start_date == "2025-03-08") {
      // Escalated to an emergency within the same period: an emergency
      // activation, not a new period.
      add(LogEntry(p.start_date, "10:20:00", "CRITICAL", "Emergency maintenance activated: reason=escalation"));
      ++emergencies;
    }
    add(LogEntry(p.start_date, p.start_time.substr(0, 6) + "30", "WARNING", "Operation blocked: upload"));
    if (in_window(p.start_date)) ++blocked;
    add(LogEntry(p.end_date, p.end_time, "INFO", "Maintenance mode deactivated"));
    if (in_window(p.start_date)) {
      ++counted;
      minutes += p.minutes;
    }
  }
  // An activation that has not ended is not a period yet.
  add(LogEntry("2025-03-11", "08:00:00", "WARNING", "Maintenance mode activated: reason=tomorrow"));
  std::sort(entries.begin(), entries.end());
  std::string log;
  for (const auto& e : entries) log += e;
  s.Append(s.webapp_log, log);

  // Metrics: values whose last digit the seed's substr() drops, and
  // samples outside the window with extreme values.
  std::vector<std::pair<std::string, std::string>> samples = {
      {"81.29", "67.81"}, {"45.61", "72.09"}, {"90.07", "55.55"}, {"12.53", "64.37"}, {"33.39", "80.01"}};
  std::string metrics = MetricsSample("2025-03-03", "12:00:00", "99.99", "99.99");
  double cpu = 0, mem = 0;
  int i = 0;
  for (const auto& [c, m] : samples) {
    metrics += MetricsSample("2025-03-0" + std::to_string(4 + i), "12:00:00", c, m);
    cpu += std::stod(c);
    mem += std::stod(m);
    ++i;
  }
  metrics += MetricsSample("2025-03-10", "23:59:00", "1.01", "2.02");
  cpu += 1.01;
  mem += 2.02;
  metrics += MetricsSample("2025-03-11", "00:00:00", "0.01", "0.01");
  s.Append(s.metrics_log, metrics);
  const int n = static_cast<int>(samples.size()) + 1;

  // Security events: whole words, in the window.
  std::string sec;
  int events = 0;
  sec += LogEntry("2025-03-03", "10:00:00", "WARNING", "FAILED_LOGIN user=x ip=198.51.100.1", "security");
  for (const char* e : {"FAILED_LOGIN user=a ip=198.51.100.2", "FAILED_LOGIN user=b ip=198.51.100.2",
                        "UNAUTHORIZED access to /admin ip=198.51.100.3", "BLOCKED ip=198.51.100.3"}) {
    sec += LogEntry("2025-03-05", "10:00:00", "WARNING", e, "security");
    ++events;
  }
  sec += LogEntry("2025-03-05", "10:00:01", "INFO", "LOGIN_SUCCESS user=a", "security");
  sec += LogEntry("2025-03-05", "10:00:02", "INFO", "FAILED_LOGINS_RESET user=a", "security");
  sec += LogEntry("2025-03-11", "10:00:00", "WARNING", "BLOCKED ip=198.51.100.9", "security");
  s.Append(s.security_log, sec);

  clitest::Outcome o;
  boost::json::value show = Run("weekly-review", {"-p", "date=" + to}, &o);
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(Number(Output(show, "maintenance_activations")), activations);
  EXPECT_EQ(Number(Output(show, "emergency_activations")), emergencies);
  EXPECT_EQ(Number(Output(show, "blocked_operations")), blocked);
  EXPECT_DOUBLE_EQ(Number(Output(show, "avg_maintenance_minutes")), Round2(minutes / counted));
  EXPECT_DOUBLE_EQ(Number(Output(show, "avg_cpu_percent")), Round2(cpu / n));
  EXPECT_DOUBLE_EQ(Number(Output(show, "avg_memory_percent")), Round2(mem / n));
  EXPECT_EQ(Number(Output(show, "security_events")), events);
  // What the numbers are: 3 activations (03-04, 03-08, 03-10), 2 emergencies,
  // periods of 30, 75, 65 and 50 minutes.
  EXPECT_EQ(activations, 3);
  EXPECT_EQ(emergencies, 2);
  EXPECT_DOUBLE_EQ(minutes / counted, 55.0);
}

TEST_F(RunbooksTest, WeeklyReviewWithoutEndedPeriodsReportsNoAverage) {
  Site& s = site();
  s.WriteProfile();
  s.Append(s.webapp_log, LogEntry("2025-03-09", "10:00:00", "WARNING", "Maintenance mode activated: reason=x"));
  boost::json::value show = Run("weekly-review", {"-p", "date=2025-03-10"});
  EXPECT_EQ(Number(Output(show, "maintenance_activations")), 1);
  EXPECT_TRUE(Output(show, "avg_maintenance_minutes")->is_null());
  EXPECT_TRUE(Output(show, "avg_cpu_percent")->is_null());
  EXPECT_EQ(Number(Output(show, "security_events")), 0);
}

// --- weekly-optimization -----------------------------------------------------------

TEST_F(RunbooksTest, WeeklyOptimizationRemovesSessionsWithoutTtlOldTempFilesAndOldBackups) {
  Site& s = site();
  s.WriteProfile({{"package_cleanup", "false"}, {"logrotate_config", s.dir + "/logrotate.conf"}});
  s.FakeCommand("logrotate");

  // Redis: 7 sessions without a TTL (removed), 5 with one, and keys of
  // other patterns without a TTL (kept).
  std::string cmds;
  for (int i = 0; i < 7; ++i) cmds += "SET " + s.session_prefix + ":session:old" + std::to_string(i) + " u\n";
  for (int i = 0; i < 5; ++i) cmds += "SET " + s.session_prefix + ":session:ttl" + std::to_string(i) + " u EX 3600\n";
  cmds += "SET " + s.session_prefix + ":cache:a 1\nSET " + s.session_prefix + "_other:session:b 1\n";
  env_->RedisPipe(cmds);

  // Temporary files: by name and age (mtime), or by last access (atime).
  auto make = [&](const std::string& path, double atime_days, double mtime_days) {
    s.Append(path, "x\n");
    AgeFile(path, atime_days, mtime_days);
  };
  make(s.tmp_dir + "/vedfolnir_old_export.csv", 0, 10);   // removed: name, mtime
  make(s.tmp_dir + "/vedfolnir_both.tmp", 10, 10);        // removed (once)
  make(s.tmp_dir + "/sub/stale.bin", 10, 10);             // removed: atime
  make(s.tmp_dir + "/vedfolnir_recent.tmp", 0, 2);        // kept
  make(s.tmp_dir + "/fresh.bin", 1, 1);                   // kept
  // Backups: *.sql and *.tar.gz older than 30 days, anywhere below.
  make(s.backup_dir + "/vedfolnir_20250101_020000.sql", 40, 40);   // removed
  make(s.backup_dir + "/app_20250101.tar.gz", 40, 40);             // removed
  make(s.backup_dir + "/older/vedfolnir_20241201.sql", 70, 70);    // removed
  make(s.backup_dir + "/vedfolnir_20250301_020000.sql", 10, 10);   // kept: too young
  make(s.backup_dir + "/redis_20250101.rdb", 40, 40);              // kept: not sql/tar.gz
  // Python caches of the application.
  make(s.app_home + "/app/models.pyc", 0, 0);
  make(s.app_home + "/app/__pycache__/models.cpython-311.pyc", 0, 0);
  make(s.app_home + "/app/models.py", 0, 0);

  clitest::Outcome o;
  boost::json::value show = Run("weekly-optimization", {}, &o);
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(Number(Output(show, "sessions_without_ttl_removed")), 7);
  EXPECT_EQ(Number(Output(show, "old_tmp_files_removed")), 3);
  EXPECT_EQ(Number(Output(show, "old_backups_removed")), 3);
  EXPECT_EQ(StepStatus(show, "optimize-tables"), "succeeded");
  EXPECT_EQ(StepStatus(show, "analyze-tables"), "succeeded");
  EXPECT_EQ(StepStatus(show, "apt-cleanup"), "skipped");

  // What is left is what should be.
  std::string keys = env_->Redis({"--scan", "--pattern", s.session_prefix + "*"});
  EXPECT_THAT(keys, HasSubstr(":session:ttl4"));
  EXPECT_THAT(keys, HasSubstr(":cache:a"));
  EXPECT_THAT(keys, HasSubstr("_other:session:b"));
  EXPECT_THAT(keys, ::testing::Not(HasSubstr(":session:old")));
  EXPECT_TRUE(fs::exists(s.tmp_dir + "/vedfolnir_recent.tmp"));
  EXPECT_TRUE(fs::exists(s.tmp_dir + "/fresh.bin"));
  EXPECT_FALSE(fs::exists(s.tmp_dir + "/vedfolnir_both.tmp"));
  EXPECT_TRUE(fs::exists(s.backup_dir + "/vedfolnir_20250301_020000.sql"));
  EXPECT_TRUE(fs::exists(s.backup_dir + "/redis_20250101.rdb"));
  EXPECT_FALSE(fs::exists(s.backup_dir + "/older/vedfolnir_20241201.sql"));
  EXPECT_FALSE(fs::exists(s.app_home + "/app/models.pyc"));
  EXPECT_FALSE(fs::exists(s.app_home + "/app/__pycache__"));
  EXPECT_TRUE(fs::exists(s.app_home + "/app/models.py"));
  EXPECT_THAT(s.Calls(), Contains("logrotate -f " + s.dir + "/logrotate.conf"));
  // The deleted files are listed in the journal.
  EXPECT_THAT(sandbox_.RawLogs(clitest::JsonString(show, "id"), "backup-cleanup"),
              HasSubstr("removed " + s.backup_dir + "/app_20250101.tar.gz"));
}

}  // namespace
}  // namespace runbook::runbooktest
