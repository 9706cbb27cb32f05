#include "tests/cli/cli_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace runbook::clitest {
namespace {

using Clock = std::chrono::steady_clock;

std::string Bounded(const std::string& s, size_t limit = 4000) {
  if (s.size() <= limit) return s;
  return s.substr(0, limit / 2) + "\n[... " + std::to_string(s.size() - limit) + " bytes ...]\n" +
         s.substr(s.size() - limit / 2);
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "cli_test_util: %s: %s\n", what.c_str(), std::strerror(errno));
  std::abort();
}

}  // namespace

std::string Outcome::Describe() const {
  std::ostringstream s;
  if (timed_out) s << "TIMED OUT (killed by the test), ";
  if (term_signal) s << "killed by signal " << term_signal << " (" << strsignal(term_signal) << ")";
  else s << "exit " << exit_code;
  s << "\n--- stdout ---\n" << Bounded(out) << "\n--- stderr ---\n" << Bounded(err);
  return s.str();
}

// --- RunbookProcess ------------------------------------------------------------

std::unique_ptr<RunbookProcess> RunbookProcess::Spawn(const std::vector<std::string>& argv,
                                                      const std::vector<std::string>& env,
                                                      const std::string& stdout_path,
                                                      const std::string& stderr_path, int stdout_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (stdout_fd >= 0)
    posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
  else
    posix_spawn_file_actions_addopen(&fa, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // Its own process group (a timeout kill must not hit the test), an empty
  // signal mask and default dispositions whatever the test runner set.
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> av, ev;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  for (const auto& e : env) ev.push_back(const_cast<char*>(e.c_str()));
  ev.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, av[0], &fa, &attr, av.data(), ev.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    errno = rc;
    Die("posix_spawn " + argv[0]);
  }
  return std::unique_ptr<RunbookProcess>(new RunbookProcess(pid, stdout_path, stderr_path));
}

RunbookProcess::~RunbookProcess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    Reap(0);
  }
}

void RunbookProcess::Signal(int signo) const {
  if (!reaped_) ::kill(pid_, signo);
}

bool RunbookProcess::Reap(int options) {
  if (reaped_) return true;
  struct rusage ru {};
  int status = 0;
  pid_t r;
  do {
    r = ::wait4(pid_, &status, options, &ru);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
    max_rss_kb_ = ru.ru_maxrss;
    return true;
  }
  if (r < 0) Die("wait4");
  return false;
}

bool RunbookProcess::Exited() { return Reap(WNOHANG); }

Outcome RunbookProcess::Wait(milliseconds timeout) {
  Outcome o;
  auto deadline = Clock::now() + timeout;
  while (!Reap(WNOHANG)) {
    if (Clock::now() >= deadline) {
      o.timed_out = true;
      ::kill(pid_, SIGKILL);
      Reap(0);
      break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  if (WIFEXITED(status_)) o.exit_code = WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) o.term_signal = WTERMSIG(status_);
  o.max_rss_kb = max_rss_kb_;
  o.out = Stdout();
  o.err = Stderr();
  return o;
}

std::string RunbookProcess::Stdout() const { return out_path_.empty() ? "" : ReadFile(out_path_); }
std::string RunbookProcess::Stderr() const { return ReadFile(err_path_); }

// --- CliSandbox ----------------------------------------------------------------

CliSandbox::CliSandbox() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/runbook-cli-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) Die("mkdtemp " + pattern);
  dir_ = buf.data();
  journal_ = dir_ + "/journal.db";
  std::filesystem::create_directories(dir_ + "/logs");
}

CliSandbox::~CliSandbox() {
  if (std::getenv("RUNBOOK_KEEP_TEST_DIRS")) {
    std::fprintf(stderr, "kept %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string CliSandbox::WriteFile(std::string_view name, std::string_view content) const {
  std::string path = Path(name);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!f) ADD_FAILURE() << "cannot write " << path;
  return path;
}

std::vector<std::string> CliSandbox::Env() const {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string::npos || kv.starts_with("RUNBOOK_")) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env["RUNBOOK_JOURNAL"] = journal_;
  env["RUNBOOK_PATH"] = dir_;
  env["XDG_STATE_HOME"] = dir_ + "/state";
  env["NO_COLOR"] = "1";
  for (const auto& [k, v] : extra_env_) env[k] = v;
  for (const auto& k : unset_env_) env.erase(k);
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<std::string> CliSandbox::Argv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{RUNBOOK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string CliSandbox::NextLogPath(const char* what) {
  return dir_ + "/logs/" + std::to_string(++commands_) + "." + what;
}

std::unique_ptr<RunbookProcess> CliSandbox::Start(const std::vector<std::string>& args) {
  return RunbookProcess::Spawn(Argv(args), Env(), NextLogPath("out"), NextLogPath("err"));
}

Outcome CliSandbox::Run(const std::vector<std::string>& args, milliseconds timeout) {
  return Start(args)->Wait(timeout);
}

Outcome CliSandbox::RunStreaming(const std::vector<std::string>& args,
                                 const std::function<void(std::string_view)>& on_stdout, milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) Die("pipe2");
  auto p = RunbookProcess::Spawn(Argv(args), Env(), "", NextLogPath("err"), fds[1]);
  ::close(fds[1]);
  auto deadline = Clock::now() + timeout;
  std::vector<char> buf(1 << 16);
  bool late = false;
  while (true) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      late = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t r = ::read(fds[0], buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    on_stdout(std::string_view(buf.data(), static_cast<size_t>(r)));
  }
  ::close(fds[0]);
  Outcome o = p->Wait(late ? milliseconds(0) : std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
  if (late) o.timed_out = true;
  return o;
}

boost::json::value CliSandbox::ShowJson(const std::string& run_ref) {
  Outcome o = Run({"--json", "show", run_ref});
  if (o.exit_code != 0) {
    ADD_FAILURE() << "runbook --json show " << run_ref << ": " << o.Describe();
    return nullptr;
  }
  auto v = ParseJson(o.out, "runbook --json show " + run_ref);
  return v ? *v : boost::json::value(nullptr);
}

std::string CliSandbox::RawLogs(const std::string& run_ref, const std::string& step) {
  Outcome o = Run({"logs", run_ref, step, "--raw"});
  if (o.exit_code != 0) ADD_FAILURE() << "runbook logs " << run_ref << " " << step << " --raw: " << o.Describe();
  return o.out;
}

std::unique_ptr<journal::Journal> CliSandbox::OpenJournal() const {
  journal::OpenOptions opts;
  opts.mark_stale_runs = false;
  auto j = journal::Journal::Open(journal_, opts);
  if (!j.ok()) {
    ADD_FAILURE() << "cannot open the journal " << journal_ << ": " << j.status().message();
    return nullptr;
  }
  return std::move(j.value());
}

// --- Utilities -----------------------------------------------------------------

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

bool FileExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

int Occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string RunIdOfRunbook(const CliSandbox& box, const std::string& runbook) {
  auto j = box.OpenJournal();
  if (!j) return "";
  auto runs = j->ListRuns(journal::RunFilter{});
  if (!runs.ok()) return "";
  std::string id;
  for (const auto& r : *runs)
    if (r.runbook == runbook) id = r.id;
  return id;
}

bool WaitFor(const std::function<bool()>& ready, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (ready()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

std::optional<boost::json::value> ParseJson(const std::string& text, const std::string& what) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) {
    ADD_FAILURE() << what << ": not JSON (" << ec.message() << "): " << Bounded(text);
    return std::nullopt;
  }
  return v;
}

std::string JsonString(const boost::json::value& obj, std::string_view key) {
  if (!obj.is_object()) return "";
  const auto* v = obj.as_object().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

const boost::json::object* FindStep(const boost::json::value& show, std::string_view id) {
  if (!show.is_object()) return nullptr;
  const auto* steps = show.as_object().if_contains("steps");
  if (!steps || !steps->is_array()) return nullptr;
  for (const auto& s : steps->get_array())
    if (s.is_object() && JsonString(s, "id") == id) return &s.get_object();
  return nullptr;
}

std::string ProcInfo::Describe() const {
  return std::to_string(pid) + " (" + comm + ") state " + state + " ppid " + std::to_string(ppid) + " pgrp " +
         std::to_string(pgrp);
}

std::optional<ProcInfo> ProcessInfo(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t open = stat.find('('), close = stat.rfind(')');
  if (stat.empty() || open == std::string::npos || close == std::string::npos) return std::nullopt;
  ProcInfo p;
  p.pid = pid;
  p.comm = stat.substr(open + 1, close - open - 1);
  std::istringstream in(stat.substr(close + 1));
  long ppid = 0, pgrp = 0;
  if (!(in >> p.state >> ppid >> pgrp)) return std::nullopt;
  p.ppid = static_cast<pid_t>(ppid);
  p.pgrp = static_cast<pid_t>(pgrp);
  return p;
}

std::optional<pid_t> ProcessGroupOf(pid_t pid) {
  auto p = ProcessInfo(pid);
  if (!p) return std::nullopt;
  return p->pgrp;
}

std::vector<ProcInfo> ProcessesInGroup(pid_t pgid) {
  std::vector<ProcInfo> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    auto p = ProcessInfo(static_cast<pid_t>(pid));
    if (p && p->pgrp == pgid) out.push_back(*p);
  }
  ::closedir(d);
  return out;
}

std::map<std::string, int> CountEventKinds(const journal::Journal& j, const std::string& run_id) {
  std::map<std::string, int> counts;
  auto events = j.GetEvents(run_id);
  if (!events.ok()) {
    ADD_FAILURE() << "GetEvents(" << run_id << "): " << events.status().message();
    return counts;
  }
  for (const auto& e : *events) ++counts[e.kind];
  return counts;
}

std::string IntegrityCheck(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  std::string result;
  if (sqlite3_open_v2(path.c_str(), &db, read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    result = std::string("cannot open: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return result;
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) {
    result = std::string("cannot prepare: ") + sqlite3_errmsg(db);
  } else {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      result += (result.empty() ? "" : "\n") + std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    if (rc != SQLITE_DONE) result += std::string(result.empty() ? "" : "\n") + sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return result;
}

}  // namespace runbook::clitest
