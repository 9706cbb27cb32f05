#include "cli/concurrency.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "journal/identity.h"

namespace runbook::cli {
namespace {

// Group names become file names: anything but [A-Za-z0-9._-] is escaped.
std::string FileName(const std::string& group) {
  std::string out;
  for (unsigned char c : group) {
    if (std::isalnum(c) || c == '-' || c == '_' || (c == '.' && !out.empty())) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out + ".lock";
}

std::string ReadHolder(int fd) {
  char buf[256];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "another run";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s.empty() ? "another run" : s;
}

}  // namespace

GroupLock::~GroupLock() {
  if (fd_ >= 0) close(fd_);  // releases the flock
}

Result<std::unique_ptr<GroupLock>> GroupLock::Acquire(const std::string& journal_path, const ConcurrencySpec& spec,
                                                      const std::string& me,
                                                      const std::function<void(const std::string&)>& on_wait,
                                                      std::string& holder) {
  std::filesystem::path dir = journal_path + ".locks";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create lock directory " + dir.string() + ": " + ec.message());
  std::string path = (dir / FileName(spec.group)).string();
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::IoError("cannot open lock file " + path + ": " + strerror(errno));
  std::unique_ptr<GroupLock> lock(new GroupLock(fd));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Status::IoError("cannot lock " + path + ": " + strerror(errno));
    holder = ReadHolder(fd);
    if (spec.policy != ConcurrencyPolicy::kQueue) return std::unique_ptr<GroupLock>();
    if (on_wait) on_wait(holder);
    while (flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return Status::IoError("cannot lock " + path + ": " + strerror(errno));
    }
  }
  std::string text = me + " (pid " + std::to_string(getpid()) + ", " + journal::LocalActor() + ")\n";
  if (ftruncate(fd, 0) == 0) {
    ssize_t w = pwrite(fd, text.data(), text.size(), 0);
    (void)w;  // the holder text is for messages only
  }
  return lock;
}

}  // namespace runbook::cli
