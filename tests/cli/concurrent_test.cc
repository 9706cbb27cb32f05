// Acceptance: two `runbook run` processes write to the same journal at the
// same time (SPEC.md §6: many processes share one journal safely); both
// complete and nothing of either is lost.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

constexpr int kSteps = 20;
constexpr int kLinesPerStep = 300;

std::string ExpectedOutput(const std::string& step) {
  std::string out;
  for (int i = 1; i <= kLinesPerStep; ++i) out += step + " line " + std::to_string(i) + "\n";
  return out;
}

// kSteps steps printing kLinesPerStep lines each; returns the runbook's path.
std::string WriteBusyRunbook(const CliSandbox& box) {
  std::string y = "name: busy\nsteps:\n";
  for (int i = 1; i <= kSteps; ++i) {
    y += "  - id: s" + std::to_string(i) + "\n" +
         "    run: |\n"
         "      i=1\n"
         "      while [ $i -le " + std::to_string(kLinesPerStep) + " ]; do echo \"$RUNBOOK_STEP_ID line $i\"; i=$((i + 1)); done\n"
         "      sleep 0.05\n";
  }
  return box.WriteRunbook("busy", y);
}

TEST(CliConcurrency, TwoRunsWritingOneJournalAtOnceBothKeepEveryEventAndByte) {
  CliSandbox box;
  std::string rb = WriteBusyRunbook(box);
  // The journal exists before the two runs start: this test is about
  // writing at the same time (creating a journal at the same time is the
  // next test).
  Outcome create = box.Run({"runs"});
  ASSERT_EQ(create.exit_code, 0) << create.Describe();

  auto a = box.Start({"--json", "run", rb, "--max-parallel", "4"});
  auto b = box.Start({"--json", "run", rb, "--max-parallel", "4"});
  Outcome oa = a->Wait(seconds(120));
  Outcome ob = b->Wait(seconds(120));
  ASSERT_EQ(oa.exit_code, 0) << oa.Describe();
  ASSERT_EQ(ob.exit_code, 0) << ob.Describe();
  auto sa = ParseJson(oa.out, "first run --json");
  auto sb = ParseJson(ob.out, "second run --json");
  ASSERT_TRUE(sa && sb);
  std::string ids[2] = {JsonString(*sa, "run_id"), JsonString(*sb, "run_id")};
  ASSERT_NE(ids[0], ids[1]);

  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  std::optional<journal::RunRecord> runs[2];
  for (int r = 0; r < 2; ++r) {
    SCOPED_TRACE("run " + ids[r]);
    auto run = j->GetRun(ids[r]);
    ASSERT_TRUE(run.ok()) << run.status().message();
    runs[r] = *run;
    EXPECT_EQ(run->status, journal::RunStatus::kSucceeded);
    auto kinds = CountEventKinds(*j, ids[r]);
    EXPECT_EQ(kinds["run_started"], 1);
    EXPECT_EQ(kinds["step_started"], kSteps);
    EXPECT_EQ(kinds["step_finished"], kSteps);
    EXPECT_EQ(kinds["run_finished"], 1);
    auto attempts = j->GetAttempts(ids[r]);
    ASSERT_TRUE(attempts.ok()) << attempts.status().message();
    EXPECT_EQ(attempts->size(), static_cast<size_t>(kSteps));
    for (int i = 1; i <= kSteps; ++i) {
      std::string step = "s" + std::to_string(i);
      auto chunks = j->GetOutput(ids[r], step);
      ASSERT_TRUE(chunks.ok()) << chunks.status().message();
      std::string text;
      for (const auto& c : *chunks) text += c.data;
      EXPECT_EQ(text, ExpectedOutput(step)) << step;
    }
  }
  // The premise: the two runs really were in flight at the same time.
  ASSERT_TRUE(runs[0]->finished_at_us && runs[1]->finished_at_us);
  EXPECT_LT(runs[0]->started_at_us, *runs[1]->finished_at_us);
  EXPECT_LT(runs[1]->started_at_us, *runs[0]->finished_at_us);
}

// Two runs started at once on a journal that does not exist yet: one creates
// the file, both configure WAL and migrate, both write; neither may fail with
// "database is locked" (the busy timeout is 10 s). A race, so a few rounds.
TEST(CliConcurrency, RunsCreatingTheSameJournalAtOnceBothSucceed) {
  CliSandbox box;
  std::string rb = WriteBusyRunbook(box);
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    box.SetEnv("RUNBOOK_JOURNAL", box.Path("fresh-" + std::to_string(round) + ".db"));
    auto a = box.Start({"run", rb, "--max-parallel", "4"});
    auto b = box.Start({"run", rb, "--max-parallel", "4"});
    Outcome oa = a->Wait(seconds(120));
    Outcome ob = b->Wait(seconds(120));
    EXPECT_EQ(oa.exit_code, 0) << "a run could not use a journal created at the same time: " << oa.Describe();
    EXPECT_EQ(ob.exit_code, 0) << "a run could not use a journal created at the same time: " << ob.Describe();
    if (oa.exit_code != 0 || ob.exit_code != 0) break;
  }
}

}  // namespace
}  // namespace runbook::clitest
