// Acceptance (issue #8, load): 200 `runbook run` processes started at once on
// one journal, 20 steps each, all complete with every event and every byte of
// output recorded and `journal verify` passing; and the scheduler firing 500
// triggers due in the same minute, each exactly once, every run recorded.
// These take seconds to tens of seconds on a loaded 2-core machine; bounds
// are generous and nothing is timed.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

TEST(CliLoad, TwoHundredConcurrentRunsOfTwentyStepsShareOneJournalAndLoseNothing) {
  // The same 200 under AddressSanitizer, where every process is several
  // times slower: opening a current journal takes no write lock unless a run
  // is stale, and any write lock is retried for about a minute.
  constexpr int kRuns = 200, kSteps = 20;
  CliSandbox box;
  std::string yaml = "name: load\nsteps:\n";
  for (int i = 0; i < kSteps; ++i)
    yaml += "  - {id: s" + std::to_string(i) + ", run: echo step " + std::to_string(i) + "}\n";
  std::string rb = box.WriteRunbook("load", yaml);
  ASSERT_EQ(box.Run({"runs"}).exit_code, 0);  // the journal exists before the stampede

  std::vector<std::unique_ptr<RunbookProcess>> runs;
  for (int i = 0; i < kRuns; ++i) runs.push_back(box.Start({"--json", "run", rb}));
  std::set<std::string> ids;
  for (auto& r : runs) {
    Outcome o = r->Wait(seconds(300));
    EXPECT_EQ(o.exit_code, 0) << o.Describe();
    auto summary = ParseJson(o.out, "run --json");
    if (summary) ids.insert(JsonString(*summary, "run_id"));
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kRuns));

  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  auto listed = j->ListRuns({});
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_EQ(listed->size(), static_cast<size_t>(kRuns));
  for (const auto& run : *listed) {
    SCOPED_TRACE(run.id);
    EXPECT_TRUE(ids.count(run.id));
    EXPECT_EQ(run.status, journal::RunStatus::kSucceeded);
    auto attempts = j->GetAttempts(run.id);
    ASSERT_TRUE(attempts.ok());
    int succeeded = 0;
    for (const auto& a : *attempts) succeeded += a.status == journal::AttemptStatus::kSucceeded;
    EXPECT_EQ(succeeded, kSteps);
    std::map<std::string, int> kinds = CountEventKinds(*j, run.id);
    EXPECT_EQ(kinds["run_started"], 1);
    EXPECT_EQ(kinds["step_started"], kSteps);
    EXPECT_EQ(kinds["step_finished"], kSteps);
    EXPECT_EQ(kinds["run_finished"], 1);
    auto chunks = j->GetOutput(run.id, std::nullopt);
    ASSERT_TRUE(chunks.ok());
    std::map<std::string, std::string> out;
    for (const auto& c : *chunks) out[c.step_id] += c.data;
    for (int i = 0; i < kSteps; ++i)
      EXPECT_EQ(out["s" + std::to_string(i)], "step " + std::to_string(i) + "\n");
  }
  Outcome verify = box.Run({"journal", "verify"}, seconds(300));
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_NE(verify.out.find(std::to_string(kRuns * (2 * kSteps + 2)) + " checked"), std::string::npos)
      << verify.Describe();
}

TEST(CliLoad, FiveHundredTriggersDueInTheSameMinuteFireOnceEachAndEveryRunIsRecorded) {
  constexpr int kTriggers = 500;
  CliSandbox box;
  std::string yaml = "name: tick\nparams:\n  n: {type: int, default: -1}\nschedule:\n";
  for (int i = 0; i < kTriggers; ++i)
    yaml += "  - {cron: '* * * * *', timezone: UTC, params: {n: " + std::to_string(i) + "}}\n";
  yaml += "steps:\n  - id: hello\n    run: echo hello ${{ params.n }}\n";
  box.WriteRunbook("tick", yaml);

  Outcome o = box.Run({"--runbooks", box.dir(), "schedule", "--once"}, seconds(600));
  ASSERT_EQ(o.exit_code, 0) << o.Describe();

  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  auto listed = j->ListRuns({});
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_EQ(listed->size(), static_cast<size_t>(kTriggers));
  std::set<int64_t> seen;
  for (const auto& run : *listed) {
    EXPECT_EQ(run.status, journal::RunStatus::kSucceeded) << run.id;
    EXPECT_EQ(run.trigger, journal::Trigger::kCron) << run.id;
    auto params = ParseJson(run.params_json, "params_json");
    if (params) seen.insert(params->at("n").to_number<int64_t>());
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTriggers)) << "a trigger fired twice or not at all";
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), kTriggers - 1);

  Outcome verify = box.Run({"journal", "verify"}, seconds(300));
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

}  // namespace
}  // namespace runbook::clitest
