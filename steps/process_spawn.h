// What the POSIX ProcessLauncher (process_posix.cc) needs from the system,
// without Asio: spawning a child into a process group of its own with its
// stdio on pipes, finding a program in PATH, asking whether a process group
// still has live members, reading and writing pipes. Private to
// steps/process_*.cc. Plain functions without state; any thread.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "steps/process.h"

namespace runbook::steps::posix {

std::string ErrnoText(int e);

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

// A spawned child, leader of its process group, and our ends of its pipes.
struct Spawned {
  pid_t pid = 0;
  UniqueFd stdout_read, stderr_read, stdin_write;  // stdin_write: only with stdin_data
};

// Fails with "cannot change directory to 'DIR': ..." unless `dir` is a
// directory we may enter.
Status CheckDirectory(const std::string& dir);

// PATH in `env` ("KEY=VALUE" entries), else /usr/local/bin:/usr/bin:/bin.
std::string_view PathOf(const std::vector<std::string>& env);

// execvp's search of `path` for `name` (no '/'), done here so that errors are
// ours to word; the child execs the returned path, argv[0] stays as given. A
// relative PATH entry is relative to `cwd`.
Result<std::string> ResolveProgram(const std::string& name, std::string_view path, const std::string& cwd);

// Spawns `program` (a path) with the request's argv, environment, cwd and
// stdio (stdin /dev/null or a pipe, stdout and stderr pipes; our ends
// non-blocking) in a new process group, every signal at its default.
Result<Spawned> Spawn(const ProcessRequest& req, const std::string& program);

// Is a process of group `pgid`, other than a zombie, still around?
bool GroupHasLiveMembers(pid_t pgid);

// write() that reports EPIPE instead of raising SIGPIPE.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size);

// read(), retried on EINTR.
ssize_t ReadSome(int fd, char* buf, size_t size);

}  // namespace runbook::steps::posix
