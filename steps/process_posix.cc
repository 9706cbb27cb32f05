// The POSIX ProcessLauncher (see process.h for the contract).
//
// Spawning: vfork (no copy of the engine's page tables; unlike glibc's
// posix_spawn, which does the same with clone(CLONE_VM|CLONE_VFORK), no
// child stack to map and unmap each time: an munmap in a process with a
// second thread costs a TLB shootdown, about 3% of a fanout), and in the
// child a new process group (same session), every signal back to SIG_DFL
// and an empty mask, stdio dup'ed from our pipes (or /dev/null), chdir, and
// closefrom(3) (steps/process_spawn.cc; posix_spawn under ThreadSanitizer,
// which turns vfork into fork). Boost 1.81's
// Process v2 launchers were rejected: vfork_launcher calls
// io_context::notify_fork(fork_child) inside the vfork child, which rebuilds
// the epoll reactor in memory shared with the parent (and calls exit(), not
// _exit()); default_launcher forks the whole engine, rebuilds the reactor in
// every child, replaces argv[0] by the path, calls exit() on exec failure and
// leaves that child unreaped. The program is looked up in PATH once per
// launcher and name (a run), not for every step.
//
// The exit wait: a pidfd (pidfd_open, Linux 5.3), watched by the io_context
// like any descriptor, then waitpid() of that one child: no SIGCHLD handler,
// no thread, no waitpid(-1) stealing other children. Where pidfd_open does not
// exist (older kernels, valgrind) the child is polled with waitpid(WNOHANG),
// 1 ms doubling to 50 ms. glibc leaves its two internal signals (32, 33; not
// visible to programs) ignored in the child when we have handlers for them.
//
// Supervision: one coroutine per Run(). Readiness of the pidfd and the pipes
// arrives as reactor callbacks that set a flag and wake it (a timer that
// every event cancels: a condition variable for a single thread); it reaps,
// reads, writes stdin, and walks: wait for exit, timeout or cancel -> SIGTERM
// the group -> grace -> SIGKILL -> stop what is left of the group the same
// way -> drain the pipes to EOF. A stream that produces output gets a
// coroutine of its own that hands the chunks to the sink, so that a slow sink
// holds back only that stream; a stream with no output (most steps) costs no
// coroutine and no buffer of its own.
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <exception>
#include <system_error>
#include <unordered_map>

#include "engine/status.h"
#include "steps/process.h"
#include "steps/process_spawn.h"

namespace runbook::steps {
namespace {

using posix::CheckDirectory;
using posix::ErrnoText;
using posix::GroupHasLiveMembers;
using posix::PathOf;
using posix::ReadSome;
using posix::ResolveProgram;
using posix::Spawn;
using posix::Spawned;
using posix::UniqueFd;
using posix::WriteWithoutSigpipe;

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kChunk = 64 * 1024;
// A capture pipe that filled up once (the child writes faster than the sink
// takes it) is enlarged to this, so that big outputs arrive in full chunks.
constexpr int kBigPipe = 1 << 20;
constexpr size_t kSpareBuffers = 8;
constexpr size_t kMaxCachedPrograms = 256;
// Once the process group is gone, nothing of the step can still write to the
// pipes; if they are not at EOF by then, a process that left the group holds
// them, and we stop waiting for it.
constexpr milliseconds kDrainAfterGroupGone{2000};
// Polling for the rest of a group (it is not made of our children), and for
// the exit where there is no pidfd.
constexpr milliseconds kFirstPoll{1};
constexpr milliseconds kMaxPoll{50};
// How long SIGKILLed processes get to disappear before we stop looking.
constexpr milliseconds kKillWait{5000};

using Buffer = std::unique_ptr<char[]>;

// Read buffers, reused across Run()s: a 64 KiB malloc and free per stream and
// step costs more than the step's other allocations together.
class BufferPool {
 public:
  Buffer Get() {
    if (spare_.empty()) return Buffer(new char[kChunk]);
    Buffer b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }
  void Put(Buffer b) {
    if (b && spare_.size() < kSpareBuffers) spare_.push_back(std::move(b));
  }

 private:
  std::vector<Buffer> spare_;
};

// One output pipe of a Run().
struct OutPipe {
  OutPipe(const asio::any_io_executor& ex, Stream s) : pipe(ex), stream(s) {}
  asio::posix::stream_descriptor pipe;
  Stream stream;
  bool open = false;
  bool waiting = false;     // the supervisor's readiness wait is pending
  bool ready = false;       // readable or at EOF, not read yet
  bool forwarding = false;  // a Forward() coroutine owns the pipe until its EOF
  bool grown = false;       // F_SETPIPE_SZ tried
};

// Everything one Run() shares. Lives in Supervised()'s frame, which outlives
// every callback and coroutine that refers to it (`pending` and
// `forwarders` count them; the frame waits for both to reach 0).
struct RunState {
  RunState(const asio::any_io_executor& executor, BufferPool& p, OutputSink& s)
      : ex(executor), pool(p), sink(s), wake(executor), out(executor, Stream::kStdout),
        err(executor, Stream::kStderr), stdin_pipe(executor), exit_fd(executor) {}

  // The supervisor sleeps on `wake`; every event cancels it.
  void Wake() {
    woken = true;
    wake.cancel();
  }
  void RequestCancel() {
    if (cancel_requested || exited) return;
    cancel_requested = true;
    Wake();
  }
  int open_streams() const { return out.open + err.open + stdin_open; }

  asio::any_io_executor ex;
  BufferPool& pool;
  OutputSink& sink;
  asio::steady_timer wake;
  bool woken = false;
  OutPipe out, err;
  asio::posix::stream_descriptor stdin_pipe;
  std::string_view input;  // what is left to write to stdin
  bool stdin_open = false, stdin_waiting = false, stdin_ready = false;
  asio::posix::stream_descriptor exit_fd;  // the pidfd; not open without one
  bool exit_waiting = false, exit_ready = false;
  milliseconds exit_poll = kFirstPoll;  // without a pidfd
  int pending = 0;                      // reactor callbacks not run yet
  int forwarders = 0;                   // Forward() coroutines not finished yet
  pid_t pid = 0;  // also the process group id
  bool exited = false;
  int wait_status = 0;
  std::string wait_error;
  bool cancel_requested = false;
  std::optional<ProcessResult::End> stopped_by;  // kTimedOut or kCancelled
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

void ClosePipe(RunState& st, OutPipe& o) {
  boost::system::error_code ignored;
  o.pipe.close(ignored);
  o.open = false;
  st.Wake();
}

void CloseStdin(RunState& st) {
  boost::system::error_code ignored;
  st.stdin_pipe.close(ignored);
  st.stdin_open = false;
  st.Wake();
}

// Reactor callbacks: record the readiness, wake the supervisor.
void WaitReadable(RunState& st, OutPipe& o) {
  o.waiting = true;
  ++st.pending;
  o.pipe.async_wait(asio::posix::descriptor_base::wait_read, [s = &st, p = &o](boost::system::error_code ec) {
    --s->pending;
    p->waiting = false;
    if (!ec) p->ready = true;
    s->Wake();
  });
}

void WaitWritable(RunState& st) {
  st.stdin_waiting = true;
  ++st.pending;
  st.stdin_pipe.async_wait(asio::posix::descriptor_base::wait_write, [s = &st](boost::system::error_code ec) {
    --s->pending;
    s->stdin_waiting = false;
    if (!ec) s->stdin_ready = true;
    s->Wake();
  });
}

void WaitExit(RunState& st) {
  st.exit_waiting = true;
  ++st.pending;
  st.exit_fd.async_wait(asio::posix::descriptor_base::wait_read, [s = &st](boost::system::error_code ec) {
    --s->pending;
    s->exit_waiting = false;
    if (!ec) s->exit_ready = true;
    s->Wake();
  });
}

void TryReap(RunState& st) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(st.pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return;  // not yet
  if (r == st.pid) {
    st.wait_status = status;
  } else {
    // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN?).
    st.wait_error = "cannot wait for pid " + std::to_string(st.pid) + ": " + ErrnoText(errno);
  }
  st.exited = true;
  if (st.exit_fd.is_open()) {
    boost::system::error_code ignored;
    st.exit_fd.close(ignored);
  }
}

// The rest of a stream once it produced output: hands each chunk to the sink
// and waits for the next, until EOF (or, once abandoned, until the pipe is
// empty). A sink that throws stops the group; the pipe is still drained so
// that the child does not block on it.
asio::awaitable<void> Forward(RunState& st, OutPipe& o, Buffer buf, size_t n) {
  const int fd = o.pipe.native_handle();
  bool forward = true;
  for (;;) {
    if (n > 0 && forward) {
      try {
        co_await st.sink.OnOutput(o.stream, std::string_view(buf.get(), n));
      } catch (...) {
        if (!st.sink_error) st.sink_error = std::current_exception();
        forward = false;
        st.RequestCancel();
      }
    }
    if (n == kChunk && !o.grown) {
      o.grown = true;
      ::fcntl(fd, F_SETPIPE_SZ, kBigPipe);  // best effort (pipe-max-size)
    }
    ssize_t r = ReadSome(fd, buf.get(), kChunk);
    if (r > 0) {
      n = static_cast<size_t>(r);
      continue;
    }
    if (r == 0 || errno != EAGAIN || st.abandon) break;
    n = 0;
    boost::system::error_code ec;
    co_await o.pipe.async_wait(asio::posix::descriptor_base::wait_read,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec && ec != asio::error::operation_aborted) break;  // operation_aborted: abandoned, take what is left
  }
  st.pool.Put(std::move(buf));
  ClosePipe(st, o);
}

void StartForward(RunState& st, OutPipe& o, Buffer buf, size_t n) {
  o.forwarding = true;
  ++st.forwarders;
  asio::co_spawn(st.ex, Forward(st, o, std::move(buf), n), [s = &st](std::exception_ptr e) {
    // Forward() catches the sink's exceptions; this is bad_alloc and the like.
    if (e && !s->sink_error) s->sink_error = e;
    --s->forwarders;
    s->Wake();
  });
}

void PumpOutput(RunState& st, OutPipe& o) {
  if (!o.open || o.forwarding || o.waiting) return;
  if (!o.ready && !st.abandon) {
    WaitReadable(st, o);
    return;
  }
  o.ready = false;
  Buffer buf = st.pool.Get();
  ssize_t n = ReadSome(o.pipe.native_handle(), buf.get(), kChunk);
  if (n > 0) {
    StartForward(st, o, std::move(buf), static_cast<size_t>(n));
    return;
  }
  const int e = errno;
  st.pool.Put(std::move(buf));
  if (n < 0 && e == EAGAIN && !st.abandon) {
    WaitReadable(st, o);
  } else {
    ClosePipe(st, o);  // EOF, an error, or abandoned and empty
  }
}

void PumpStdin(RunState& st) {
  if (!st.stdin_open || st.stdin_waiting) return;
  if (st.abandon) {
    CloseStdin(st);
    return;
  }
  if (!st.stdin_ready) {
    WaitWritable(st);
    return;
  }
  st.stdin_ready = false;
  while (!st.input.empty()) {
    ssize_t n = WriteWithoutSigpipe(st.stdin_pipe.native_handle(), st.input.data(), std::min(st.input.size(), kChunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        WaitWritable(st);
        return;
      }
      break;  // EPIPE: the child does not read its stdin; not an error
    }
    st.input.remove_prefix(static_cast<size_t>(n));
  }
  CloseStdin(st);
}

// Acts on whatever the callbacks reported, and (re)arms the waits.
void Pump(RunState& st) {
  if (!st.exited) {
    if (!st.exit_fd.is_open()) {
      TryReap(st);  // no pidfd: polled
    } else if (st.exit_ready) {
      st.exit_ready = false;
      TryReap(st);
    }
    if (!st.exited && st.exit_fd.is_open() && !st.exit_waiting) WaitExit(st);
  }
  PumpOutput(st, st.out);
  PumpOutput(st, st.err);
  PumpStdin(st);
}

// Returns after `until` or the next event, whichever is first, having acted
// on the events.
asio::awaitable<void> SleepUntil(RunState& st, Clock::time_point until) {
  if (!st.woken) {
    if (!st.exited && !st.exit_fd.is_open()) {
      until = std::min(until, Clock::now() + st.exit_poll);
      st.exit_poll = std::min(st.exit_poll * 2, kMaxPoll);
    }
    st.wake.expires_at(until);
    boost::system::error_code ignored;
    co_await st.wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  st.woken = false;
  Pump(st);
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
  Pump(st);
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
  while (st.open_streams() > 0 && Clock::now() < drain_until) co_await SleepUntil(st, drain_until);
  if (st.open_streams() > 0) {
    st.abandon = true;
    boost::system::error_code ignored;
    st.out.pipe.cancel(ignored);
    st.err.pipe.cancel(ignored);
    st.stdin_pipe.cancel(ignored);
    st.Wake();
  }
}

// Waits until no callback or coroutine refers to `st` any more. After the
// supervision every stream is closed or abandoned, so this is quick.
asio::awaitable<void> Settle(RunState& st) {
  while (st.pending > 0 || st.forwarders > 0 || st.open_streams() > 0)
    co_await SleepUntil(st, Clock::time_point::max());
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
  // Checks the request and spawns, finding argv[0] in PATH unless it names a
  // path; a name found before is not looked up again (once per run for `sh`).
  Result<Spawned> Start(const ProcessRequest& req) {
    if (req.argv.empty()) return Status::InvalidArgument("cannot execute: empty argv");
    if (!req.cwd.empty()) {
      if (Status s = CheckDirectory(req.cwd); !s.ok()) return s;
    }
    const std::string& name = req.argv[0];
    if (name.empty()) return Status::NotFound("cannot execute '': " + ErrnoText(ENOENT));
    if (name.find('/') != std::string::npos) return Spawn(req, name);
    std::string_view path = PathOf(req.env);
    std::string key;
    key.reserve(name.size() + path.size() + req.cwd.size() + 2);
    key.append(name).append(1, '\0').append(path).append(1, '\0').append(req.cwd);
    if (auto it = programs_.find(key); it != programs_.end()) {
      Result<Spawned> spawned = Spawn(req, it->second);
      if (spawned.ok()) return spawned;
      programs_.erase(it);  // gone or changed since: look again
    }
    Result<std::string> program = ResolveProgram(name, path, req.cwd);
    if (!program.ok()) return program.status();
    if (programs_.size() >= kMaxCachedPrograms) programs_.clear();
    const std::string& resolved = programs_.emplace(std::move(key), std::move(*program)).first->second;
    return Spawn(req, resolved);
  }

  asio::awaitable<ProcessResult> Supervised(const ProcessRequest& req, OutputSink& sink, CancelSignal& cancel) {
    const Clock::time_point start = Clock::now();
    if (cancel.emitted()) {
      ProcessResult r;
      r.end = ProcessResult::End::kCancelled;
      co_return r;
    }
    Result<Spawned> spawned = Start(req);
    if (!spawned.ok()) {
      ProcessResult r;
      r.end = ProcessResult::End::kLaunchFailed;
      r.error = spawned.status().message();
      r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
      co_return r;
    }

    RunState st(ex_, buffers_, sink);
    st.pid = spawned->pid;
    ReapGuard guard{st};
    try {
      UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
      if (pidfd.get() < 0 && errno != ENOSYS) throw std::system_error(errno, std::generic_category(), "pidfd_open");
      if (pidfd.get() >= 0) st.exit_fd.assign(pidfd.release());
      st.out.pipe.assign(spawned->stdout_read.release());
      st.out.open = true;
      st.err.pipe.assign(spawned->stderr_read.release());
      st.err.open = true;
      if (req.stdin_data) {
        st.stdin_pipe.assign(spawned->stdin_write.release());
        st.stdin_open = true;
        st.input = *req.stdin_data;
      }
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

    std::exception_ptr failure;
    try {
      co_await Supervise(st, req, start);
      co_await Settle(st);
    } catch (...) {
      failure = std::current_exception();  // only bad_alloc and the like
    }
    if (failure) {
      // Nothing may refer to `st` once this frame is gone: stop everything,
      // then wait for the callbacks and coroutines to see it.
      if (!st.exited) ::kill(-st.pid, SIGKILL);
      st.abandon = true;
      boost::system::error_code ignored;
      st.out.pipe.close(ignored);
      st.err.pipe.close(ignored);
      st.stdin_pipe.close(ignored);
      st.exit_fd.close(ignored);
      while (st.pending > 0 || st.forwarders > 0) {
        st.wake.expires_at(Clock::time_point::max());
        co_await st.wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      }
    }
    co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
    if (failure) std::rethrow_exception(failure);
    ProcessResult r = Finish(st, start);
    if (st.sink_error) std::rethrow_exception(st.sink_error);
    co_return r;
  }

  asio::any_io_executor ex_;
  BufferPool buffers_;
  std::unordered_map<std::string, std::string> programs_;  // name, PATH, cwd -> path
};

}  // namespace

std::unique_ptr<ProcessLauncher> MakePosixProcessLauncher(boost::asio::any_io_executor ex) {
  return std::make_unique<PosixProcessLauncher>(std::move(ex));
}

}  // namespace runbook::steps
