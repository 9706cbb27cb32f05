// Acceptance: `runbook logs RUN --follow` in a second process prints a
// running step's output as it appears and exits by itself when the run ends.
// The step waits for the test's go-ahead after its first line, so "the first
// line arrived while the step was still running" holds by construction, not
// by timing.
#include <gtest/gtest.h>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

TEST(CliFollow, LogsFollowShowsLinesOfARunningStepAndExitsWhenTheRunEnds) {
  CliSandbox box;
  std::string go = box.Path("go");
  std::string rb = box.WriteRunbook("talk", R"(name: talk
steps:
  - id: talk
    timeout: 120s
    run: |
      echo "$RUNBOOK_RUN_ID" > )" + box.Path("run_id.tmp") + R"(
      mv )" + box.Path("run_id.tmp") + " " + box.Path("run_id") + R"(
      echo "first line"
      while [ ! -e )" + go + R"( ]; do sleep 0.05; done
      echo "second line"
      sleep 1
      echo "third line"
      sleep 0.5
  - id: after
    needs: [talk]
    run: echo "after line"
)");
  auto run = box.Start({"run", rb});
  ASSERT_TRUE(WaitFor([&] { return FileExists(box.Path("run_id")) || run->Exited(); }, seconds(30)))
      << "the step never started";
  ASSERT_TRUE(FileExists(box.Path("run_id"))) << run->Wait(seconds(1)).Describe();
  std::string run_id = ReadFile(box.Path("run_id"));
  if (!run_id.empty() && run_id.back() == '\n') run_id.pop_back();

  auto follower = box.Start({"logs", run_id, "--follow"});
  bool first_seen = WaitFor(
      [&] { return follower->Stdout().find("talk | first line\n") != std::string::npos || follower->Exited(); },
      seconds(30));
  std::string so_far = follower->Stdout();
  EXPECT_TRUE(first_seen && so_far.find("talk | first line\n") != std::string::npos)
      << "the follower did not show the running step's first line: " << follower->Wait(seconds(1)).Describe();
  EXPECT_EQ(so_far.find("second line"), std::string::npos) << "the step cannot have printed this yet: " << so_far;
  EXPECT_FALSE(follower->Exited()) << "the follower stopped while the run was going: "
                                   << follower->Wait(seconds(1)).Describe();
  EXPECT_FALSE(run->Exited()) << run->Wait(seconds(1)).Describe();

  box.WriteFile("go", "");
  Outcome f = follower->Wait(seconds(60));
  Outcome r = run->Wait(seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_FALSE(f.timed_out) << "the follower did not exit after the run ended: " << f.Describe();
  EXPECT_EQ(f.exit_code, 0) << f.Describe();
  size_t pos = 0;
  for (const char* line : {"talk | first line\n", "talk | second line\n", "talk | third line\n",
                           "after | after line\n"}) {
    size_t at = f.out.find(line, pos);
    EXPECT_NE(at, std::string::npos) << "missing or out of order: " << line << "in:\n" << f.out;
    if (at != std::string::npos) pos = at;
  }
}

}  // namespace
}  // namespace runbook::clitest
