#include "journal/path.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace runbook::journal {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string HomeDir() {
  std::string home = Env("HOME");
  if (!home.empty()) return home;
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? size : 16384);
  passwd pw;
  passwd* result = nullptr;
  if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &result) == 0 && result &&
      result->pw_dir)
    return result->pw_dir;
  return ".";
}

std::string Errno() { return std::strerror(errno); }

// mkdir -p with mode 0700 for the directories it creates; existing ones are
// left as they are.
Status MakeParentDirs(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return Status::Ok();
  std::string dir = path.substr(0, slash);
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::IoError("cannot create directory " + dir + ": " + std::strerror(ENOTDIR));
  }
  if (Status s = MakeParentDirs(dir); !s.ok()) return s;
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::IoError("cannot create directory " + dir + ": " + Errno());
  return Status::Ok();
}

}  // namespace

std::string DefaultJournalPath() {
  std::string explicit_path = Env("RUNBOOK_JOURNAL");
  if (!explicit_path.empty()) return explicit_path;
  std::string state = Env("XDG_STATE_HOME");
  // The XDG spec says relative values are invalid and must be ignored.
  if (state.empty() || state[0] != '/') state = HomeDir() + "/.local/state";
  return state + "/runbook/journal.db";
}

namespace {

// The checks on an existing `path`: a regular file, not a symbolic link.
Status CheckFileType(const std::string& path, const struct stat& st) {
  if (S_ISLNK(st.st_mode)) return Status::FailedPrecondition("journal path is a symbolic link: " + path);
  if (!S_ISREG(st.st_mode)) return Status::FailedPrecondition(path + " is not a runbook journal (not a regular file)");
  return Status::Ok();
}

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Writes the empty journal to a file without a name in `path`'s directory
// (O_TMPFILE), or where that is not supported under a temporary name, and
// links it to `path`. Ok with *created = false when `path` appeared meanwhile.
Status LinkNewJournal(const std::string& path, bool use_tmpfile, bool* created) {
  size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string temp;
  int fd = use_tmpfile ? open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600) : -1;
  if (fd < 0) {
    use_tmpfile = false;
    // Unique among processes (pid) and attempts (clock); O_EXCL refuses the
    // rest. Left behind only if this process is killed in the next lines.
    temp = path + ".new-" + std::to_string(getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IoError("cannot open journal " + path + ": " + Errno());
  }
  auto fail = [&](const std::string& what) {
    Status s = Status::IoError(what + " " + path + ": " + Errno());
    close(fd);
    if (!temp.empty()) unlink(temp.c_str());
    return s;
  };
  if (!WriteAll(fd, EmptyJournalImage())) return fail("cannot create journal");
  int rc;
  if (use_tmpfile) {
    // linkat(AT_EMPTY_PATH) needs a capability; the /proc link does not.
    std::string self = "/proc/self/fd/" + std::to_string(fd);
    rc = linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW);
  } else {
    rc = link(temp.c_str(), path.c_str());
  }
  int e = errno;
  close(fd);
  if (!temp.empty()) unlink(temp.c_str());
  if (rc == 0) {
    *created = true;
    return Status::Ok();
  }
  if (e == EEXIST) return Status::Ok();  // another process was first: theirs is used
  // No /proc: the same with a temporary name.
  if (use_tmpfile && e == ENOENT) return LinkNewJournal(path, false, created);
  errno = e;
  return Status::IoError("cannot create journal " + path + ": " + Errno());
}

}  // namespace

Status CreateJournalFile(const std::string& path, bool* created) {
  bool made = false;
  if (created) *created = false;
  if (path.empty()) return Status::InvalidArgument("journal path is empty");
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) return CheckFileType(path, st);
  if (Status s = MakeParentDirs(path); !s.ok()) return s;
  if (Status s = LinkNewJournal(path, /*use_tmpfile=*/true, &made); !s.ok()) return s;
  if (created) *created = made;
  if (made) return Status::Ok();
  // Someone else's file, created meanwhile: check it like any other.
  if (lstat(path.c_str(), &st) != 0) return Status::IoError("cannot open journal " + path + ": " + Errno());
  return CheckFileType(path, st);
}

Status CheckExistingJournalFile(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("no journal at " + path);
    return Status::IoError("cannot read journal " + path + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) return Status::InvalidArgument("journal path is a symbolic link: " + path);
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument(path + " is not a runbook journal (not a regular file)");
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot read journal " + path + ": " + std::strerror(errno));
  char header[16] = {0};
  ssize_t n = read(fd, header, sizeof header);
  close(fd);
  if (n == 0) return Status::Corruption(path + " is not a runbook journal (the file is empty)");
  if (n < 16 || std::memcmp(header, "SQLite format 3", 16) != 0)
    return Status::Corruption(path + " is not a runbook journal (file is not a database)");
  return Status::Ok();
}

}  // namespace runbook::journal
