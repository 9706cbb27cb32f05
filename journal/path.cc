#include "journal/path.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

Status CreateJournalFile(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("journal path is empty");
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) return Status::FailedPrecondition("journal path is a symbolic link: " + path);
    if (!S_ISREG(st.st_mode))
      return Status::FailedPrecondition(path + " is not a runbook journal (not a regular file)");
    return Status::Ok();
  }
  if (Status s = MakeParentDirs(path); !s.ok()) return s;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == ELOOP) return Status::FailedPrecondition("journal path is a symbolic link: " + path);
    return Status::IoError("cannot open journal " + path + ": " + Errno());
  }
  close(fd);
  return Status::Ok();
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
