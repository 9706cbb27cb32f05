// Helpers for the shipped runbooks' integration tests (tests/runbooks/):
// the shared test environment of scripts/test-env.sh (MariaDB, Redis, the
// web application fixture), and one test's Site — its own database, Redis
// key prefix, web fixture instance, log files, backup and temporary
// directories, a site profile pointing the runbooks at all of them, and a
// bin/ directory of recording stand-ins for the commands a test must not
// run for real (ufw, systemctl, shutdown, logrotate, apt-get, sendmail...).
//
// TestEnv::Get() starts the environment through scripts/test-env.sh when
// it is not running (with --auto-stop, so it goes away once the tests are
// done), or joins the one named by RUNBOOK_TEST_ENV (what CI starts). When
// MariaDB or Redis is not installed it returns null with the reason: the
// tests then skip loudly, except under CI (RUNBOOK_TEST_ENV or CI set),
// where they fail. Used from the test's main thread only.
#pragma once

#include <sys/types.h>

#include <boost/json/value.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/cli/cli_test_util.h"

namespace runbook::runbooktest {

// A finished program: exit code (-1 if killed) and what it printed.
struct Finished {
  int exit_code = -1;
  std::string out, err;
  std::string Describe() const;
};

// Runs argv (looked up in PATH) to the end with `stdin_text` on its stdin,
// the test's environment plus `env` ("K=V"), killing it after `timeout`.
Finished RunProgram(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                    const std::vector<std::string>& env = {},
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(120000));

class TestEnv {
 public:
  // The environment, started or joined once per process; null (and
  // *why_not) when the servers are not installed.
  static TestEnv* Get(std::string* why_not);
  // True when a missing environment must fail the tests rather than skip them.
  static bool Required();

  // A value of `test-env.sh env` (RUNBOOK_TEST_MYSQL_PORT, ADMIN_TOKEN, ...).
  const std::string& Var(const std::string& key) const;
  int mysql_port() const;
  int redis_port() const;

  // (Re)creates database `name` loaded with tests/runbooks/fixtures/vedfolnir.sql.
  void CreateDatabase(const std::string& name) const;
  void DropDatabase(const std::string& name) const;
  // Runs SQL as root in `db` ("" for none); stdout in batch mode without
  // column names. A failure fails the current test.
  std::string Sql(const std::string& db, const std::string& sql) const;
  // redis-cli -p PORT ARGS... (raw replies); a failure fails the current test.
  std::string Redis(const std::vector<std::string>& args) const;
  // Many commands, one a line, through one redis-cli.
  void RedisPipe(const std::string& commands) const;

 private:
  std::map<std::string, std::string> vars_;
};

// The application's web fixture (tests/runbooks/fixtures/webapp.py), one
// instance per test: killed and reaped when destroyed.
class WebFixture {
 public:
  WebFixture(const std::string& dir, const std::string& token, const std::string& log);
  ~WebFixture();
  WebFixture(const WebFixture&) = delete;
  WebFixture& operator=(const WebFixture&) = delete;

  const std::string& url() const { return url_; }
  // The fixture's state file: is_active, mode, reason, activations...
  boost::json::value State() const;
  // POST to an admin endpoint with the right token; returns the HTTP status.
  int Post(const std::string& path, const std::string& json_body) const;

 private:
  pid_t pid_ = -1;
  std::string dir_, token_, url_;
};

// One test's installation: see the file comment. Owns its database (dropped
// when destroyed) and its web fixture (when started).
class Site {
 public:
  // `name`: short, [a-z0-9_]; the database is vedfolnir_<name>_<pid>.
  Site(clitest::CliSandbox& sandbox, const TestEnv& env, const std::string& name);
  ~Site();

  // Starts the web fixture (app_url points at it).
  WebFixture& StartWeb();
  // Writes the site profile with every SPEC §9 key (plus `extra` keys,
  // which override) and points RUNBOOK_SITE at it; also sets RUNBOOK_PATH
  // to the shipped runbooks, the secrets, and PATH with bin/ first.
  void WriteProfile(const std::map<std::string, std::string>& extra = {});
  // A recording stand-in bin/NAME: appends "NAME ARGS..." to calls.log,
  // prints `output`, exits `exit_code`.
  void FakeCommand(const std::string& name, const std::string& output = "", int exit_code = 0) const;
  // The lines of calls.log.
  std::vector<std::string> Calls() const;
  // Appends `text` to a file (creating directories).
  void Append(const std::string& path, const std::string& text) const;

  std::string dir, app_home, webapp_log, security_log, metrics_log, env_file, backup_dir, tmp_dir, bin_dir;
  std::string health_script, database, session_prefix;

 private:
  clitest::CliSandbox& sandbox_;
  const TestEnv& env_;
  std::unique_ptr<WebFixture> web_;
};

// Sets a file's access and modification times to `days` days ago.
void AgeFile(const std::string& path, double atime_days, double mtime_days);

// --- Writing logs in the application's formats (docs/operations.md) ------------

// "2025-03-10 09:15:02,123 - LOGGER - LEVEL - MESSAGE\n"
std::string LogEntry(const std::string& date, const std::string& time, const std::string& level,
                     const std::string& message, const std::string& logger = "webapp");
// A request entry: "... - request - INFO - GET /path 200 0.153s\n".
std::string RequestEntry(const std::string& date, const std::string& time, int status, const std::string& seconds,
                         const std::string& path = "/api/posts");
// A metrics sample: "2025-03-10 09:15:00,CPU:45.2%,Memory:67.80%,Disk:40%,...\n".
std::string MetricsSample(const std::string& date, const std::string& time, const std::string& cpu,
                          const std::string& memory);

// --- The test fixture ------------------------------------------------------------

// Each test: a CliSandbox and the shared TestEnv (skips, or fails under CI,
// when the environment cannot be had).
class RunbooksTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // This test's site (created on first use, named after the test).
  Site& site();
  // `runbook run NAME ARGS...`; then `runbook --json show` of that run.
  boost::json::value Run(const std::string& name, const std::vector<std::string>& args = {},
                         clitest::Outcome* outcome = nullptr);

  clitest::CliSandbox sandbox_;
  TestEnv* env_ = nullptr;

 private:
  std::unique_ptr<Site> site_;
};

// --- Reading a run --------------------------------------------------------------

// A JSON number as a double (NaN if it is not a number).
double Number(const boost::json::value* v);
// The size of database `db` in MB, summed from SHOW TABLE STATUS (not the
// runbooks' information_schema query), rounded to 2 decimals.
double DatabaseSizeMb(const TestEnv& env, const std::string& db);
// Output `name` of a `runbook --json show` document; never null: a missing
// output is the string "<no such output>".
const boost::json::value* Output(const boost::json::value& show, const std::string& name);
// The findings of a run as "level step: message" strings.
std::vector<std::string> Findings(const boost::json::value& show);
// The status of step `id` ("" if absent).
std::string StepStatus(const boost::json::value& show, const std::string& id);
// The run id printed by `runbook run` ("run 1a2b3c4d... of NAME").
std::string RunIdFrom(const clitest::Outcome& o);

}  // namespace runbook::runbooktest
