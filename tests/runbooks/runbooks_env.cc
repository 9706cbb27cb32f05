#include "tests/runbooks/runbooks_env.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace runbook::runbooktest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string kSource = RUNBOOK_SOURCE_DIR;
const std::string kTestEnvScript = kSource + "/scripts/test-env.sh";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/runbook-runbooks-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    std::perror("mkdtemp");
    std::abort();
  }
  return buf.data();
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

std::string Finished::Describe() const {
  return "exit " + std::to_string(exit_code) + "\n--- stdout ---\n" + out.substr(0, 4000) + "\n--- stderr ---\n" +
         err.substr(0, 4000);
}

Finished RunProgram(const std::vector<std::string>& argv, const std::string& stdin_text,
                    const std::vector<std::string>& env, milliseconds timeout) {
  std::string dir = TempDir();
  std::string in = dir + "/in", out = dir + "/out", err = dir + "/err";
  std::ofstream(in) << stdin_text;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> av, ev;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  for (const auto& e : env_strings) ev.push_back(const_cast<char*>(e.c_str()));
  ev.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, av[0], &fa, &attr, av.data(), ev.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  Finished f;
  if (rc != 0) {
    f.err = "cannot run " + argv[0] + ": " + std::strerror(rc);
    fs::remove_all(dir);
    return f;
  }
  auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (Clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      f.err = "killed after the test's deadline\n";
      break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  if (WIFEXITED(status)) f.exit_code = WEXITSTATUS(status);
  f.out = ReadAll(out);
  f.err += ReadAll(err);
  fs::remove_all(dir);
  return f;
}

// --- TestEnv ---------------------------------------------------------------------

bool TestEnv::Required() {
  return std::getenv("RUNBOOK_TEST_ENV") != nullptr || std::getenv("CI") != nullptr;
}

TestEnv* TestEnv::Get(std::string* why_not) {
  static std::unique_ptr<TestEnv> env;
  static std::string failure;
  static bool tried = false;
  if (!tried) {
    tried = true;
    // CI starts the environment and names it in RUNBOOK_TEST_ENV; `start`
    // then just confirms it runs. Otherwise this starts one that stops
    // itself after two idle minutes.
    std::vector<std::string> start = {"bash", kTestEnvScript, "start"};
    if (!std::getenv("RUNBOOK_TEST_ENV")) start.insert(start.end(), {"--auto-stop", "120"});
    Finished s = RunProgram(start, "", {}, milliseconds(180000));
    if (s.exit_code == 3) {
      failure = "MariaDB/Redis are not installed (scripts/install-deps.sh --test): " + Trim(s.err);
    } else if (s.exit_code != 0) {
      failure = "scripts/test-env.sh start failed: " + s.Describe();
    } else {
      Finished e = RunProgram({"bash", kTestEnvScript, "env"});
      if (e.exit_code != 0) {
        failure = "scripts/test-env.sh env failed: " + e.Describe();
      } else {
        env.reset(new TestEnv);
        std::istringstream lines(e.out);
        std::string line;
        std::regex kv(R"(^export ([A-Z0-9_]+)=(.*)$)");
        while (std::getline(lines, line)) {
          std::smatch m;
          if (!std::regex_match(line, m, kv)) continue;
          // %q quoting: the values here are paths, ports and hex words; a
          // quoted one is unquoted by hand.
          std::string v = m[2];
          if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
          env->vars_[m[1]] = v;
        }
      }
    }
  }
  if (!env && why_not) *why_not = failure;
  return env.get();
}

const std::string& TestEnv::Var(const std::string& key) const {
  static const std::string empty;
  auto it = vars_.find(key);
  if (it == vars_.end()) {
    ADD_FAILURE() << "test-env.sh env has no " << key;
    return empty;
  }
  return it->second;
}

int TestEnv::mysql_port() const { return std::stoi(Var("RUNBOOK_TEST_MYSQL_PORT")); }
int TestEnv::redis_port() const { return std::stoi(Var("RUNBOOK_TEST_REDIS_PORT")); }

void TestEnv::CreateDatabase(const std::string& name) const {
  Finished f = RunProgram({"bash", kTestEnvScript, "db", name});
  ASSERT_EQ(f.exit_code, 0) << "test-env.sh db " << name << ": " << f.Describe();
}

void TestEnv::DropDatabase(const std::string& name) const { Sql("", "DROP DATABASE IF EXISTS `" + name + "`"); }

std::string TestEnv::Sql(const std::string& db, const std::string& sql) const {
  std::vector<std::string> argv = {"mysql", "--no-defaults", "-u", "root", "--socket=" + Var("RUNBOOK_TEST_MYSQL_SOCKET"),
                                   "--batch", "--skip-column-names", "-e", sql};
  if (!db.empty()) argv.push_back(db);
  Finished f = RunProgram(argv, "", {"MYSQL_PWD=" + Var("RUNBOOK_TEST_MYSQL_ROOT_PASSWORD")});
  EXPECT_EQ(f.exit_code, 0) << "mysql " << sql << ": " << f.Describe();
  return f.out;
}

std::string TestEnv::Redis(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"redis-cli", "-e", "-h", "127.0.0.1", "-p", std::to_string(redis_port())};
  argv.insert(argv.end(), args.begin(), args.end());
  Finished f = RunProgram(argv);
  EXPECT_EQ(f.exit_code, 0) << "redis-cli: " << f.Describe();
  return f.out;
}

void TestEnv::RedisPipe(const std::string& commands) const {
  Finished f = RunProgram({"redis-cli", "-e", "-h", "127.0.0.1", "-p", std::to_string(redis_port())}, commands);
  EXPECT_EQ(f.exit_code, 0) << "redis-cli: " << f.Describe();
}

// --- WebFixture ---------------------------------------------------------------

WebFixture::WebFixture(const std::string& dir, const std::string& token, const std::string& log)
    : dir_(dir), token_(token) {
  fs::create_directories(dir);
  std::string python = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  std::vector<std::string> argv = {python, kSource + "/tests/runbooks/fixtures/webapp.py", "--port", "0",
                                   "--port-file", dir + "/port", "--log", log, "--state", dir + "/state.json",
                                   "--token", token};
  std::string out = dir + "/server.log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> av;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  int rc = posix_spawnp(&pid_, av[0], &fa, nullptr, av.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start the web fixture: " << std::strerror(rc);
    pid_ = -1;
    return;
  }
  bool up = clitest::WaitFor([&] { return !Trim(ReadAll(dir + "/port")).empty(); }, milliseconds(20000));
  if (!up) {
    ADD_FAILURE() << "the web fixture did not start: " << ReadAll(out);
    return;
  }
  url_ = "http://127.0.0.1:" + Trim(ReadAll(dir + "/port"));
}

WebFixture::~WebFixture() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  bool gone = clitest::WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, milliseconds(5000));
  if (!gone) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
}

boost::json::value WebFixture::State() const {
  auto v = clitest::ParseJson(ReadAll(dir_ + "/state.json"), "web fixture state");
  return v ? *v : boost::json::value(nullptr);
}

int WebFixture::Post(const std::string& path, const std::string& json_body) const {
  Finished f = RunProgram({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H",
                           "Authorization: Bearer " + token_, "-d", json_body, url_ + path});
  return f.exit_code == 0 ? std::atoi(f.out.c_str()) : -1;
}

// --- Site ----------------------------------------------------------------------

Site::Site(clitest::CliSandbox& sandbox, const TestEnv& env, const std::string& name)
    : sandbox_(sandbox), env_(env) {
  dir = sandbox.Path("site");
  app_home = dir + "/app";
  webapp_log = app_home + "/logs/webapp.log";
  security_log = app_home + "/logs/security_events.log";
  metrics_log = dir + "/metrics.log";
  env_file = app_home + "/.env";
  backup_dir = dir + "/backup";
  tmp_dir = dir + "/tmp";
  bin_dir = dir + "/bin";
  health_script = app_home + "/scripts/health_check.sh";
  database = "vedfolnir_" + name + "_" + std::to_string(::getpid());
  session_prefix = "vft" + std::to_string(::getpid()) + "_" + name;
  for (const auto& d : {app_home + "/logs", app_home + "/scripts", backup_dir, tmp_dir, bin_dir})
    fs::create_directories(d);
  for (const auto& f : {webapp_log, security_log, metrics_log}) std::ofstream(f, std::ios::app);
  std::ofstream(health_script) << "#!/bin/sh\necho 'All Systems Operational'\n";
  fs::permissions(health_script, fs::perms::owner_all);
  env.CreateDatabase(database);
}

Site::~Site() {
  web_.reset();
  env_.DropDatabase(database);
}

WebFixture& Site::StartWeb() {
  web_ = std::make_unique<WebFixture>(dir + "/web", env_.Var("ADMIN_TOKEN"), webapp_log);
  return *web_;
}

void Site::WriteProfile(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> p = {
      {"app_url", web_ ? web_->url() : "http://127.0.0.1:9"},
      {"app_home", app_home},
      {"webapp_log", webapp_log},
      {"security_log", security_log},
      {"metrics_log", metrics_log},
      {"env_file", env_file},
      {"backup_dir", backup_dir},
      {"tmp_dir", tmp_dir},
      {"health_check_script", health_script},
      {"mysql_host", "127.0.0.1"},
      {"mysql_port", std::to_string(env_.mysql_port())},
      {"mysql_socket", ""},
      {"mysql_user", "vedfolnir_user"},
      {"mysql_database", database},
      {"redis_host", "127.0.0.1"},
      {"redis_port", std::to_string(env_.redis_port())},
      {"redis_dump_file", env_.Var("RUNBOOK_TEST_REDIS_DUMP")},
      {"session_pattern", session_prefix + ":session:*"},
      {"notify_to", "emergency-team@example.org"},
      {"sendmail", bin_dir + "/sendmail"},
  };
  for (const auto& [k, v] : extra) p[k] = v;
  std::string yaml = "# site profile of one runbooks test\n";
  for (const auto& [k, v] : p) {
    bool number = (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos) || v == "true" ||
                  v == "false";
    std::string quoted = "\"";
    for (char c : v) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    yaml += k + ": " + (number ? v : quoted + "\"") + "\n";
  }
  std::string path = sandbox_.WriteFile("site.yaml", yaml);
  sandbox_.SetEnv("RUNBOOK_SITE", path);
  sandbox_.SetEnv("RUNBOOK_PATH", kSource + "/runbooks");
  sandbox_.SetEnv("ADMIN_TOKEN", env_.Var("ADMIN_TOKEN"));
  sandbox_.SetEnv("MYSQL_PASSWORD", env_.Var("MYSQL_PASSWORD"));
  const char* path_env = std::getenv("PATH");
  sandbox_.SetEnv("PATH", bin_dir + ":" + (path_env ? path_env : "/usr/bin:/bin"));
  FakeCommand("sendmail");
}

void Site::FakeCommand(const std::string& name, const std::string& output, int exit_code) const {
  std::string path = bin_dir + "/" + name;
  std::string data_file = bin_dir + "/" + name + ".out";
  std::ofstream(data_file) << output;
  std::ofstream(path) << "#!/bin/sh\n"
                      << "printf '%s\\n' \"" << name << " $*\" >> '" << dir << "/calls.log'\n"
                      << "[ -t 0 ] || cat > '" << bin_dir << "/" << name << ".stdin.'$$ 2>/dev/null || true\n"
                      << "cat '" << data_file << "'\n"
                      << "exit " << exit_code << "\n";
  fs::permissions(path, fs::perms::owner_all);
}

std::vector<std::string> Site::Calls() const {
  std::vector<std::string> calls;
  std::istringstream in(ReadAll(dir + "/calls.log"));
  std::string line;
  while (std::getline(in, line)) calls.push_back(line);
  return calls;
}

void Site::Append(const std::string& path, const std::string& text) const {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::app) << text;
}

void AgeFile(const std::string& path, double atime_days, double mtime_days) {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  struct timespec times[2];
  times[0].tv_sec = now.tv_sec - static_cast<time_t>(atime_days * 86400);
  times[0].tv_nsec = 0;
  times[1].tv_sec = now.tv_sec - static_cast<time_t>(mtime_days * 86400);
  times[1].tv_nsec = 0;
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) ADD_FAILURE() << "utimensat " << path << ": " << std::strerror(errno);
}

// --- Log formats -----------------------------------------------------------------

std::string LogEntry(const std::string& date, const std::string& time, const std::string& level,
                     const std::string& message, const std::string& logger) {
  return date + " " + time + ",123 - " + logger + " - " + level + " - " + message + "\n";
}

std::string RequestEntry(const std::string& date, const std::string& time, int status, const std::string& seconds,
                         const std::string& path) {
  return LogEntry(date, time, "INFO", "GET " + path + " " + std::to_string(status) + " " + seconds + "s", "request");
}

std::string MetricsSample(const std::string& date, const std::string& time, const std::string& cpu,
                          const std::string& memory) {
  return date + " " + time + ",CPU:" + cpu + "%,Memory:" + memory +
         "%,Disk:40%,AppCPU:1.5%,AppMem:2.5%,DBConn:4,RedisMem:1.20M\n";
}

// --- RunbooksTest -----------------------------------------------------------------

void RunbooksTest::SetUp() {
  std::string why;
  env_ = TestEnv::Get(&why);
  if (env_) return;
  if (TestEnv::Required()) FAIL() << "the runbooks' test environment is required here (CI): " << why;
  GTEST_SKIP() << "\n*** SKIPPED: no test environment for the shipped runbooks: " << why << " ***";
}

Site& RunbooksTest::site() {
  if (!site_) {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string short_name;
    for (char c : name) {
      if (short_name.size() >= 24) break;
      if (std::isalnum(static_cast<unsigned char>(c))) short_name += static_cast<char>(std::tolower(c));
    }
    site_ = std::make_unique<Site>(sandbox_, *env_, short_name);
  }
  return *site_;
}

boost::json::value RunbooksTest::Run(const std::string& name, const std::vector<std::string>& args,
                                     clitest::Outcome* outcome) {
  std::vector<std::string> argv = {"run", name};
  argv.insert(argv.end(), args.begin(), args.end());
  clitest::Outcome o = sandbox_.Run(argv, milliseconds(120000));
  if (outcome) *outcome = o;
  EXPECT_FALSE(o.timed_out) << "runbook run " << name << ": " << o.Describe();
  std::string id = RunIdFrom(o);
  if (id.empty()) {
    ADD_FAILURE() << "runbook run " << name << " printed no run id: " << o.Describe();
    return nullptr;
  }
  return sandbox_.ShowJson(id);
}

// --- Reading a run --------------------------------------------------------------

double Number(const boost::json::value* v) {
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return std::nan("");
}

double DatabaseSizeMb(const TestEnv& env, const std::string& db) {
  std::string rows = env.Sql(db, "SHOW TABLE STATUS");
  double bytes = 0;
  size_t start = 0;
  while (start < rows.size()) {
    size_t end = rows.find('\n', start);
    if (end == std::string::npos) end = rows.size();
    std::vector<std::string> cols;
    std::string line = rows.substr(start, end - start);
    size_t p = 0;
    while (true) {
      size_t tab = line.find('\t', p);
      cols.push_back(line.substr(p, tab == std::string::npos ? std::string::npos : tab - p));
      if (tab == std::string::npos) break;
      p = tab + 1;
    }
    // Name Engine Version Row_format Rows Avg_row_length Data_length Max_data_length Index_length ...
    if (cols.size() > 8) bytes += std::stod(cols[6]) + std::stod(cols[8]);
    start = end + 1;
  }
  return std::round(bytes / 1024 / 1024 * 100) / 100;
}

const boost::json::value* Output(const boost::json::value& show, const std::string& name) {
  static const boost::json::value missing = "<no such output>";
  if (!show.is_object()) return &missing;
  const auto* outputs = show.as_object().if_contains("outputs");
  if (!outputs || !outputs->is_object()) return &missing;
  const auto* v = outputs->as_object().if_contains(name);
  return v ? v : &missing;
}

std::vector<std::string> Findings(const boost::json::value& show) {
  std::vector<std::string> out;
  if (!show.is_object()) return out;
  const auto* f = show.as_object().if_contains("findings");
  if (!f || !f->is_array()) return out;
  for (const auto& x : f->get_array())
    out.push_back(clitest::JsonString(x, "level") + " " + clitest::JsonString(x, "step") + ": " +
                  clitest::JsonString(x, "message"));
  return out;
}

std::string StepStatus(const boost::json::value& show, const std::string& id) {
  const auto* s = clitest::FindStep(show, id);
  return s ? clitest::JsonString(boost::json::value(*s), "status") : "";
}

std::string RunIdFrom(const clitest::Outcome& o) {
  std::regex re(R"(run ([0-9a-f]{8,}) of )");
  std::smatch m;
  if (std::regex_search(o.out, m, re) || std::regex_search(o.err, m, re)) return m[1];
  return "";
}

}  // namespace runbook::runbooktest
