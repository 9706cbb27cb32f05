#include "journal/start_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "journal/identity.h"

namespace runbook::journal {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

// A complete line: every field present with its type.
std::optional<LoggedStart> ParseLine(std::string_view line) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const boost::json::object& o = v.get_object();
  auto text = [&](const char* key) -> const boost::json::string* {
    const boost::json::value* f = o.if_contains(key);
    return f ? f->if_string() : nullptr;
  };
  auto number = [&](const char* key) -> const int64_t* {
    const boost::json::value* f = o.if_contains(key);
    return f ? f->if_int64() : nullptr;
  };
  const boost::json::string *run = text("run"), *step = text("step"), *block = text("block"),
                            *message = text("message"), *actor = text("actor"), *data = text("data");
  const int64_t *attempt = number("attempt"), *started = number("started_at");
  if (!run || !step || !block || !message || !actor || !data || !attempt || !started) return std::nullopt;
  std::optional<Block> b = ParseBlock(*block);
  if (!b || *attempt < 1 || *attempt > INT32_MAX) return std::nullopt;
  LoggedStart s;
  s.attempt.run_id = std::string(*run);
  s.attempt.step_id = std::string(*step);
  s.attempt.block = *b;
  s.attempt.attempt = static_cast<int>(*attempt);
  s.attempt.status = AttemptStatus::kRunning;
  s.attempt.started_at_us = *started;
  s.event.run_id = s.attempt.run_id;
  s.event.step_id = s.attempt.step_id;
  s.event.attempt = s.attempt.attempt;
  s.event.ts_us = *started;
  s.event.kind = "step_started";
  s.event.actor = std::string(*actor);
  s.event.message = std::string(*message);
  s.event.data_json = std::string(*data);
  return s;
}

}  // namespace

std::string StartLogPath(const std::string& journal_path, const ProcessIdentity& owner) {
  return journal_path + "-starts-" + owner.boot_id + "-" + std::to_string(owner.pid) + "-" +
         std::to_string(owner.start_time);
}

std::string StartLogLine(const AttemptRecord& running, const EventRecord& started) {
  boost::json::object o;
  o["run"] = running.run_id;
  o["step"] = running.step_id;
  o["block"] = ToString(running.block);
  o["attempt"] = running.attempt;
  o["started_at"] = running.started_at_us.value_or(started.ts_us);
  o["message"] = started.message;
  o["actor"] = started.actor;
  o["data"] = started.data_json;
  std::string line = boost::json::serialize(o);
  line.push_back('\n');
  return line;
}

Result<std::vector<LoggedStart>> ReadStartLog(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::vector<LoggedStart>{};
    return Errno("cannot open the start log", path);
  }
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot read the start log", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  std::vector<LoggedStart> starts;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) break;  // cut short: never written whole
    if (std::optional<LoggedStart> s = ParseLine(std::string_view(content).substr(pos, end - pos)))
      starts.push_back(std::move(*s));
    pos = end + 1;
  }
  return starts;
}

StartLogWriter::~StartLogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status StartLogWriter::Append(std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0) {
    if (path_.empty()) path_ = StartLogPath(journal_path_, CurrentProcess());
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ < 0) return Errno("cannot create the start log", path_);
    size_ = 0;
  }
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      Status s = Errno("cannot write the start log", path_);
      // The next line must not continue this one's fragment.
      (void)!::ftruncate(fd_, size_);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  size_ += static_cast<int64_t>(line.size());
  return Status::Ok();
}

int64_t StartLogWriter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

void StartLogWriter::TruncateIfUnchanged(int64_t size, int64_t threshold) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0 || size_ != size || size_ < threshold) return;
  if (::ftruncate(fd_, 0) == 0) size_ = 0;
}

void StartLogWriter::Remove() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  size_ = 0;
  (void)::unlink(path_.c_str());
}

}  // namespace runbook::journal
