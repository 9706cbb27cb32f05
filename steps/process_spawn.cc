// The system side of the POSIX ProcessLauncher (see process_spawn.h and, for
// the choice of posix_spawn, process_posix.cc).
#include "steps/process_spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace runbook::steps::posix {
namespace {

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

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

// stdout's and stderr's pipes, and stdin's when there is stdin data.
Status MakeStdioPipes(const ProcessRequest& req, Pipe& out, Pipe& err, Pipe& in) {
  if (Status s = MakePipe(out, true); !s.ok()) return s;
  if (Status s = MakePipe(err, true); !s.ok()) return s;
  if (req.stdin_data) return MakePipe(in, false);
  return Status::Ok();
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

#if defined(__SANITIZE_THREAD__)

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

#else

// What the vfork child does (Spawn): it runs on our stack, in our memory,
// while this thread waits, until it execs or exits. Only system calls, and
// the one write it may make is `error`.
struct ChildPlan {
  const char* program = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;  // nullptr: ours
  int stdin_fd = -1;          // -1: /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
  volatile int error = 0;     // errno of the step that failed; the child then exits 127
};

// A function of its own, so that the child's calls use stack below
// Spawn's frame and leave Spawn's variables alone.
[[noreturn]] __attribute__((noinline)) void ExecChild(ChildPlan* plan) {
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  // Every signal at its default (glibc refuses its two internal ones, 32
  // and 33, which stay as they are, as with posix_spawn).
  for (int sig = 1; sig < NSIG; ++sig) (void)::sigaction(sig, &dfl, nullptr);
  int fail = 0;
  if (::setpgid(0, 0) != 0) fail = errno;
  if (fail == 0) {
    // Not close-on-exec: it may be 0 itself (our stdin closed); above 2,
    // closefrom below closes it.
    int in = plan->stdin_fd >= 0 ? plan->stdin_fd : ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, STDIN_FILENO) < 0) fail = errno;
  }
  if (fail == 0 && ::dup2(plan->stdout_fd, STDOUT_FILENO) < 0) fail = errno;
  if (fail == 0 && ::dup2(plan->stderr_fd, STDERR_FILENO) < 0) fail = errno;
  if (fail == 0 && plan->cwd != nullptr && ::chdir(plan->cwd) != 0) fail = errno;
  if (fail == 0) {
    // Our pipes are close-on-exec already; this also covers descriptors
    // that some library opened without O_CLOEXEC.
    (void)::close_range(STDERR_FILENO + 1, ~0U, 0);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(plan->program, plan->argv, plan->envp);
    fail = errno;
  }
  plan->error = fail;
  ::_exit(127);
}

#endif

// A spawn that failed with errno `e`: a missing or unusable directory is
// named as such, anything else is the program's.
Status SpawnFailed(const ProcessRequest& req, int e) {
  if (!req.cwd.empty()) {
    if (Status s = CheckDirectory(req.cwd); !s.ok()) return s;
  }
  return Status::NotFound("cannot execute '" + req.argv[0] + "': " + ErrnoText(e));
}

}  // namespace

std::string ErrnoText(int e) { return std::generic_category().message(e); }

Status CheckDirectory(const std::string& dir) {
  struct stat sb;
  int e = 0;
  if (::stat(dir.c_str(), &sb) != 0) e = errno;
  else if (!S_ISDIR(sb.st_mode)) e = ENOTDIR;
  else if (::access(dir.c_str(), X_OK) != 0) e = errno;
  if (e == 0) return Status::Ok();
  return Status::NotFound("cannot change directory to '" + dir + "': " + ErrnoText(e));
}

std::string_view PathOf(const std::vector<std::string>& env) {
  for (const std::string& e : env)
    if (e.rfind("PATH=", 0) == 0) return std::string_view(e).substr(5);
  return kDefaultPath;
}

// execvp's search, done here so that errors are ours to word. The child
// execs the returned path; argv[0] stays as given.
Result<std::string> ResolveProgram(const std::string& name, std::string_view path, const std::string& cwd) {
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

#if defined(__SANITIZE_THREAD__)

// ThreadSanitizer turns vfork() into fork(), where the child's error cannot
// reach the parent through memory: posix_spawn does the same work there.
Result<Spawned> Spawn(const ProcessRequest& req, const std::string& program) {
  Pipe out, err, in;
  if (Status s = MakeStdioPipes(req, out, err, in); !s.ok()) return s;

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
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1);
  if (rc != 0) return Status::Internal("cannot prepare the spawn of '" + req.argv[0] + "': " + ErrnoText(rc));

  std::vector<char*> argv = CStrings(req.argv), envp = CStrings(req.env);
  pid_t pid = 0;
  // glibc reports a failed exec here (and reaps that child itself).
  rc = ::posix_spawn(&pid, program.c_str(), fa, sa.attr(), argv.data(), envp.data());
  if (rc != 0) return SpawnFailed(req, rc);
  return Spawned{pid, std::move(out.read), std::move(err.read), std::move(in.write)};
}

#else

// Spawns `program` (a path) with the request's argv, environment and stdio.
Result<Spawned> Spawn(const ProcessRequest& req, const std::string& program) {
  Pipe out, err, in;
  if (Status s = MakeStdioPipes(req, out, err, in); !s.ok()) return s;
  std::vector<char*> argv = CStrings(req.argv), envp = CStrings(req.env);
  ChildPlan plan;
  plan.program = program.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.cwd = req.cwd.empty() ? nullptr : req.cwd.c_str();
  plan.stdin_fd = req.stdin_data ? in.read.get() : -1;
  plan.stdout_fd = out.write.get();
  plan.stderr_fd = err.write.get();

  // Every signal blocked from before the child exists until it has reset
  // them all to SIG_DFL: none of our handlers may run in it (it shares our
  // memory until it execs).
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::vfork();
  if (pid == 0) ExecChild(&plan);
  const int vfork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return Status::Internal("cannot spawn '" + req.argv[0] + "': " + ErrnoText(vfork_errno));
  if (plan.error != 0) {
    // The child exists, and exits 127 at once: reap it here.
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return SpawnFailed(req, plan.error);
  }
  return Spawned{pid, std::move(out.read), std::move(err.read), std::move(in.write)};
}

#endif

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

ssize_t ReadSome(int fd, char* buf, size_t size) {
  ssize_t n;
  do {
    n = ::read(fd, buf, size);
  } while (n < 0 && errno == EINTR);
  return n;
}

}  // namespace runbook::steps::posix
