// Helpers for the CLI acceptance tests: they drive the real `runbook` binary
// (RUNBOOK_BINARY) as a child process, with a real SQLite journal in a fresh
// temporary directory. CliSandbox owns that directory and the environment the
// binary sees; RunbookProcess is one started `runbook` (foreground or
// background) whose stdout and stderr go to files, which can be signalled,
// waited for with a deadline, and is killed and reaped if a test gives up on
// it. Plus small /proc and journal readers. Used from the test's main thread
// only.
#pragma once

#include <sys/types.h>

#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "journal/journal.h"

namespace runbook::clitest {

using std::chrono::milliseconds;

// How a process ended, with what it printed.
struct Outcome {
  int exit_code = -1;      // -1 if it did not exit normally
  int term_signal = 0;     // the signal that killed it, if one did
  bool timed_out = false;  // the test's deadline passed; it was SIGKILLed
  long max_rss_kb = 0;     // wait4()'s ru_maxrss: the peak RSS of the process
  std::string out, err;
  // "exit 1, stdout: ..., stderr: ..." (bounded) for failure messages.
  std::string Describe() const;
};

// A `runbook` process. Not copyable; destroying one that still runs kills
// it (SIGKILL) and reaps it.
class RunbookProcess {
 public:
  // Starts `program argv...` with exactly `env` ("K=V" strings), stdin from
  // /dev/null, stdout/stderr to the given files (stdout_fd >= 0: that
  // descriptor instead of a file), in its own process group. Aborts the test
  // binary with a message if posix_spawn fails.
  static std::unique_ptr<RunbookProcess> Spawn(const std::vector<std::string>& argv,
                                               const std::vector<std::string>& env, const std::string& stdout_path,
                                               const std::string& stderr_path, int stdout_fd = -1);
  ~RunbookProcess();
  RunbookProcess(const RunbookProcess&) = delete;
  RunbookProcess& operator=(const RunbookProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signo) const;
  // True once the process has exited (reaps it; Wait() then returns at once).
  bool Exited();
  // Waits until it exits or `timeout` passes (then SIGKILL and timed_out).
  Outcome Wait(milliseconds timeout = milliseconds(60000));
  // What it printed so far.
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  RunbookProcess(pid_t pid, std::string out_path, std::string err_path)
      : pid_(pid), out_path_(std::move(out_path)), err_path_(std::move(err_path)) {}
  bool Reap(int options);

  pid_t pid_;
  std::string out_path_, err_path_;
  bool reaped_ = false;
  int status_ = 0;
  long max_rss_kb_ = 0;
};

// A temporary directory (removed with its contents) holding the journal and
// the runbooks of one test, and the environment the binary runs with: the
// test's own minus every RUNBOOK_* variable, plus RUNBOOK_JOURNAL,
// RUNBOOK_PATH, XDG_STATE_HOME pointing into the directory and NO_COLOR=1.
// Each command's stdout/stderr are kept in dir/logs/N.out and N.err; set
// RUNBOOK_KEEP_TEST_DIRS=1 to keep the directory for a post-mortem.
class CliSandbox {
 public:
  CliSandbox();
  ~CliSandbox();
  CliSandbox(const CliSandbox&) = delete;
  CliSandbox& operator=(const CliSandbox&) = delete;

  const std::string& dir() const { return dir_; }
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  const std::string& journal_path() const { return journal_; }

  // Writes `content` to dir/name; returns the path.
  std::string WriteFile(std::string_view name, std::string_view content) const;
  // Writes dir/NAME.yaml; returns its path (what `runbook run` is given).
  std::string WriteRunbook(std::string_view name, std::string_view yaml) const {
    return WriteFile(std::string(name) + ".yaml", yaml);
  }
  // Extra variables for every later command (overriding the defaults).
  void SetEnv(const std::string& key, const std::string& value) {
    extra_env_[key] = value;
    unset_env_.erase(key);
  }
  // A variable left out of every later command's environment.
  void UnsetEnv(const std::string& key) {
    extra_env_.erase(key);
    unset_env_.insert(key);
  }

  // `runbook ARGS...` to the end (or `timeout`, then SIGKILL).
  Outcome Run(const std::vector<std::string>& args, milliseconds timeout = milliseconds(60000));
  // `runbook ARGS...` in the background.
  std::unique_ptr<RunbookProcess> Start(const std::vector<std::string>& args);
  // `runbook ARGS...` with stdout read through a pipe as it comes, handed to
  // `on_stdout` chunk by chunk and not kept (for outputs too big to hold).
  Outcome RunStreaming(const std::vector<std::string>& args, const std::function<void(std::string_view)>& on_stdout,
                       milliseconds timeout = milliseconds(120000));

  // `runbook --json show RUN`, parsed; a failed command or bad JSON fails the
  // current test and returns null.
  boost::json::value ShowJson(const std::string& run_ref);
  // `runbook logs RUN STEP --raw`'s stdout.
  std::string RawLogs(const std::string& run_ref, const std::string& step);

  // Opens the journal in this process, read side only in practice
  // (stale-run marking off, so tests do not race the engine).
  std::unique_ptr<journal::Journal> OpenJournal() const;

 private:
  std::vector<std::string> Env() const;
  std::vector<std::string> Argv(const std::vector<std::string>& args) const;
  std::string NextLogPath(const char* what);

  std::string dir_;
  std::string journal_;
  std::map<std::string, std::string> extra_env_;
  std::set<std::string> unset_env_;
  int commands_ = 0;
};

// --- Small utilities -----------------------------------------------------------

// The whole file, or "" when it cannot be read.
std::string ReadFile(const std::string& path);

// `PRAGMA integrity_check` of the SQLite file at `path` ("ok" when sound),
// or why it could not be run; opened read-only unless `read_only` is false.
std::string IntegrityCheck(const std::string& path, bool read_only = true);
bool FileExists(const std::string& path);
// Polls `ready` every 20 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& ready, milliseconds timeout);
// Parses JSON; nullopt (and a test failure naming `what`) if it is not.
std::optional<boost::json::value> ParseJson(const std::string& text, const std::string& what);
// How many times `needle` occurs in `text` (overlapping occurrences count).
int Occurrences(const std::string& text, const std::string& needle);
// The id of the run of `runbook` that ListRuns lists last, or "" when there
// is none (e.g. the child run a `runbook` step started).
std::string RunIdOfRunbook(const CliSandbox& box, const std::string& runbook);
// The string at obj[key], or "" when absent or not a string.
std::string JsonString(const boost::json::value& obj, std::string_view key);
// The element of show's "steps" array with this id, or null.
const boost::json::object* FindStep(const boost::json::value& show, std::string_view id);

// A process as /proc/PID/stat shows it.
struct ProcInfo {
  pid_t pid = 0;
  std::string comm;
  char state = '?';  // R, S, D, Z (zombie), ...
  pid_t ppid = 0;
  pid_t pgrp = 0;
  // "1234 (sleep) state S ppid 1 pgrp 1230"
  std::string Describe() const;
};
// nullopt if no such process exists.
std::optional<ProcInfo> ProcessInfo(pid_t pid);
std::optional<pid_t> ProcessGroupOf(pid_t pid);
// Every process whose process group is `pgid`.
std::vector<ProcInfo> ProcessesInGroup(pid_t pgid);

// Counts per event kind of one run (journal API).
std::map<std::string, int> CountEventKinds(const journal::Journal& j, const std::string& run_id);

}  // namespace runbook::clitest
