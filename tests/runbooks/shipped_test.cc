// The shipped runbooks as a whole, through `runbook validate`, `list` and
// `plan --json` (no services needed): every procedure of the operations
// document has its runbook, they validate without a warning, take the site
// profile's parameters with the seed's values as defaults, report the SPEC
// §9 outputs, carry the seed's schedules, and gate the dangerous commands
// behind approvals.
#include <boost/json/serialize.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/runbooks/runbooks_env.h"

namespace runbook::runbooktest {
namespace {

using ::testing::HasSubstr;

const std::string kRunbooks = std::string(RUNBOOK_SOURCE_DIR) + "/runbooks";

const std::vector<std::string> kAll = {
    "alert-checks",       "daily-health-check", "daily-review",         "data-corruption",
    "emergency-response", "monthly-performance-review", "monthly-security-audit", "security-incident",
    "system-failure",     "weekly-optimization", "weekly-review"};

// SPEC.md §9, "Site profile": the shared parameters and the seed's values.
const std::map<std::string, boost::json::value> kSeedDefaults = {
    {"app_url", "http://localhost:5000"},
    {"app_home", "/opt/vedfolnir"},
    {"webapp_log", "/opt/vedfolnir/logs/webapp.log"},
    {"security_log", "/opt/vedfolnir/logs/security_events.log"},
    {"metrics_log", "/var/log/vedfolnir_metrics.log"},
    {"env_file", "/opt/vedfolnir/.env"},
    {"backup_dir", "/backup"},
    {"tmp_dir", "/tmp"},
    {"health_check_script", "/opt/vedfolnir/scripts/health_check.sh"},
    {"mysql_host", "localhost"},
    {"mysql_port", 3306},
    {"mysql_socket", ""},
    {"mysql_user", "vedfolnir_user"},
    {"mysql_database", "vedfolnir"},
    {"redis_host", "127.0.0.1"},
    {"redis_port", 6379},
    {"redis_dump_file", "/var/lib/redis/dump.rdb"},
    {"session_pattern", "vedfolnir:session:*"},
    {"notify_to", "emergency-team@your-domain.com"},
    {"date", ""},
};

// SPEC.md §9, "What each routine runbook reports".
const std::map<std::string, std::vector<std::string>> kSpecOutputs = {
    {"daily-health-check", {"maintenance_active", "redis_ok", "active_sessions", "database_size_mb"}},
    {"daily-review", {"maintenance_activations", "blocked_operations", "errors", "peak_cpu_percent", "backups_for_date"}},
    {"weekly-review",
     {"maintenance_activations", "emergency_activations", "blocked_operations", "avg_maintenance_minutes",
      "avg_cpu_percent", "avg_memory_percent", "security_events"}},
    {"alert-checks", {"cpu_alert_periods", "memory_alert_periods"}},
    {"monthly-security-audit", {"admin_users"}},
    {"monthly-performance-review", {"peak_cpu_percent", "database_size_mb"}},
    {"weekly-optimization", {"sessions_without_ttl_removed", "old_backups_removed", "old_tmp_files_removed"}},
};

class ShippedRunbooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox_.SetEnv("RUNBOOK_PATH", kRunbooks);
    sandbox_.SetEnv("RUNBOOK_SITE", sandbox_.WriteFile("empty-site.yaml", "{}\n"));
  }
  boost::json::value Plan(const std::string& name) {
    std::vector<std::string> args = {"--json", "plan", name};
    if (name == "emergency-response") args.insert(args.end(), {"-p", "reason=test"});
    clitest::Outcome o = sandbox_.Run(args);
    EXPECT_EQ(o.exit_code, 0) << "plan " << name << ": " << o.Describe();
    auto v = clitest::ParseJson(o.out, "plan --json " + name);
    return v ? *v : boost::json::value(nullptr);
  }
  clitest::CliSandbox sandbox_;
};

TEST_F(ShippedRunbooksTest, EveryShippedRunbookValidatesWithoutAWarning) {
  clitest::Outcome o = sandbox_.Run({"validate"});
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(o.out, "ok: " + std::to_string(kAll.size()) + " runbooks valid\n");
  EXPECT_EQ(o.err, "");
}

TEST_F(ShippedRunbooksTest, EveryProcedureOfTheOperationsDocumentHasItsRunbook) {
  clitest::Outcome o = sandbox_.Run({"--json", "list"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto v = clitest::ParseJson(o.out, "list --json");
  ASSERT_TRUE(v);
  std::set<std::string> names;
  const boost::json::array* list = v->is_array() ? &v->get_array() : v->as_object().at("runbooks").if_array();
  ASSERT_TRUE(list) << o.out;
  for (const auto& r : *list) names.insert(clitest::JsonString(r, "name"));
  EXPECT_EQ(names, std::set<std::string>(kAll.begin(), kAll.end()));
}

TEST_F(ShippedRunbooksTest, SiteParametersDefaultToTheSeedsValues) {
  for (const auto& name : kAll) {
    boost::json::value plan = Plan(name);
    ASSERT_TRUE(plan.is_object()) << name;
    int shared = 0;
    for (const auto& [key, value] : plan.at("params").as_object()) {
      auto it = kSeedDefaults.find(std::string(key));
      if (it == kSeedDefaults.end()) continue;
      ++shared;
      EXPECT_EQ(value, it->second) << name << ": parameter " << key;
    }
    if (name != "emergency-response") {
      EXPECT_GT(shared, 0) << name << " takes nothing from the site profile";
    }
  }
}

TEST_F(ShippedRunbooksTest, RoutineRunbooksDeclareTheSpecOutputs) {
  for (const auto& [name, outputs] : kSpecOutputs) {
    boost::json::value plan = Plan(name);
    ASSERT_TRUE(plan.is_object()) << name;
    const auto& declared = plan.at("outputs").as_object();
    for (const auto& o : outputs) EXPECT_TRUE(declared.contains(o)) << name << " does not declare output " << o;
    EXPECT_EQ(clitest::JsonString(plan, "runbook"), name);
  }
}

TEST_F(ShippedRunbooksTest, RoutineRunbooksCarryTheSeedsSchedulesAndCatchUpTheLastMissedSlot) {
  const std::map<std::string, std::string> schedules = {
      {"daily-health-check", "0 8 * * *"},                // every morning at 8:00
      {"daily-review", "0 18 * * *"},                     // every evening at 6:00 PM
      {"weekly-review", "0 9 * * 1"},                     // every Monday at 9:00
      {"weekly-optimization", "0 2 * * 0"},               // every Sunday at 2:00
      {"monthly-security-audit", "0 9 */31,1-7 * MON"},   // first Monday of each month
      {"monthly-performance-review", "0 9 */31,8-14 * MON"},  // second Monday (see the runbook)
  };
  for (const auto& [name, cron] : schedules) {
    boost::json::value plan = Plan(name);
    ASSERT_TRUE(plan.is_object()) << name;
    EXPECT_EQ(boost::json::serialize(plan.at("schedule")), "[\"" + cron + "\"]") << name;
    std::ifstream in(kRunbooks + "/" + name + ".yaml");
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_THAT(text.str(), HasSubstr("catch_up: last")) << name;
  }
  // The first Monday, as cron computes it.
  clitest::Outcome o =
      sandbox_.Run({"cron", "next", "0 9 */31,1-7 * MON", "--tz", "UTC", "--from", "2025-01-01T00:00:00Z", "--count", "4"});
  EXPECT_EQ(o.out,
            "2025-01-06T09:00:00+00:00\n2025-02-03T09:00:00+00:00\n2025-03-03T09:00:00+00:00\n"
            "2025-04-07T09:00:00+00:00\n");
  // The second Monday (and the 1st when it is a Monday: 2025-09-01, which
  // step schedule-guard skips).
  o = sandbox_.Run({"cron", "next", "0 9 */31,8-14 * MON", "--tz", "UTC", "--from", "2025-08-01T00:00:00Z", "--count", "3"});
  EXPECT_EQ(o.out, "2025-08-11T09:00:00+00:00\n2025-09-01T09:00:00+00:00\n2025-09-08T09:00:00+00:00\n");
}

TEST_F(ShippedRunbooksTest, DangerousCommandsNeedAnApproval) {
  // ufw deny, FLUSHDB, stopping or restarting services, rebooting,
  // restoring a dump over the live database, rotating the security keys.
  std::regex dangerous(R"(ufw deny|FLUSHDB|flushdb|systemctl (stop|restart)|\breboot\b|shutdown -r|< "\$file"|generate_env_secrets)");
  int gated = 0;
  for (const auto& name : kAll) {
    boost::json::value plan = Plan(name);
    ASSERT_TRUE(plan.is_object()) << name;
    for (const auto& step : plan.at("steps").as_array()) {
      const auto* fields = step.as_object().if_contains("fields");
      std::string run = fields && fields->is_object() ? clitest::JsonString(*fields, "run") : "";
      // Comments may name the commands; only commands count.
      std::string code;
      std::istringstream lines(run);
      for (std::string line; std::getline(lines, line);) {
        auto hash = line.find_first_not_of(" ");
        if (hash != std::string::npos && line[hash] != '#') code += line + "\n";
      }
      if (!std::regex_search(code, dangerous)) continue;
      ++gated;
      EXPECT_EQ(step.at("approval"), boost::json::value(true))
          << name << ": step " << clitest::JsonString(step, "id") << " runs a dangerous command without approval";
    }
  }
  EXPECT_GE(gated, 8);  // block ports, stop nginx, block attacker, sessions, secrets, restore, 3 restarts, reboot
}

TEST_F(ShippedRunbooksTest, TheMysqlPasswordNeverReachesACommandLine) {
  for (const auto& name : kAll) {
    std::ifstream in(kRunbooks + "/" + name + ".yaml");
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_THAT(text.str(), ::testing::Not(HasSubstr("--password"))) << name;
    EXPECT_FALSE(std::regex_search(text.str(), std::regex(R"(mysql[^\n]* -p ?["$])"))) << name;
    if (text.str().find("mysql ") != std::string::npos || text.str().find("mysqldump ") != std::string::npos) {
      EXPECT_THAT(text.str(), HasSubstr("MYSQL_PWD: ${{ secrets.MYSQL_PASSWORD }}")) << name;
    }
  }
}

TEST_F(ShippedRunbooksTest, IncidentRunbooksStartFromTheEmergencyResponse) {
  for (const std::string name : {"security-incident", "data-corruption", "system-failure"}) {
    boost::json::value plan = Plan(name);
    ASSERT_TRUE(plan.is_object()) << name;
    const auto& first = plan.at("steps").as_array().at(0);
    EXPECT_EQ(clitest::JsonString(first, "type"), "runbook") << name;
    EXPECT_EQ(clitest::JsonString(first.at("fields"), "runbook"), "emergency-response") << name;
  }
}

TEST_F(ShippedRunbooksTest, PlanShowsWhatTheCleanupWouldDeleteWithTheSitesPaths) {
  clitest::Outcome o = sandbox_.Run({"plan", "weekly-optimization", "-p", "tmp_dir=/srv/scratch", "-p",
                                     "backup_dir=/srv/backups", "-p", "backup_retention_days=45"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_THAT(o.out, HasSubstr("-mtime +"));
  EXPECT_THAT(o.out, HasSubstr("-print -delete"));
  EXPECT_THAT(o.out, HasSubstr("/srv/scratch"));
  EXPECT_THAT(o.out, HasSubstr("/srv/backups"));
  EXPECT_THAT(o.out, HasSubstr("45"));
}

TEST_F(ShippedRunbooksTest, TheSampleSiteProfileHasEveryKeyAndEveryRunbookAcceptsIt) {
  std::string sample = std::string(RUNBOOK_SOURCE_DIR) + "/contrib/site.yaml";
  std::ifstream in(sample);
  ASSERT_TRUE(in) << sample;
  std::set<std::string> keys;
  std::regex kv(R"(^([a-z_]+):)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kv)) keys.insert(m[1]);
  }
  for (const auto& [key, value] : kSeedDefaults)
    if (key != "date") {
      EXPECT_TRUE(keys.count(key)) << "contrib/site.yaml lacks " << key;
    }
  sandbox_.SetEnv("RUNBOOK_SITE", sample);
  for (const auto& name : kAll) {
    std::vector<std::string> args = {"plan", name};
    if (name == "emergency-response") args.insert(args.end(), {"-p", "reason=test"});
    clitest::Outcome o = sandbox_.Run(args);
    EXPECT_EQ(o.exit_code, 0) << name << ": " << o.Describe();
  }
}

// The operations document's commands are the specification of what each
// runbook does: each runbook still contains each command (or the text of
// its replacement).
TEST_F(ShippedRunbooksTest, EachRunbookCarriesTheCommandsOfItsProcedure) {
  const std::map<std::string, std::vector<std::string>> commands = {
      {"daily-health-check",
       {"health_check_script", "tail -100", R"(grep -E "ERROR|CRITICAL|MAINTENANCE")", "df -h", "free -h",
        "top -bn1 | head -20", "/api/maintenance/status", "is_active", "estimated_completion", "SHOW PROCESSLIST;",
        "| wc -l", "ROUND(SUM(data_length + index_length) / 1024 / 1024, 2)", "ping",
        "info memory | grep used_memory_human", "--scan --pattern", "tail -20", "print $2, $3", "tail -10"}},
      {"daily-review",
       {"Maintenance mode activated", "Operation blocked", R"(LVL == "ERROR")", "peak_cpu_percent", "ls -la",
        "+%Y%m%d"}},
      {"weekly-review",
       {"Maintenance mode activated", "Emergency maintenance activated", "Operation blocked",
        "avg_maintenance_minutes", "uptime -p", "Average CPU", "Average Memory", "FAILED_LOGIN|UNAUTHORIZED|BLOCKED",
        R"(s == "401" || s == "403" || s == "429")", "weekly-optimization"}},
      {"weekly-optimization",
       {"OPTIMIZE TABLE users, platform_connections, posts, images, processing_runs, user_sessions;",
        "ANALYZE TABLE users, platform_connections, posts, images, processing_runs, user_sessions;",
        R"(redis.call("TTL", key) == -1)", "apt-get autoremove -y", "apt-get autoclean", R"(-name "*.pyc")",
        R"(-name "__pycache__" -type d)", "-type f -atime", R"(-name "vedfolnir_*")", "logrotate -f",
        R"(-name "*.sql")", R"(-name "*.tar.gz")"}},
      {"monthly-security-audit",
       {"UPPER(role) = 'ADMIN'", R"(grep -E "SECURITY_|CSRF_|RATE_LIMIT")", "ufw status verbose", "openssl s_client",
        "openssl x509 -noout -dates", "apt-get update", "apt list --upgradable", "list --outdated",
        R"(grep -E "SECURITY|BREACH|ATTACK")", "tail -20"}},
      {"monthly-performance-review",
       {"Average response time", "Peak CPU usage", "table_name,", "table_rows,", R"(df -h | grep -E "/$|/opt|/var")",
        "'Total Size (MB)'", R"(grep -E "used_memory_human|maxmemory_human")"}},
      {"emergency-response",
       {"type: approval", "/api/maintenance/emergency", "Bearer ${{ secrets.ADMIN_TOKEN }}", "terminate_jobs: true",
        "grace_period: 30", "EMERGENCY: Vedfolnir Maintenance Activated", "Emergency Response Team:",
        "ufw deny from any to any port 80", "ufw deny from any to any port 443", "systemctl stop nginx", "mysqldump",
        "BGSAVE", "redis_dump_file", "tar -czf", R"(cp -r "${{ params.app_home }}/logs")", "syslog", "ps aux",
        "netstat -tulpn"}},
      {"security-incident",
       {"runbook: emergency-response", "Security incident - system under attack", "ufw deny from", "FLUSHDB",
        R"(s == "401" || s == "403" || s == "429" || s == "500")", R"(grep "UNAUTHORIZED\|FAILED_LOGIN")",
        "tail -50", "SELECT * FROM user_sessions WHERE created_at > DATE_SUB(NOW(), INTERVAL 1 HOUR)",
        "Reset password for", "scripts/setup/generate_env_secrets.py --force", "platform API credentials"}},
      {"data-corruption",
       {"runbook: emergency-response", "CHECK TABLE users, platform_connections, posts, images;",
        "COUNT(*)) FROM users", "COUNT(*)) FROM posts", "COUNT(*)) FROM images",
        "REPAIR TABLE users, platform_connections, posts, images;", "vedfolnir_\"$stamp\"_*.sql",
        "date -d yesterday", "Manual recovery required - contact development team", "Users: ", "Posts: "}},
      {"system-failure",
       {"runbook: emergency-response", "systemctl status", "df -h", "free -h", "iostat -x 1", "systemctl restart",
        "journalctl --no-pager -u", "-n 50", "shutdown -r", "health_check_script"}},
      {"alert-checks",
       {"cpu_limit=80", "mem_limit=85", "hold=300", R"(warn: "> 90")", "rate_limit=5", R"(warn: "> 5")",
        "time_limit=2", R"(warn: "> 2")", "Threads_connected", "max_connections", R"(warn: "> 80")", "Slow_queries",
        R"(warn: "> 10")", "maxmemory", "severity: critical"}},
  };
  for (const auto& [name, needles] : commands) {
    std::ifstream in(kRunbooks + "/" + name + ".yaml");
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& n : needles) EXPECT_THAT(text.str(), HasSubstr(n)) << name;
  }
  EXPECT_EQ(commands.size(), kAll.size());
}

}  // namespace
}  // namespace runbook::runbooktest
