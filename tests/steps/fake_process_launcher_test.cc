// The fake launcher the engine's tests rely on: scripts are matched as
// documented, durations are simulated, timeouts and cancels are honoured.
#include "tests/fakes/fake_process_launcher.h"

#include <csignal>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gtest/gtest.h"

namespace runbook::fakes {
namespace {

using std::chrono::milliseconds;
using steps::ProcessRequest;
using steps::ProcessResult;
using End = ProcessResult::End;

class StringSink : public steps::OutputSink {
 public:
  boost::asio::awaitable<void> OnOutput(steps::Stream s, std::string_view d) override {
    (s == steps::Stream::kStdout ? out : err) += d;
    co_return;
  }
  std::string out, err;
};

ProcessRequest Request(std::string argv0, milliseconds timeout = milliseconds(0)) {
  ProcessRequest r;
  r.argv = {std::move(argv0), "arg"};
  r.timeout = timeout;
  return r;
}

class FakeProcessLauncherTest : public ::testing::Test {
 protected:
  // Starts every request at once and runs them all to the end.
  std::vector<ProcessResult> RunAll(const std::vector<ProcessRequest>& reqs, std::vector<CancelSignal>& cancels) {
    std::vector<ProcessResult> results(reqs.size());
    for (size_t i = 0; i < reqs.size(); ++i)
      boost::asio::co_spawn(io_, fake_.Run(reqs[i], sink_, cancels[i]),
                            [&results, i](std::exception_ptr, ProcessResult r) { results[i] = r; });
    io_.run_for(std::chrono::seconds(30));
    io_.restart();
    return results;
  }

  boost::asio::io_context io_;
  FakeProcessLauncher fake_;
  StringSink sink_;
};

TEST_F(FakeProcessLauncherTest, MatchesCallIndexThenProgramThenDefaultAndRecordsRequests) {
  fake_.OnProgram("sh", FakeProcessLauncher::Exits(2, "out", "err"));
  fake_.OnCall(2, FakeProcessLauncher::LaunchFails("cannot execute 'sh': No such file or directory"));
  std::vector<CancelSignal> cancels(1);
  std::vector<ProcessResult> r;
  for (const char* program : {"sh", "true", "sh"}) r.push_back(RunAll({Request(program)}, cancels)[0]);

  EXPECT_EQ(r[0].end, End::kExited);
  EXPECT_EQ(r[0].exit_code, 2);
  EXPECT_EQ(r[0].pid, 1000);
  EXPECT_EQ(r[1].end, End::kExited);
  EXPECT_EQ(r[1].exit_code, 0);
  EXPECT_EQ(r[2].end, End::kLaunchFailed);
  EXPECT_EQ(r[2].error, "cannot execute 'sh': No such file or directory");
  EXPECT_EQ(sink_.out, "out");
  EXPECT_EQ(sink_.err, "err");
  ASSERT_EQ(fake_.calls(), 3u);
  EXPECT_EQ(fake_.requests()[1].argv, (std::vector<std::string>{"true", "arg"}));
}

TEST_F(FakeProcessLauncherTest, SimulatedRunsHonourTimeoutAndCancel) {
  fake_.SetDefault(FakeProcessLauncher::Runs(milliseconds(20000)));
  fake_.OnProgram("quick", FakeProcessLauncher::Runs(milliseconds(10), 5));
  std::vector<CancelSignal> cancels(3);
  boost::asio::steady_timer t(io_, milliseconds(50));
  t.async_wait([&](boost::system::error_code) { cancels[1].Emit(); });
  const auto start = std::chrono::steady_clock::now();
  auto r = RunAll({Request("slow", milliseconds(50)), Request("slow"), Request("quick")}, cancels);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(r[0].end, End::kTimedOut);
  EXPECT_EQ(r[0].signal, SIGTERM);
  EXPECT_EQ(r[1].end, End::kCancelled);
  EXPECT_EQ(r[2].end, End::kExited);
  EXPECT_EQ(r[2].exit_code, 5);
  EXPECT_GE(r[2].duration, milliseconds(10));
  EXPECT_EQ(fake_.max_running(), 3);
  EXPECT_EQ(fake_.running(), 0);
}

TEST_F(FakeProcessLauncherTest, AlreadyCancelledRunsNothing) {
  fake_.SetDefault(FakeProcessLauncher::Exits(0, "never"));
  std::vector<CancelSignal> cancels(1);
  cancels[0].Emit();
  auto r = RunAll({Request("x")}, cancels);
  EXPECT_EQ(r[0].end, End::kCancelled);
  EXPECT_EQ(sink_.out, "");
  EXPECT_EQ(fake_.calls(), 1u);
}

}  // namespace
}  // namespace runbook::fakes
