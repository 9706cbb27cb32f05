// Acceptance: the engine dies (kill -9) in the middle of a run. The journal
// must still be a sound SQLite file, the next `runbook` command must mark the
// run 'interrupted' (SPEC.md §5), and what finished before the kill must be
// there byte for byte.
#include <signal.h>
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

TEST(CliCrash, KillNineMidRunLeavesASoundJournalAndTheNextCommandMarksTheRunInterrupted) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("crash", R"(name: crash
steps:
  - id: first
    run: |
      printf 'first line\nsecond "quoted" line with $dollar and \\ backslash\n'
      printf 'no newline at the end'
  - id: second
    needs: [first]
    run: seq 1 5000
  - id: long
    needs: [second]
    run: |
      echo "$RUNBOOK_RUN_ID" > )" + box.Path("run_id.tmp") + R"(
      mv )" + box.Path("run_id.tmp") + " " + box.Path("run_id") + R"(
      echo $$ > )" + box.Path("pgid") + R"(
      echo "long step started"
      sleep 1000
)");
  std::string expected_first = "first line\nsecond \"quoted\" line with $dollar and \\ backslash\nno newline at the end";
  std::string expected_second;
  for (int i = 1; i <= 5000; ++i) expected_second += std::to_string(i) + "\n";

  auto run = box.Start({"run", rb});
  bool started = WaitFor([&] { return FileExists(box.Path("run_id")) || run->Exited(); }, seconds(30));
  pid_t step_group = static_cast<pid_t>(std::atol(ReadFile(box.Path("pgid")).c_str()));
  struct Cleanup {  // the engine cannot stop its orphaned step any more
    pid_t pgid;
    ~Cleanup() {
      if (pgid > 1) ::kill(-pgid, SIGKILL);
    }
  } cleanup{step_group};
  ASSERT_TRUE(started && FileExists(box.Path("run_id"))) << run->Wait(seconds(1)).Describe();
  std::string run_id = ReadFile(box.Path("run_id"));
  if (!run_id.empty() && run_id.back() == '\n') run_id.pop_back();
  ASSERT_EQ(run_id.size(), 12u) << run_id;

  run->Signal(SIGKILL);
  Outcome killed = run->Wait(seconds(30));  // reaped: its pid is really gone
  ASSERT_EQ(killed.term_signal, SIGKILL) << killed.Describe();

  EXPECT_EQ(IntegrityCheck(box.journal_path(), /*read_only=*/false), "ok");

  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(JsonString(show, "status"), "interrupted") << boost::json::serialize(show);
  EXPECT_FALSE(JsonString(show, "error").empty()) << "an interrupted run should say why";
  for (const auto& [id, expected] : {std::pair{"first", &expected_first}, std::pair{"second", &expected_second}}) {
    const boost::json::object* step = FindStep(show, id);
    ASSERT_NE(step, nullptr) << id << ": " << boost::json::serialize(show);
    EXPECT_EQ(JsonString(*step, "status"), "succeeded") << boost::json::serialize(*step);
    EXPECT_EQ(step->at("stdout_bytes").to_number<int64_t>(), static_cast<int64_t>(expected->size())) << id;
    EXPECT_EQ(box.RawLogs(run_id, id), *expected) << id;
  }
  const boost::json::object* long_step = FindStep(show, "long");
  ASSERT_NE(long_step, nullptr) << boost::json::serialize(show);
  EXPECT_NE(JsonString(*long_step, "status"), "succeeded");
  EXPECT_NE(JsonString(*long_step, "status"), "running") << "the dead engine's attempt is still 'running'";

  // Marking is done once and is durable: the run list agrees, and the
  // journal is still sound after the repair.
  Outcome runs = box.Run({"--json", "runs"});
  ASSERT_EQ(runs.exit_code, 0) << runs.Describe();
  auto list = ParseJson(runs.out, "runs --json");
  ASSERT_TRUE(list && list->is_array() && list->as_array().size() == 1) << runs.out;
  EXPECT_EQ(JsonString(list->as_array()[0], "status"), "interrupted");
  EXPECT_EQ(IntegrityCheck(box.journal_path(), /*read_only=*/false), "ok");
}

}  // namespace
}  // namespace runbook::clitest
