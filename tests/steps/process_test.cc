// The POSIX ProcessLauncher against real child processes: process groups,
// streaming with backpressure, timeouts and cancellation (SIGTERM, grace,
// SIGKILL), leftovers of the group, launch failures, signal hygiene, many
// processes at once. Bounds on time are generous (a loaded 2-core machine):
// they only separate "waited for the grace/kill" from "did not".
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "steps/process.h"

namespace runbook::steps {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;
using End = ProcessResult::End;

struct ProcInfo {
  int pid = 0;
  char state = 0;
  int ppid = 0;
  int pgrp = 0;
  int session = 0;
};

std::optional<ProcInfo> ReadProc(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  size_t paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  ProcInfo p;
  p.pid = pid;
  std::istringstream rest(line.substr(paren + 1));
  rest >> p.state >> p.ppid >> p.pgrp >> p.session;
  return p;
}

std::vector<ProcInfo> AllProcesses() {
  std::vector<ProcInfo> all;
  DIR* d = opendir("/proc");
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    if (auto p = ReadProc(std::atoi(e->d_name))) all.push_back(*p);
  }
  closedir(d);
  return all;
}

// Processes of group `pgid` that still run (zombies are dead; reaping
// orphans is init's job, and this sandbox's init does not do it).
std::vector<int> LiveGroupMembers(int pgid) {
  std::vector<int> live;
  for (const ProcInfo& p : AllProcesses())
    if (p.pgrp == pgid && p.state != 'Z' && p.state != 'X') live.push_back(p.pid);
  return live;
}

// Our own unreaped children.
std::vector<int> OurZombies() {
  std::vector<int> z;
  for (const ProcInfo& p : AllProcesses())
    if (p.ppid == getpid() && p.state == 'Z') z.push_back(p.pid);
  return z;
}

bool IsRunning(int pid) {
  auto p = ReadProc(pid);
  return p && p->state != 'Z' && p->state != 'X';
}

int OpenFdCount() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (const dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

long StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

class CollectingSink : public OutputSink {
 public:
  asio::awaitable<void> OnOutput(Stream s, std::string_view data) override {
    EXPECT_LE(data.size(), 64u * 1024);
    EXPECT_FALSE(data.empty());
    ++chunks;
    max_chunk = std::max(max_chunk, data.size());
    bytes += data.size();
    if (keep) (s == Stream::kStdout ? out : err).append(data);
    if (on_chunk) co_await on_chunk(s, data);
  }

  bool keep = true;
  std::string out, err;
  size_t chunks = 0, max_chunk = 0, bytes = 0;
  std::function<asio::awaitable<void>(Stream, std::string_view)> on_chunk;
};

class PosixProcessLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/runbook-process-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(tmp_); }

  static ProcessRequest Request(std::vector<std::string> argv) {
    ProcessRequest r;
    r.argv = std::move(argv);
    r.env = {"PATH=/usr/bin:/bin"};
    return r;
  }
  static ProcessRequest Shell(const std::string& script) { return Request({"sh", "-c", script}); }

  // Runs one request to completion on io_; fails the test if it takes over
  // `limit` (which would otherwise hang the suite).
  ProcessResult Run(const ProcessRequest& req, CollectingSink& sink, CancelSignal& cancel,
                    seconds limit = seconds(60)) {
    std::optional<ProcessResult> result;
    asio::co_spawn(io_, launcher_->Run(req, sink, cancel), [&](std::exception_ptr e, ProcessResult r) {
      if (e) std::rethrow_exception(e);
      result = r;
    });
    io_.run_for(limit);
    io_.restart();
    if (!result) {
      ADD_FAILURE() << "Run() did not complete within " << limit.count() << " s";
      return ProcessResult{};
    }
    return *result;
  }
  ProcessResult Run(const ProcessRequest& req, CollectingSink& sink) {
    CancelSignal cancel;
    return Run(req, sink, cancel);
  }

  std::string WriteFile(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = tmp_ + "/" + name;
    std::ofstream(path) << content;
    chmod(path.c_str(), mode);
    return path;
  }

  asio::io_context io_;
  std::unique_ptr<ProcessLauncher> launcher_ = MakePosixProcessLauncher(io_.get_executor());
  std::string tmp_;
};

TEST_F(PosixProcessLauncherTest, ReportsExitCodeAndBothStreams) {
  CollectingSink sink;
  ProcessResult r = Run(Shell("echo out; echo err >&2; exit 3"), sink);
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(sink.out, "out\n");
  EXPECT_EQ(sink.err, "err\n");
  EXPECT_GT(r.pid, 0);
  EXPECT_GT(r.duration.count(), 0);
  EXPECT_TRUE(OurZombies().empty());
}

TEST_F(PosixProcessLauncherTest, ReportsDeathBySignal) {
  CollectingSink sink;
  ProcessResult r = Run(Shell("kill -USR1 $$"), sink);
  EXPECT_EQ(r.end, End::kSignaled);
  EXPECT_EQ(r.signal, SIGUSR1);
}

TEST_F(PosixProcessLauncherTest, ChildGetsExactlyTheRequestedEnvironmentAndArgv) {
  CollectingSink sink;
  ProcessRequest req = Request({"env"});
  req.env = {"PATH=/usr/bin:/bin", "A=1 2", "EMPTY="};
  EXPECT_EQ(Run(req, sink).exit_code, 0);
  EXPECT_EQ(sink.out, "PATH=/usr/bin:/bin\nA=1 2\nEMPTY=\n");

  CollectingSink cmdline;
  Run(Shell("cat /proc/$$/cmdline"), cmdline);
  EXPECT_EQ(cmdline.out, std::string("sh\0-c\0cat /proc/$$/cmdline\0", 27)) << "argv[0] is passed unchanged";
}

TEST_F(PosixProcessLauncherTest, LooksUpProgramInPathOfRequestEnvironment) {
  WriteFile("hello", "#!/bin/sh\necho hello from $0\n", 0755);
  CollectingSink sink;
  ProcessRequest req = Request({"hello"});
  req.env = {"PATH=/nonexistent:" + tmp_ + ":/bin"};
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(sink.out, "hello from " + tmp_ + "/hello\n");

  CollectingSink other;
  req.env = {"PATH=/bin"};
  r = Run(req, other);
  EXPECT_EQ(r.end, End::kLaunchFailed);
  EXPECT_EQ(r.error, "cannot execute 'hello': No such file or directory");
}

TEST_F(PosixProcessLauncherTest, ProgramFoundInPathBeforeIsFoundAgainAfterItMoves) {
  // The launcher remembers where it found a name; a stale answer is looked up again.
  std::filesystem::create_directory(tmp_ + "/a");
  std::filesystem::create_directory(tmp_ + "/b");
  WriteFile("a/tool", "#!/bin/sh\necho a\n", 0755);
  ProcessRequest req = Request({"tool"});
  req.env = {"PATH=" + tmp_ + "/a:" + tmp_ + "/b:/bin"};
  CollectingSink first;
  EXPECT_EQ(Run(req, first).end, End::kExited);
  EXPECT_EQ(first.out, "a\n");

  std::filesystem::remove(tmp_ + "/a/tool");
  WriteFile("b/tool", "#!/bin/sh\necho b\n", 0755);
  CollectingSink second;
  EXPECT_EQ(Run(req, second).end, End::kExited);
  EXPECT_EQ(second.out, "b\n");

  std::filesystem::remove(tmp_ + "/b/tool");
  CollectingSink third;
  ProcessResult r = Run(req, third);
  EXPECT_EQ(r.end, End::kLaunchFailed);
  EXPECT_EQ(r.error, "cannot execute 'tool': No such file or directory");
}

TEST_F(PosixProcessLauncherTest, RunsInRequestedDirectory) {
  WriteFile("script", "#!/bin/sh\npwd\n", 0755);
  CollectingSink sink;
  ProcessRequest req = Request({"./script"});
  req.cwd = tmp_;
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(sink.out, tmp_ + "\n");
}

TEST_F(PosixProcessLauncherTest, ChildLeadsItsOwnProcessGroupInOurSession) {
  CollectingSink sink;
  ProcessResult r = Run(Shell("cut -d' ' -f5,6 /proc/$$/stat"), sink);
  ASSERT_EQ(r.end, End::kExited);
  EXPECT_EQ(sink.out, std::to_string(r.pid) + " " + std::to_string(getsid(0)) + "\n");
  EXPECT_NE(r.pid, getpgrp());
}

TEST_F(PosixProcessLauncherTest, LaunchFailuresAreResultsWithClearErrors) {
  std::string text = WriteFile("text", "not a program\n", 0644);
  struct Case {
    ProcessRequest req;
    std::string error;
  };
  std::vector<Case> cases = {
      {Request({"nosuch-program"}), "cannot execute 'nosuch-program': No such file or directory"},
      {Request({"/no/such/program"}), "cannot execute '/no/such/program': No such file or directory"},
      {Request({text}), "cannot execute '" + text + "': Permission denied"},
      {Request({tmp_}), "cannot execute '" + tmp_ + "': Permission denied"},
      {Request({}), "cannot execute: empty argv"},
  };
  ProcessRequest in_missing_dir = Request({"true"});
  in_missing_dir.cwd = "/no/such/dir";
  cases.push_back({in_missing_dir, "cannot change directory to '/no/such/dir': No such file or directory"});
  ProcessRequest in_file = Request({"true"});
  in_file.cwd = text;
  cases.push_back({in_file, "cannot change directory to '" + text + "': Not a directory"});
  ProcessRequest via_path = Request({"text"});
  via_path.env = {"PATH=" + tmp_};
  cases.push_back({via_path, "cannot execute 'text': Permission denied"});

  int fds = OpenFdCount();
  for (const Case& c : cases) {
    CollectingSink sink;
    ProcessResult r = Run(c.req, sink);
    EXPECT_EQ(r.end, End::kLaunchFailed) << c.error;
    EXPECT_EQ(r.error, c.error);
  }
  EXPECT_EQ(OpenFdCount(), fds);
  EXPECT_TRUE(OurZombies().empty());
}

TEST_F(PosixProcessLauncherTest, StdinIsDevNullByDefault) {
  CollectingSink sink;
  ProcessResult r = Run(Shell("readlink /proc/self/fd/0; cat"), sink);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(sink.out, "/dev/null\n");
}

TEST_F(PosixProcessLauncherTest, StdinDataIsWrittenThenClosed) {
  std::string data;
  for (int i = 0; i < 300000; ++i) data += static_cast<char>(i * 7);  // includes NULs, invalid UTF-8
  CollectingSink sink;
  ProcessRequest req = Request({"cat"});
  req.stdin_data = data;
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(sink.out == data) << "got " << sink.out.size() << " bytes";

  CollectingSink empty;
  req.stdin_data = "";
  EXPECT_EQ(Run(req, empty).exit_code, 0);
  EXPECT_EQ(empty.out, "");
}

TEST_F(PosixProcessLauncherTest, ChildNotReadingStdinDoesNotBlockUs) {
  CollectingSink sink;
  ProcessRequest req = Request({"true"});
  req.stdin_data = std::string(10 << 20, 'x');
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(r.exit_code, 0);

  CollectingSink head;
  req = Request({"head", "-c", "5"});
  req.stdin_data = std::string(10 << 20, 'y');
  r = Run(req, head);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(head.out, "yyyyy");
}

TEST_F(PosixProcessLauncherTest, OutputIsByteExact) {
  CollectingSink sink;
  ProcessResult r = Run(Shell(R"(printf 'a\000b\377c\n'; printf '\001\000\302' >&2)"), sink);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(sink.out, std::string("a\0b\xff" "c\n", 6));
  EXPECT_EQ(sink.err, std::string("\x01\0\xc2", 3));
}

TEST_F(PosixProcessLauncherTest, StreamsLargeOutputInBoundedChunksWithConstantMemory) {
  std::ofstream("/proc/self/clear_refs") << "5";  // reset VmHWM where allowed
  const long rss_before = StatusKb("VmRSS");
  CollectingSink sink;
  sink.keep = false;
  ProcessResult r = Run(Request({"head", "-c", "200000000", "/dev/zero"}), sink);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(sink.bytes, 200000000u);
  EXPECT_LE(sink.max_chunk, 64u * 1024);
  EXPECT_GT(sink.chunks, 200000000u / (64 * 1024));
  EXPECT_LT(StatusKb("VmHWM") - rss_before, 64 * 1024) << "kB: the output must not be buffered";
}

TEST_F(PosixProcessLauncherTest, ACapturePipeThatFillsUpIsEnlargedToOneMebibyte) {
  // While the sink sits on the first chunk the child fills the 64 KiB pipe;
  // the launcher then enlarges it, so that big outputs come in full chunks.
  long max_size = 0;
  std::ifstream("/proc/sys/fs/pipe-max-size") >> max_size;
  if (max_size < (1 << 20) || access("/usr/bin/python3", X_OK) != 0)
    GTEST_SKIP() << "needs fs.pipe-max-size >= 1 MiB and python3";
  CollectingSink sink;
  bool first = true;
  sink.on_chunk = [&](Stream s, std::string_view) -> asio::awaitable<void> {
    if (s != Stream::kStdout || !first) co_return;
    first = false;
    asio::steady_timer t(io_, milliseconds(300));
    co_await t.async_wait(asio::use_awaitable);
  };
  ProcessResult r = Run(
      Shell("head -c 300000 /dev/zero; python3 -c 'import fcntl, sys; sys.stderr.write(str(fcntl.fcntl(1, 1032)))'"),
      sink);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(sink.out.size(), 300000u);
  EXPECT_EQ(sink.err, std::to_string(1 << 20)) << "F_GETPIPE_SZ of the child's stdout";
}

TEST_F(PosixProcessLauncherTest, OutputArrivesWhileTheChildStillRuns) {
  CollectingSink sink;
  CancelSignal cancel;
  sink.on_chunk = [&](Stream, std::string_view) -> asio::awaitable<void> {
    if (sink.out.find("ready\n") != std::string::npos) cancel.Emit();
    co_return;
  };
  ProcessRequest req = Shell("echo ready; exec sleep 1000");
  ProcessResult r = Run(req, sink, cancel);
  EXPECT_EQ(r.end, End::kCancelled);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(sink.out, "ready\n");
}

TEST_F(PosixProcessLauncherTest, SlowSinkHoldsBackTheChildInsteadOfBuffering) {
  // 1 MB to stdout, then a line to stderr. While the sink sits on the first
  // stdout chunk, the child cannot get past the full pipe to the stderr line.
  CollectingSink sink;
  bool err_seen_while_stdout_busy = false;
  bool first = true;
  int stdout_in_sink = 0;
  sink.on_chunk = [&](Stream s, std::string_view) -> asio::awaitable<void> {
    if (s != Stream::kStdout) co_return;
    EXPECT_EQ(++stdout_in_sink, 1) << "one OnOutput at a time per stream";
    if (first) {
      first = false;
      asio::steady_timer t(io_, milliseconds(500));
      co_await t.async_wait(asio::use_awaitable);
      err_seen_while_stdout_busy = !sink.err.empty();
    }
    --stdout_in_sink;
  };
  ProcessResult r = Run(Shell("head -c 1000000 /dev/zero; echo done >&2"), sink);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(err_seen_while_stdout_busy);
  EXPECT_EQ(sink.out.size(), 1000000u);
  EXPECT_EQ(sink.err, "done\n");
}

TEST_F(PosixProcessLauncherTest, StderrFlowsWhileStdoutSinkIsBusy) {
  CollectingSink sink;
  asio::steady_timer gate(io_, asio::steady_timer::time_point::max());
  sink.on_chunk = [&](Stream s, std::string_view) -> asio::awaitable<void> {
    if (s == Stream::kStderr) {
      gate.cancel();
    } else if (sink.err.empty()) {
      boost::system::error_code ec;
      co_await gate.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  };
  CancelSignal cancel;
  ProcessResult r = Run(Shell("printf a; printf b >&2"), sink, cancel, seconds(20));
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(sink.out, "a");
  EXPECT_EQ(sink.err, "b");
}

TEST_F(PosixProcessLauncherTest, TimeoutSendsTermToTheWholeGroup) {
  CollectingSink sink;
  ProcessRequest req = Shell("sleep 1000 & echo $!; sleep 1000 & wait");
  req.timeout = milliseconds(300);
  req.kill_grace = seconds(30);
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.end, End::kTimedOut);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_GE(r.duration, milliseconds(300));
  EXPECT_LT(r.duration, seconds(20)) << "everything died of SIGTERM, no need for the grace";
  EXPECT_TRUE(LiveGroupMembers(r.pid).empty());
  EXPECT_FALSE(IsRunning(std::stoi(sink.out)));
  EXPECT_TRUE(OurZombies().empty());
}

TEST_F(PosixProcessLauncherTest, ChildIgnoringTermIsKilledAfterTheGrace) {
  CollectingSink sink;
  ProcessRequest req = Shell("trap '' TERM; sleep 1000");
  req.timeout = milliseconds(200);
  req.kill_grace = milliseconds(300);
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.end, End::kTimedOut);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(r.duration, milliseconds(500));
  EXPECT_LT(r.duration, seconds(20));
  EXPECT_TRUE(LiveGroupMembers(r.pid).empty());
}

TEST_F(PosixProcessLauncherTest, CancelSignalStopsTheGroupAndReportsCancelled) {
  CollectingSink sink;
  CancelSignal cancel;
  asio::steady_timer t(io_, milliseconds(200));
  t.async_wait([&](boost::system::error_code) { cancel.Emit(); });
  ProcessRequest req = Shell("sleep 1000 & sleep 1000");
  req.kill_grace = seconds(30);
  ProcessResult r = Run(req, sink, cancel);
  EXPECT_EQ(r.end, End::kCancelled);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_LT(r.duration, seconds(20));
  EXPECT_TRUE(LiveGroupMembers(r.pid).empty());
}

TEST_F(PosixProcessLauncherTest, AlreadyCancelledRequestSpawnsNothing) {
  CollectingSink sink;
  CancelSignal cancel;
  cancel.Emit();
  ProcessResult r = Run(Shell("echo ran"), sink, cancel);
  EXPECT_EQ(r.end, End::kCancelled);
  EXPECT_EQ(r.pid, 0);
  EXPECT_EQ(sink.out, "");
}

TEST_F(PosixProcessLauncherTest, LeftoversOfTheGroupAreStoppedWhenTheMainChildExits) {
  // The background sleep also holds stdout: without stopping it, reading
  // would never reach EOF.
  CollectingSink sink;
  ProcessRequest req = Shell("sleep 1000 & echo $!; exit 7");
  req.kill_grace = seconds(30);
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_LT(r.duration, seconds(20));
  EXPECT_FALSE(IsRunning(std::stoi(sink.out)));
  EXPECT_TRUE(LiveGroupMembers(r.pid).empty());
}

TEST_F(PosixProcessLauncherTest, LeftoverIgnoringTermIsKilledAfterTheGrace) {
  CollectingSink sink;
  // The trap comes first, so that the sleep ignores SIGTERM from birth.
  ProcessRequest req = Shell("trap '' TERM; sleep 1000 & echo $!");
  req.kill_grace = milliseconds(300);
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_GE(r.duration, milliseconds(300));
  EXPECT_FALSE(IsRunning(std::stoi(sink.out)));
  EXPECT_TRUE(LiveGroupMembers(r.pid).empty());
}

TEST_F(PosixProcessLauncherTest, ChildClosingItsOutputEarlyStillEndsWhenItExits) {
  CollectingSink sink;
  ProcessResult r = Run(Shell("echo before; exec >&- 2>&-; sleep 1; exit 4"), sink);
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_GE(r.duration, milliseconds(1000)) << "waited for the exit, not just EOF";
  EXPECT_EQ(sink.out, "before\n");
}

TEST_F(PosixProcessLauncherTest, ProcessThatLeftTheGroupDoesNotHoldUsForever) {
  // Out of scope for stopping, but it must not hang the step: once the
  // group is gone we stop waiting for EOF on pipes it still holds.
  CollectingSink sink;
  ProcessResult r = Run(Shell("setsid sleep 6 & echo started"), sink);
  EXPECT_EQ(r.end, End::kExited);
  EXPECT_EQ(sink.out, "started\n");
  EXPECT_LT(r.duration, milliseconds(5500));
}

TEST_F(PosixProcessLauncherTest, ChildStartsWithDefaultSignalsAndEmptyMaskWhateverOurs) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_term, old_int, old_pipe;
  sigaction(SIGTERM, &ignore, &old_term);
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGPIPE, &ignore, &old_pipe);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);

  CollectingSink status;
  ProcessResult r = Run(Request({"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"}), status);
  EXPECT_EQ(r.exit_code, 0);
  // glibc's posix_spawn leaves its two internal signals (32, 33; invisible
  // to programs, SIGRTMIN is 34) ignored when the parent has handlers for
  // them; everything else must be back to default.
  unsigned long long blocked = 0, ignored = 0;
  ASSERT_EQ(std::sscanf(status.out.c_str(), "SigBlk:\t%llx\nSigIgn:\t%llx\n", &blocked, &ignored), 2) << status.out;
  EXPECT_EQ(blocked, 0u);
  EXPECT_EQ(ignored & ~0x180000000ull, 0u) << status.out;

  CollectingSink sink;
  ProcessRequest req = Request({"sleep", "1000"});
  req.timeout = milliseconds(200);
  req.kill_grace = seconds(30);
  r = Run(req, sink);
  EXPECT_EQ(r.end, End::kTimedOut);
  EXPECT_EQ(r.signal, SIGTERM) << "a child can be terminated by SIGTERM";

  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
}

TEST_F(PosixProcessLauncherTest, WritingToAChildThatClosedStdinDoesNotKillUs) {
  // SIGPIPE keeps its default disposition here (fatal): the launcher must
  // not raise it when the child is gone before reading everything.
  ASSERT_NE(signal(SIGPIPE, SIG_DFL), SIG_ERR);
  CollectingSink sink;
  ProcessRequest req = Shell("exec 0<&-; sleep 0.2");
  req.stdin_data = std::string(1 << 20, 'z');
  ProcessResult r = Run(req, sink);
  EXPECT_EQ(r.end, End::kExited);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST_F(PosixProcessLauncherTest, SinkExceptionStopsTheGroupAndIsRethrown) {
  CollectingSink sink;
  sink.on_chunk = [](Stream, std::string_view) -> asio::awaitable<void> {
    throw std::runtime_error("journal is gone");
    co_return;
  };
  ProcessRequest req = Shell("echo $$; exec sleep 1000");
  std::string error;
  CancelSignal cancel;
  asio::co_spawn(io_, launcher_->Run(req, sink, cancel), [&](std::exception_ptr e, ProcessResult) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::exception& x) {
      error = x.what();
    }
  });
  io_.run_for(seconds(60));
  EXPECT_EQ(error, "journal is gone");
  ASSERT_FALSE(sink.out.empty());
  EXPECT_TRUE(LiveGroupMembers(std::stoi(sink.out)).empty());
}

TEST_F(PosixProcessLauncherTest, LosingAnAsioRaceStopsTheGroupLikeCancel) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  CollectingSink sink;
  CancelSignal cancel;
  ProcessRequest req = Shell("echo $$; exec sleep 1000");
  req.kill_grace = seconds(30);
  std::optional<size_t> winner;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(io_, milliseconds(300));
        auto race = launcher_->Run(req, sink, cancel) || t.async_wait(asio::use_awaitable);
        auto r = co_await std::move(race);
        winner = r.index();
      },
      asio::detached);
  io_.run_for(seconds(60));
  ASSERT_TRUE(winner);
  EXPECT_EQ(*winner, 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(20));
  ASSERT_FALSE(sink.out.empty());
  EXPECT_TRUE(LiveGroupMembers(std::stoi(sink.out)).empty());
  EXPECT_TRUE(OurZombies().empty());
}

TEST_F(PosixProcessLauncherTest, RunsManyProcessesAtOnceOnOneThread) {
  constexpr int kN = 16;
  std::vector<CollectingSink> sinks(kN);
  std::vector<ProcessRequest> reqs;
  for (int i = 0; i < kN; ++i) reqs.push_back(Shell("echo out$1; sleep 0.$1; echo err$1 >&2; exit $1"));
  for (int i = 0; i < kN; ++i) reqs[i].argv.insert(reqs[i].argv.end(), {"sh", std::to_string(i)});
  reqs[13] = Request({"sleep", "1000"});
  reqs[13].timeout = milliseconds(300);
  reqs[14] = Request({"sleep", "1000"});
  reqs[15] = Request({"no-such-program"});
  std::vector<CancelSignal> cancels(kN);
  asio::steady_timer cancel_14(io_, milliseconds(300));
  cancel_14.async_wait([&](boost::system::error_code) { cancels[14].Emit(); });
  // A ticker proves the io_context thread is never blocked for long.
  int ticks = 0;
  bool done = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(io_);
        while (!done) {
          t.expires_after(milliseconds(10));
          co_await t.async_wait(asio::use_awaitable);
          ++ticks;
        }
      },
      asio::detached);

  std::vector<std::optional<ProcessResult>> results(kN);
  int remaining = kN;
  for (int i = 0; i < kN; ++i) {
    asio::co_spawn(io_, launcher_->Run(reqs[i], sinks[i], cancels[i]), [&, i](std::exception_ptr, ProcessResult r) {
      results[i] = r;
      if (--remaining == 0) done = true;
    });
  }
  io_.run_for(seconds(60));
  for (int i = 0; i < 13; ++i) {
    ASSERT_TRUE(results[i]) << i;
    EXPECT_EQ(results[i]->end, End::kExited) << i;
    EXPECT_EQ(results[i]->exit_code, i);
    EXPECT_EQ(sinks[i].out, "out" + std::to_string(i) + "\n");
    EXPECT_EQ(sinks[i].err, "err" + std::to_string(i) + "\n");
  }
  ASSERT_TRUE(results[13] && results[14] && results[15]);
  EXPECT_EQ(results[13]->end, End::kTimedOut);
  EXPECT_EQ(results[14]->end, End::kCancelled);
  EXPECT_EQ(results[15]->end, End::kLaunchFailed);
  EXPECT_GT(ticks, 10);
  EXPECT_TRUE(OurZombies().empty());
}

TEST_F(PosixProcessLauncherTest, ManySequentialRunsLeakNoDescriptorsOrZombies) {
  CollectingSink warm_up;  // the io_context opens its epoll, eventfd and timerfd on first use
  Run(Request({"true"}), warm_up);
  const int fds = OpenFdCount();
  int exited = 0;
  for (int i = 0; i < 1000; ++i) {
    CollectingSink sink;
    ProcessRequest req = Request({i % 100 == 99 ? "no-such-program" : "true"});
    ProcessResult r = Run(req, sink);
    exited += r.end == End::kExited && r.exit_code == 0;
  }
  EXPECT_EQ(exited, 990);
  EXPECT_EQ(OpenFdCount(), fds);
  EXPECT_TRUE(OurZombies().empty());
}

}  // namespace
}  // namespace runbook::steps
