#include "report/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <streambuf>
#include <vector>

namespace runbook::report {

namespace {

// An output streambuf over a file descriptor, remembering the first error.
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd), buf_(1 << 16) { setp(buf_.data(), buf_.data() + buf_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!Drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return Drain() ? 0 : -1; }

 private:
  bool Drain() {
    const char* p = pbase();
    size_t left = static_cast<size_t>(pptr() - pbase());
    while (left > 0 && error_ == 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        break;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    setp(buf_.data(), buf_.data() + buf_.size());
    return error_ == 0;
  }

  int fd_;
  std::vector<char> buf_;
  int error_ = 0;
};

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status Errno(const std::string& path, int err) {
  return Status::IoError("cannot write " + path + ": " + std::strerror(err));
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::function<Status(std::ostream&)>& write) {
  if (path.empty() || path.back() == '/') return Status::IoError("cannot write '" + path + "': not a file name");
  std::string dir = DirOf(path);
  std::string temp = dir + "/." + BaseOf(path) + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return Errno(path, errno);
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(temp.c_str());
    return s;
  };
  if (::fchmod(fd, 0600) != 0) return fail(Errno(path, errno));
  FdBuf buf(fd);
  std::ostream out(&buf);
  Status s = write(out);
  if (!s.ok()) return fail(s);
  out.flush();
  if (buf.error() != 0) return fail(Errno(path, buf.error()));
  if (!out.good()) return fail(Status::IoError("cannot write " + path));
  if (::fsync(fd) != 0) return fail(Errno(path, errno));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return Errno(path, err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return Errno(path, err);
  }
  // Make the rename durable too (best effort: some file systems refuse).
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace runbook::report
