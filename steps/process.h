// ProcessLauncher: the seam through which `shell` and `exec` steps run a child
// process (STYLE.md rule 4). The real implementation (process_posix.cc) spawns
// with posix_spawn into a new process group, streams stdout and stderr to an
// OutputSink with backpressure, and stops the whole group on timeout or cancel
// with SIGTERM, a grace period, then SIGKILL (SPEC.md §5). Tests use
// tests/fakes/fake_process_launcher.h instead.
//
// Threading: a launcher and everything passed to Run() belong to the run's one
// io_context thread; Run() never blocks that thread except for the spawn
// itself. Any number of Run() calls may be in flight at once.
//
// Contract for what a step may start: no process of a step outlives it. When
// the main child exits, whatever is left in its process group (`sleep 1000 &`,
// grandchildren holding the output pipes) gets SIGTERM, then SIGKILL after
// the grace; a step must not leave daemons behind. Something meant to outlive
// the step has to leave the group on purpose (`setsid`, `systemd-run`); such a
// process is out of our hands: it is not signalled, and if it keeps the
// output pipes open we stop reading them shortly after the group is gone.
//
// Keep this header light: Asio's awaitable and executor only, never Process.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cancel.h"

namespace runbook::steps {

enum class Stream { kStdout, kStderr };

struct ProcessRequest {
  // argv[0] is looked up in the PATH of `env` when it has no '/' (PATH unset:
  // /usr/local/bin:/usr/bin:/bin; empty PATH entries are skipped). A relative
  // path with a '/' is relative to `cwd`. The child sees argv[0] unchanged.
  // A launcher remembers where it found a name (for the same PATH and cwd)
  // and looks again only once that program cannot be executed: a program
  // put earlier in PATH while a run goes is not picked up by that run.
  std::vector<std::string> argv;
  std::vector<std::string> env;           // the complete environment, "KEY=VALUE"; nothing is inherited
  std::string cwd;                        // empty: the engine's own
  std::optional<std::string> stdin_data;  // nullopt: stdin is /dev/null; else written to a pipe, then closed
  std::chrono::milliseconds timeout{0};   // 0: none
  std::chrono::milliseconds kill_grace{10000};  // SIGTERM -> SIGKILL delay
};

struct ProcessResult {
  enum class End {
    kExited,       // exit_code is set
    kSignaled,     // signal is set
    kTimedOut,     // `timeout` elapsed; signal/exit_code: how the child finally ended
    kCancelled,    // the CancelSignal fired (or the awaiting coroutine was cancelled)
    kLaunchFailed  // nothing ran; error says why
  };
  End end = End::kLaunchFailed;
  int exit_code = -1;
  int signal = 0;
  // kLaunchFailed: "cannot execute 'nosuch': No such file or directory",
  // "cannot change directory to '/x': No such file or directory", ...
  std::string error;
  std::chrono::microseconds duration{0};  // from the spawn to the end of Run()
  int pid = 0;                            // also the process group id; 0 if nothing ran
};

// "exited", "signaled", "timed_out", "cancelled", "launch_failed".
std::string_view ToString(ProcessResult::End end);

// Where a child's output goes, chunk by chunk (at most 64 KiB, byte-exact).
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // The launcher reads no further from stream `s` until the returned
  // awaitable completes: this is the backpressure when the journal falls
  // behind. The other stream keeps flowing. `data` is valid until then.
  // Should not throw; if it does, the process group is stopped as if
  // cancelled, and Run() rethrows once every process is gone.
  virtual boost::asio::awaitable<void> OnOutput(Stream s, std::string_view data) = 0;
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Runs one process to the end (see the file comment). Launch failures are
  // results, not exceptions. If `cancel` has already been emitted nothing is
  // spawned and the result is kCancelled. Asio cancellation of the awaiting
  // coroutine (e.g. losing an `||` race) acts like `cancel`: the group is
  // stopped and Run() completes only once every process is gone.
  // REQUIRES: the arguments outlive the co_await of the returned awaitable.
  virtual boost::asio::awaitable<ProcessResult> Run(const ProcessRequest& request, OutputSink& sink,
                                                    CancelSignal& cancel) = 0;
};

// The real thing. Children's I/O and timers run on `ex`, which must be the
// executor of the io_context thread that awaits Run(). The process must not
// set SIGCHLD to SIG_IGN (children would be reaped behind our back).
std::unique_ptr<ProcessLauncher> MakePosixProcessLauncher(boost::asio::any_io_executor ex);

}  // namespace runbook::steps
