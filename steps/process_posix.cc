// The POSIX ProcessLauncher (see process.h for the contract).
//
// Spawning: posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK), no copy of the
// engine's page tables), with POSIX_SPAWN_SETPGROUP (new group, same
// session), an empty signal mask and every signal back to SIG_DFL, stdio
// dup'ed from our pipes (or /dev/null), chdir, and closefrom(3). Boost 1.81's
// Process v2 launchers were rejected: vfork_launcher calls
// io_context::notify_fork(fork_child) inside the vfork child, which rebuilds
// the epoll reactor in memory shared with the parent (and calls exit(), not
// _exit()); default_launcher forks the whole engine, rebuilds the reactor in
// every child, replaces argv[0] by the path, calls exit() on exec failure and
// leaves that child unreaped. Process v2 supplies the exit wait:
// basic_process_handle on a pidfd, awaited on the io_context like any
// descriptor (no SIGCHLD handler, no thread, no waitpid(-1) stealing other
// children). Linux only: pidfd_open (5.3), glibc 2.34's closefrom action,
// /proc. glibc leaves its two internal signals (32, 33; not visible to
// programs) ignored in the child when we have handlers for them.
//
// Supervision: one coroutine per concern, joined with `&&`: the exit waiter,
// a reader per output stream, the stdin writer and the supervisor, which
// sleeps on one timer that every event cancels (a condition variable for a
// single thread) and walks: wait for exit, timeout or cancel -> SIGTERM the
// group -> grace -> SIGKILL -> stop what is left of the group the same way ->
// drain the pipes to EOF.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <system_error>

#include "engine/status.h"
#include "steps/boost_process.h"
#include "steps/process.h"
// After boost_process.h, which configures it.
#include <boost/process/v2/process_handle.hpp>

namespace runbook::steps {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kChunk = 64 * 1024;
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
// Once the process group is gone, nothing of the step can still write to the
// pipes; if they are not at EOF by then, a process that left the group holds
// them, and we stop waiting for it.
constexpr milliseconds kDrainAfterGroupGone{2000};
// Polling for the rest of a group (it is not made of our children).
constexpr milliseconds kFirstPoll{1};
constexpr milliseconds kMaxPoll{50};
// How long SIGKILLed processes get to disappear before we stop looking.
constexpr milliseconds kKillWait{5000};

std::string ErrnoText(int e) { return std::generic_category().message(e); }

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// The child's ends get dup2'ed onto 0, 1 and 2; a pipe end that is itself
// 0..2 (the engine was started with stdio closed) would be clobbered first.
Status MoveAbove2(UniqueFd& fd) {
  if (fd.get() > 2) return Status::Ok();
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return Status::IoError("cannot create pipe: " + ErrnoText(errno));
  fd.reset(moved);
  return Status::Ok();
}

struct Pipe {
  UniqueFd read, write;
};

// Both ends close-on-exec; `ours` (the parent's end) is non-blocking.
Status MakePipe(Pipe& p, bool ours_is_read_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::IoError("cannot create pipe: " + ErrnoText(errno));
  p.read.reset(fds[0]);
  p.write.reset(fds[1]);
  if (Status s = MoveAbove2(p.read); !s.ok()) return s;
  if (Status s = MoveAbove2(p.write); !s.ok()) return s;
  int ours = ours_is_read_end ? p.read.get() : p.write.get();
  if (::fcntl(ours, F_SETFL, O_NONBLOCK) != 0) return Status::IoError("cannot create pipe: " + ErrnoText(errno));
  return Status::Ok();
}

Status CheckDirectory(const std::string& dir) {
  struct stat sb;
  int e = 0;
  if (::stat(dir.c_str(), &sb) != 0) e = errno;
  else if (!S_ISDIR(sb.st_mode)) e = ENOTDIR;
  else if (::access(dir.c_str(), X_OK) != 0) e = errno;
  if (e == 0) return Status::Ok();
  return Status::NotFound("cannot change directory to '" + dir + "': " + ErrnoText(e));
}

// execvp's search, done here so that errors are ours to word. The child
// execs the returned path; argv[0] stays as given.
Result<std::string> ResolveProgram(const std::string& name, const std::vector<std::string>& env,
                                   const std::string& cwd) {
  if (name.empty()) return Status::NotFound("cannot execute '': " + ErrnoText(ENOENT));
  if (name.find('/') != std::string::npos) return name;
  std::string_view path = kDefaultPath;
  for (const std::string& e : env) {
    if (e.rfind("PATH=", 0) == 0) {
      path = std::string_view(e).substr(5);
      break;
    }
  }
  bool denied = false;
  for (size_t pos = 0;;) {
    size_t colon = path.find(':', pos);
    std::string_view dir = path.substr(pos, colon == std::string_view::npos ? colon : colon - pos);
    if (!dir.empty()) {
      std::string candidate = std::string(dir) + "/" + name;
      // A relative PATH entry is relative to the child's directory.
      std::string probe = dir[0] != '/' && !cwd.empty() ? cwd + "/" + candidate : candidate;
      struct stat sb;
      if (::stat(probe.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (::access(probe.c_str(), X_OK) == 0) return candidate;
        denied = true;
      }
    }
    if (colon == std::string_view::npos) break;
    pos = colon + 1;
  }
  return Status::NotFound("cannot execute '" + name + "': " + ErrnoText(denied ? EACCES : ENOENT));
}

struct Spawned {
  pid_t pid = 0;
  UniqueFd stdout_read, stderr_read, stdin_write;  // stdin_write: only with stdin_data
};

class SpawnAttributes {
 public:
  SpawnAttributes() {
    ::posix_spawnattr_init(&attr_);
    ::posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnAttributes() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  posix_spawnattr_t* attr() { return &attr_; }
  posix_spawn_file_actions_t* actions() { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

Result<Spawned> Spawn(const ProcessRequest& req) {
  if (req.argv.empty()) return Status::InvalidArgument("cannot execute: empty argv");
  if (!req.cwd.empty()) {
    if (Status s = CheckDirectory(req.cwd); !s.ok()) return s;
  }
  Result<std::string> program = ResolveProgram(req.argv[0], req.env, req.cwd);
  if (!program.ok()) return program.status();

  Pipe out, err, in;
  if (Status s = MakePipe(out, true); !s.ok()) return s;
  if (Status s = MakePipe(err, true); !s.ok()) return s;
  if (req.stdin_data) {
    if (Status s = MakePipe(in, false); !s.ok()) return s;
  }

  SpawnAttributes sa;
  int rc = ::posix_spawnattr_setflags(sa.attr(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                     POSIX_SPAWN_SETSIGDEF);
  if (rc == 0) rc = ::posix_spawnattr_setpgroup(sa.attr(), 0);
  sigset_t signals;
  ::sigemptyset(&signals);
  if (rc == 0) rc = ::posix_spawnattr_setsigmask(sa.attr(), &signals);
  ::sigfillset(&signals);
  if (rc == 0) rc = ::posix_spawnattr_setsigdefault(sa.attr(), &signals);
  posix_spawn_file_actions_t* fa = sa.actions();
  if (rc == 0) {
    rc = req.stdin_data ? ::posix_spawn_file_actions_adddup2(fa, in.read.get(), STDIN_FILENO)
                        : ::posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(fa, out.write.get(), STDOUT_FILENO);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(fa, err.write.get(), STDERR_FILENO);
  if (rc == 0 && !req.cwd.empty()) rc = ::posix_spawn_file_actions_addchdir_np(fa, req.cwd.c_str());
  // Our pipes are close-on-exec already; this also covers descriptors that
  // some library opened without O_CLOEXEC.
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1);
  if (rc != 0) return Status::Internal("cannot prepare the spawn of '" + req.argv[0] + "': " + ErrnoText(rc));

  std::vector<char*> argv, envp;
  argv.reserve(req.argv.size() + 1);
  for (const std::string& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  envp.reserve(req.env.size() + 1);
  for (const std::string& e : req.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = 0;
  // glibc reports a failed exec here (and reaps that child itself).
  rc = ::posix_spawn(&pid, program->c_str(), fa, sa.attr(), argv.data(), envp.data());
  if (rc != 0) {
    if (!req.cwd.empty()) {
      if (Status s = CheckDirectory(req.cwd); !s.ok()) return s;
    }
    return Status::NotFound("cannot execute '" + req.argv[0] + "': " + ErrnoText(rc));
  }
  return Spawned{pid, std::move(out.read), std::move(err.read), std::move(in.write)};
}

// Is a process of group `pgid`, other than a zombie, still around? kill(0)
// answers for the common case (nobody: ESRCH); it also counts zombies, which
// an init that does not reap (some containers) keeps forever, so a positive
// answer is checked against /proc.
bool GroupHasLiveMembers(pid_t pgid) {
  if (::kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return true;
  bool live = false;
  char path[300];
  char buf[512];
  while (!live) {
    const dirent* d = ::readdir(proc);
    if (d == nullptr) break;
    if (d->d_name[0] < '1' || d->d_name[0] > '9') continue;
    std::snprintf(path, sizeof path, "/proc/%s/stat", d->d_name);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    // "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
    const char* close_paren = std::strrchr(buf, ')');
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (close_paren && std::sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) == 3)
      live = pgrp == pgid && state != 'Z' && state != 'X';
  }
  ::closedir(proc);
  return live;
}

// write() to a pipe whose reader is gone raises SIGPIPE, which would kill the
// engine. Block it for the call and swallow the one we caused; this leaves
// the process's signal dispositions alone.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only, old;
  ::sigemptyset(&pipe_only);
  ::sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  ssize_t n = ::write(fd, data, size);
  int saved = errno;
  if (n < 0 && saved == EPIPE && !::sigismember(&old, SIGPIPE)) {
    const timespec no_wait{0, 0};
    while (::sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

// Everything the coroutines of one Run() share. Lives in Run()'s frame;
// callbacks that may outlive it hold the weak `token`.
struct RunState {
  explicit RunState(const asio::any_io_executor& ex) : wake(ex), stdout_pipe(ex), stderr_pipe(ex), stdin_pipe(ex) {}

  // The supervisor sleeps on `wake`; every event cancels it.
  void Wake() { wake.cancel(); }
  void RequestCancel() {
    if (cancel_requested || exited) return;
    cancel_requested = true;
    Wake();
  }

  asio::steady_timer wake;
  asio::posix::stream_descriptor stdout_pipe, stderr_pipe, stdin_pipe;
  pid_t pid = 0;  // also the process group id
  bool exited = false;
  int wait_status = 0;
  std::string wait_error;
  bool cancel_requested = false;
  std::optional<ProcessResult::End> stopped_by;  // kTimedOut or kCancelled
  int open_streams = 0;  // readers and stdin writer still running
  bool abandon = false;  // stop waiting for EOF: a process outside the group holds a pipe
  std::exception_ptr sink_error;
};

// Asio cancellation of Run()'s caller becomes a cancel request; nothing is
// forwarded to our own operations, which must finish their job. Trivially
// destructible on purpose (g++ 12 may destroy temporaries in a co_await
// expression twice); removed again before `st` dies.
struct CancelFilter {
  RunState* st;
  asio::cancellation_type_t operator()(asio::cancellation_type_t type) const {
    if (type != asio::cancellation_type::none) st->RequestCancel();
    return asio::cancellation_type::none;
  }
};

asio::awaitable<void> SleepUntil(RunState& st, Clock::time_point until) {
  st.wake.expires_at(until);
  boost::system::error_code ignored;
  co_await st.wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

asio::awaitable<void> WaitForExit(RunState& st, bp::basic_process_handle<asio::any_io_executor>& handle) {
  boost::system::error_code ec;
  int status = co_await handle.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN?).
    st.wait_error = "cannot wait for pid " + std::to_string(st.pid) + ": " + ec.message();
  } else {
    st.wait_status = status;
  }
  st.exited = true;
  st.Wake();
}

asio::awaitable<void> ReadStream(RunState& st, asio::posix::stream_descriptor& pipe, Stream stream,
                                 OutputSink& sink) {
  std::unique_ptr<char[]> buf(new char[kChunk]);
  bool forward = true;
  for (;;) {
    boost::system::error_code ec;
    size_t n = 0;
    if (st.abandon) {
      // Take what is already in the pipe, without waiting for more.
      pipe.non_blocking(true, ec);
      if (!ec) n = pipe.read_some(asio::buffer(buf.get(), kChunk), ec);
    } else {
      n = co_await pipe.async_read_some(asio::buffer(buf.get(), kChunk),
                                        asio::redirect_error(asio::use_awaitable, ec));
    }
    if (n > 0 && forward) {
      try {
        co_await sink.OnOutput(stream, std::string_view(buf.get(), n));
      } catch (...) {
        if (!st.sink_error) st.sink_error = std::current_exception();
        forward = false;  // keep draining, so that the child does not block on a full pipe
        st.RequestCancel();
      }
    }
    if (ec == asio::error::operation_aborted && st.abandon) continue;
    if (ec) break;  // eof, would_block after abandon, or a real error
  }
  boost::system::error_code ignored;
  pipe.close(ignored);
  --st.open_streams;
  st.Wake();
}

asio::awaitable<void> WriteStdin(RunState& st, std::string_view data) {
  while (!data.empty() && !st.abandon) {
    boost::system::error_code ec;
    co_await st.stdin_pipe.async_wait(asio::posix::descriptor_base::wait_write,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    ssize_t n = WriteWithoutSigpipe(st.stdin_pipe.native_handle(), data.data(), std::min(data.size(), kChunk));
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;  // EPIPE: the child does not read its stdin; not an error
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  boost::system::error_code ignored;
  st.stdin_pipe.close(ignored);
  --st.open_streams;
  st.Wake();
}

// Returns whether some of the group still lives at `until`.
asio::awaitable<bool> PollWhileGroupLives(RunState& st, Clock::time_point until) {
  milliseconds poll = kFirstPoll;
  bool live = GroupHasLiveMembers(st.pid);
  while (live && Clock::now() < until) {
    co_await SleepUntil(st, std::min(until, Clock::now() + poll));
    poll = std::min(poll * 2, kMaxPoll);
    live = GroupHasLiveMembers(st.pid);
  }
  co_return live;
}

asio::awaitable<void> Supervise(RunState& st, const ProcessRequest& req, Clock::time_point start) {
  const auto deadline = req.timeout.count() > 0 ? start + req.timeout : Clock::time_point::max();
  while (!st.exited && !st.cancel_requested && Clock::now() < deadline) co_await SleepUntil(st, deadline);

  bool term_sent = false;
  bool kill_sent = false;
  Clock::time_point kill_at;
  auto send_term = [&] {
    ::kill(-st.pid, SIGTERM);
    term_sent = true;
    kill_at = Clock::now() + req.kill_grace;
  };
  if (!st.exited) {
    st.stopped_by = st.cancel_requested ? ProcessResult::End::kCancelled : ProcessResult::End::kTimedOut;
    send_term();
    while (!st.exited && Clock::now() < kill_at) co_await SleepUntil(st, kill_at);
    if (!st.exited) {
      ::kill(-st.pid, SIGKILL);
      kill_sent = true;
      while (!st.exited) co_await SleepUntil(st, Clock::time_point::max());
    }
  }

  // The main child is reaped. What is left of its group goes the same way
  // (the group id cannot be reused while a member lives).
  if (GroupHasLiveMembers(st.pid)) {
    if (!term_sent) send_term();
    if (!kill_sent) {
      bool live = co_await PollWhileGroupLives(st, kill_at);
      if (live) {
        ::kill(-st.pid, SIGKILL);
        kill_sent = true;
      }
    }
    // Killed processes take a moment to go; one stuck in the kernel may not.
    if (kill_sent) co_await PollWhileGroupLives(st, Clock::now() + kKillWait);
  }

  const auto drain_until = Clock::now() + kDrainAfterGroupGone;
  while (st.open_streams > 0 && Clock::now() < drain_until) co_await SleepUntil(st, drain_until);
  if (st.open_streams > 0) {
    st.abandon = true;
    boost::system::error_code ignored;
    st.stdout_pipe.cancel(ignored);
    st.stderr_pipe.cancel(ignored);
    st.stdin_pipe.cancel(ignored);
  }
}

// If Run()'s frame dies before the child was reaped (the io_context was
// destroyed under it), the group dies with it, synchronously.
struct ReapGuard {
  const RunState& st;
  ~ReapGuard() {
    if (st.pid > 0 && !st.exited) {
      ::kill(-st.pid, SIGKILL);
      while (::waitpid(st.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
};

ProcessResult Finish(const RunState& st, Clock::time_point start) {
  ProcessResult r;
  r.pid = st.pid;
  if (WIFEXITED(st.wait_status)) {
    r.end = ProcessResult::End::kExited;
    r.exit_code = WEXITSTATUS(st.wait_status);
  } else if (WIFSIGNALED(st.wait_status)) {
    r.end = ProcessResult::End::kSignaled;
    r.signal = WTERMSIG(st.wait_status);
  }
  if (!st.wait_error.empty()) {
    r.end = ProcessResult::End::kExited;
    r.exit_code = -1;
    r.error = st.wait_error;
  }
  if (st.stopped_by) r.end = *st.stopped_by;
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  return r;
}

class PosixProcessLauncher : public ProcessLauncher {
 public:
  explicit PosixProcessLauncher(asio::any_io_executor ex) : ex_(std::move(ex)) {}

  asio::awaitable<ProcessResult> Run(const ProcessRequest& request, OutputSink& sink,
                                     CancelSignal& cancel) override {
    // A thread of our own, so that our cancellation filter does not outlive
    // this call in the caller's cancellation state.
    auto supervised = asio::co_spawn(ex_, Supervised(request, sink, cancel), asio::use_awaitable);
    co_return co_await std::move(supervised);
  }

 private:
  asio::awaitable<ProcessResult> Supervised(const ProcessRequest& req, OutputSink& sink, CancelSignal& cancel) {
    using namespace asio::experimental::awaitable_operators;  // NOLINT: operator&& for awaitables
    const Clock::time_point start = Clock::now();
    if (cancel.emitted()) {
      ProcessResult r;
      r.end = ProcessResult::End::kCancelled;
      co_return r;
    }
    Result<Spawned> spawned = Spawn(req);
    if (!spawned.ok()) {
      ProcessResult r;
      r.end = ProcessResult::End::kLaunchFailed;
      r.error = spawned.status().message();
      r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
      co_return r;
    }

    RunState st(ex_);
    st.pid = spawned->pid;
    ReapGuard guard{st};
    std::optional<bp::basic_process_handle<asio::any_io_executor>> handle;
    try {
      UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
      if (pidfd.get() < 0) throw std::system_error(errno, std::generic_category(), "pidfd_open");
      handle.emplace(ex_, st.pid, pidfd.get());
      pidfd.release();
      st.stdout_pipe.assign(spawned->stdout_read.release());
      st.stderr_pipe.assign(spawned->stderr_read.release());
      if (req.stdin_data) st.stdin_pipe.assign(spawned->stdin_write.release());
    } catch (const std::exception& e) {
      // Out of descriptors or the like: the child ran, but we cannot watch it.
      ProcessResult r;
      r.end = ProcessResult::End::kLaunchFailed;
      r.error = "cannot supervise '" + req.argv[0] + "': " + e.what();
      r.pid = st.pid;
      co_return r;  // ReapGuard kills and reaps it
    }

    // CancelSignal cannot disconnect; the callback may outlive this frame.
    auto token = std::make_shared<RunState*>(&st);
    cancel.Connect([weak = std::weak_ptr<RunState*>(token)] {
      if (auto state = weak.lock()) (*state)->RequestCancel();
    });
    co_await asio::this_coro::reset_cancellation_state(CancelFilter{&st});

    st.open_streams = req.stdin_data ? 3 : 2;
    std::string_view input = req.stdin_data ? std::string_view(*req.stdin_data) : std::string_view();
    std::exception_ptr failure;
    try {
      // Named, not temporaries inside the co_await: g++ 12 mishandles those.
      asio::awaitable<void> stdin_task = req.stdin_data ? WriteStdin(st, input) : NoStdin();
      asio::awaitable<void> readers = ReadStream(st, st.stdout_pipe, Stream::kStdout, sink) &&
                                      ReadStream(st, st.stderr_pipe, Stream::kStderr, sink);
      asio::awaitable<void> all = WaitForExit(st, *handle) && Supervise(st, req, start);
      all = std::move(all) && std::move(readers);
      all = std::move(all) && std::move(stdin_task);
      co_await std::move(all);
    } catch (...) {
      failure = std::current_exception();  // only bad_alloc and the like; ReapGuard cleans up
    }
    co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
    if (failure) std::rethrow_exception(failure);
    ProcessResult r = Finish(st, start);
    if (st.sink_error) std::rethrow_exception(st.sink_error);
    co_return r;
  }

  static asio::awaitable<void> NoStdin() { co_return; }

  asio::any_io_executor ex_;
};

}  // namespace

std::unique_ptr<ProcessLauncher> MakePosixProcessLauncher(boost::asio::any_io_executor ex) {
  return std::make_unique<PosixProcessLauncher>(std::move(ex));
}

}  // namespace runbook::steps
