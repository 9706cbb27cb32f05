// Acceptance: `wait` steps through the real binary: a pause holds the next
// step back for its duration; the run's timeout and SIGTERM cut a long wait
// short (nothing hangs); `until` continues once the condition over an
// upstream step's result holds, and fails with the condition after `max`.
// Time bounds are generous (a loaded 2-core machine).
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string RunIdOf(const Outcome& o) {
  auto summary = ParseJson(o.out, "run --json");
  return summary ? JsonString(*summary, "run_id") : "";
}

TEST(CliWait, ADurationHoldsTheNextStepBack) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("settle", R"(name: settle
steps:
  - {id: before, run: date +%s%N}
  - {id: settle, needs: [before], type: wait, duration: 700ms}
  - {id: after, needs: [settle], run: date +%s%N}
)");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run_id = RunIdOf(o);
  long long before = std::stoll(box.RawLogs(run_id, "before"));
  long long after = std::stoll(box.RawLogs(run_id, "after"));
  EXPECT_GE(after - before, 700'000'000LL);
  EXPECT_LT(after - before, 30'000'000'000LL);
  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(JsonString(*FindStep(show, "settle"), "status"), "succeeded");
}

TEST(CliWait, TheRunTimeoutCancelsALongWait) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("nap", R"(name: nap
timeout: 500ms
steps:
  - {id: nap, type: wait, duration: 1h}
finally:
  - {id: tidy, run: echo tidied}
)");
  auto t0 = Clock::now();
  Outcome o = box.Run({"--json", "run", rb}, seconds(60));
  EXPECT_LT(Clock::now() - t0, seconds(30));
  ASSERT_EQ(o.exit_code, 1) << o.Describe();
  boost::json::value show = box.ShowJson(RunIdOf(o));
  EXPECT_EQ(JsonString(show, "error"), "run timed out after 500ms");
  EXPECT_EQ(JsonString(*FindStep(show, "nap"), "status"), "cancelled");
  EXPECT_EQ(JsonString(*FindStep(show, "tidy"), "status"), "succeeded");
}

TEST(CliWait, SigtermDuringAWaitCancelsTheRunAndExits143) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("nap", R"(name: nap
steps:
  - {id: first, run: touch )" + box.Path("started") + R"(}
  - {id: nap, needs: [first], type: wait, duration: 1h}
)");
  auto run = box.Start({"--json", "run", rb});
  ASSERT_TRUE(WaitFor([&] { return FileExists(box.Path("started")) || run->Exited(); }, seconds(30)));
  ASSERT_TRUE(FileExists(box.Path("started"))) << run->Wait(seconds(1)).Describe();
  auto t0 = Clock::now();
  run->Signal(SIGTERM);
  Outcome o = run->Wait(seconds(60));
  EXPECT_LT(Clock::now() - t0, seconds(30));
  ASSERT_EQ(o.exit_code, 143) << o.Describe();
  EXPECT_EQ(JsonString(box.ShowJson(RunIdOf(o)), "status"), "cancelled");
}

TEST(CliWait, UntilContinuesOnceTheConditionHolds) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("ready", R"(name: ready
steps:
  - {id: probe, run: echo healthy}
  - id: healthy
    needs: [probe]
    type: wait
    until: ${{ contains(steps.probe.outputs.stdout, 'healthy') }}
    every: 100ms
    max: 30s
  - {id: go, needs: [healthy], run: echo go}
)");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run_id = RunIdOf(o);
  EXPECT_EQ(JsonString(*FindStep(box.ShowJson(run_id), "go"), "status"), "succeeded");
  EXPECT_NE(box.RawLogs(run_id, "healthy").find("condition holds after"), std::string::npos);
}

TEST(CliWait, UntilFailsWithTheConditionAfterMax) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("never", R"(name: never
steps:
  - {id: probe, run: echo starting}
  - id: healthy
    needs: [probe]
    type: wait
    until: contains(steps.probe.outputs.stdout, 'healthy')
    every: 100ms
    max: 500ms
)");
  auto t0 = Clock::now();
  Outcome o = box.Run({"--json", "run", rb});
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(500));
  ASSERT_EQ(o.exit_code, 1) << o.Describe();
  EXPECT_EQ(JsonString(*FindStep(box.ShowJson(RunIdOf(o)), "healthy"), "error"),
            "condition still false after 500ms: contains(steps.probe.outputs.stdout, 'healthy')");
}

}  // namespace
}  // namespace runbook::clitest
