#include "journal/identity.h"

#include <sys/random.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace runbook::journal {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string NewRunId() {
  // getrandom(2) directly: OpenSSL's generator would be set up just for
  // these six bytes (a quarter of a one-step run's instructions).
  unsigned char bytes[6];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::abort();  // no entropy source at all: nothing sensible to do
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

std::string UserName() {
  // Looked up once per process (a passwd lookup reads nsswitch.conf and
  // /etc/passwd; a run needs the name several times).
  static const std::string name = [] {
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(size > 0 ? size : 16384);
    passwd pw;
    passwd* result = nullptr;
    if (getpwuid_r(geteuid(), &pw, buf.data(), buf.size(), &result) == 0 && result && result->pw_name &&
        *result->pw_name)
      return std::string(result->pw_name);
    if (const char* user = std::getenv("USER"); user && *user) return std::string(user);
    return std::to_string(geteuid());
  }();
  return name;
}

std::string LocalActor() { return UserName() + "@" + HostName(); }

namespace {

struct ProcStat {
  char state = '?';
  int64_t start_time = 0;
};

std::optional<ProcStat> ReadProcStat(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the
  // fields are counted from the last ')'. After it comes field 3 (state).
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  ProcStat out;
  std::string field;
  for (int n = 3; n <= 22; ++n) {
    if (!(fields >> field)) return std::nullopt;
    if (n == 3) out.state = field[0];
  }
  char* end = nullptr;
  long long ticks = std::strtoll(field.c_str(), &end, 10);
  if (end == field.c_str() || *end != '\0') return std::nullopt;
  out.start_time = ticks;
  return out;
}

}  // namespace

std::optional<int64_t> ProcessStartTime(int64_t pid) {
  std::optional<ProcStat> stat = ReadProcStat(pid);
  if (!stat) return std::nullopt;
  return stat->start_time;
}

std::string BootId() {
  // A process does not outlive a reboot; stale detection asks once per
  // 'running' run of the journal.
  static const std::string boot_id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    if (!in || !std::getline(in, id)) return std::string();
    return id;
  }();
  return boot_id;
}

ProcessIdentity CurrentProcess() {
  ProcessIdentity p;
  p.host = HostName();
  p.pid = getpid();
  p.start_time = ProcessStartTime(p.pid).value_or(0);
  p.boot_id = BootId();
  return p;
}

bool ProcessIsAlive(const ProcessIdentity& recorded) {
  if (recorded.pid <= 0) return false;
  if (!recorded.boot_id.empty()) {
    std::string now = BootId();
    if (!now.empty() && now != recorded.boot_id) return false;
  }
  if (kill(static_cast<pid_t>(recorded.pid), 0) != 0 && errno != EPERM) return false;
  std::optional<ProcStat> stat = ReadProcStat(recorded.pid);
  if (!stat) return false;  // exited between kill() and the read
  if (stat->state == 'Z' || stat->state == 'X') return false;  // dead, not yet reaped
  return stat->start_time == recorded.start_time;
}

}  // namespace runbook::journal
