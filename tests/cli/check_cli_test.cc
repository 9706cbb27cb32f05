// Acceptance: `check` steps through the real binary. A check reads a value a
// shell step printed; its finding is journaled, listed by `runbook show` (and
// `--json` as "findings"), and decides the run's exit code only when it
// reaches the runbook's `fail_on` (SPEC.md §2, §3).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

// A disk check over a value printed by a shell step, with `fail_on`.
std::string DiskRunbook(const std::string& fail_on, int use) {
  return "name: disk\nfail_on: " + fail_on + R"(
steps:
  - id: df
    run: echo "/dev/sda1 )" + std::to_string(use) + R"(% /"
    outputs: {use: {from: stdout, regex: '([0-9]+)%', type: number}}
  - id: disk
    title: Disk usage of /
    needs: [df]
    type: check
    value: ${{ steps.df.outputs.use }}
    warn: "> 80"
    critical: "> 90"
  - {id: after, needs: [disk], run: echo after}
)";
}

struct RunResult {
  Outcome outcome;
  std::string run_id;
  std::string error;
};

RunResult RunJson(CliSandbox& box, const std::string& rb) {
  RunResult r;
  r.outcome = box.Run({"--json", "run", rb});
  if (auto s = ParseJson(r.outcome.out, "run --json")) {
    r.run_id = JsonString(*s, "run_id");
    r.error = JsonString(*s, "error");
  }
  return r;
}

TEST(CliCheck, AWarningBelowFailOnSucceedsAndShowListsTheFinding) {
  CliSandbox box;
  RunResult r = RunJson(box, box.WriteRunbook("disk", DiskRunbook("critical", 85)));
  ASSERT_EQ(r.outcome.exit_code, 0) << r.outcome.Describe();

  boost::json::value show = box.ShowJson(r.run_id);
  EXPECT_EQ(JsonString(show, "status"), "succeeded");
  const boost::json::object* disk = FindStep(show, "disk");
  ASSERT_NE(disk, nullptr);
  EXPECT_EQ(JsonString(*disk, "status"), "succeeded");
  EXPECT_EQ(JsonString(disk->at("outputs"), "level"), "warning");
  const boost::json::array& findings = show.at("findings").as_array();
  ASSERT_EQ(findings.size(), 1u) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(findings[0], "step"), "disk");
  EXPECT_EQ(JsonString(findings[0], "level"), "warning");
  EXPECT_EQ(JsonString(findings[0], "message"), "Disk usage of /: value 85 > 80");
  EXPECT_EQ(JsonString(findings[0], "value"), "85");
  EXPECT_EQ(JsonString(findings[0], "threshold"), "> 80");
  const boost::json::object* after = FindStep(show, "after");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(JsonString(*after, "status"), "succeeded");

  Outcome text = box.Run({"show", r.run_id});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("findings:\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("warning  disk: Disk usage of /: value 85 > 80 (value 85, threshold > 80)"), std::string::npos)
      << text.out;
  EXPECT_EQ(box.RawLogs(r.run_id, "disk"), "warning: Disk usage of /: value 85 > 80\n");
}

TEST(CliCheck, ACriticalFindingFailsTheRunWithTheFindingAsTheError) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("disk", DiskRunbook("critical", 95));
  RunResult r = RunJson(box, rb);
  ASSERT_EQ(r.outcome.exit_code, 1) << r.outcome.Describe();
  EXPECT_EQ(r.error, "critical finding from step 'disk': Disk usage of /: value 95 > 90");
  boost::json::value show = box.ShowJson(r.run_id);
  EXPECT_EQ(JsonString(show, "status"), "failed");
  EXPECT_EQ(JsonString(show, "error"), r.error);
  EXPECT_EQ(JsonString(*FindStep(show, "disk"), "status"), "succeeded") << "the check itself did its job";
  ASSERT_EQ(show.at("findings").as_array().size(), 1u);
  EXPECT_EQ(JsonString(show.at("findings").as_array()[0], "level"), "critical");

  Outcome plain = box.Run({"run", rb});
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.err.find("failed: critical finding from step 'disk': Disk usage of /: value 95 > 90"),
            std::string::npos)
      << plain.err;
}

TEST(CliCheck, FailOnWarningFailsOnAWarning) {
  CliSandbox box;
  RunResult r = RunJson(box, box.WriteRunbook("disk", DiskRunbook("warning", 85)));
  EXPECT_EQ(r.outcome.exit_code, 1) << r.outcome.Describe();
  EXPECT_EQ(r.error, "warning finding from step 'disk': Disk usage of /: value 85 > 80");

  RunResult fine = RunJson(box, box.WriteRunbook("disk2", DiskRunbook("warning", 40)));
  EXPECT_EQ(fine.outcome.exit_code, 0) << fine.outcome.Describe();
  EXPECT_TRUE(box.ShowJson(fine.run_id).at("findings").as_array().empty());
}

TEST(CliCheck, FailOnNeverFailsOnNoFinding) {
  CliSandbox box;
  RunResult r = RunJson(box, box.WriteRunbook("disk", DiskRunbook("never", 99)));
  EXPECT_EQ(r.outcome.exit_code, 0) << r.outcome.Describe();
  boost::json::value show = box.ShowJson(r.run_id);
  ASSERT_EQ(show.at("findings").as_array().size(), 1u);
  EXPECT_EQ(JsonString(show.at("findings").as_array()[0], "level"), "critical");
}

TEST(CliCheck, AValueThatCannotBeComparedFailsTheStep) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("svc", R"(name: svc
fail_on: never
params:
  load: {type: string, default: abc}
steps:
  - {id: load, type: check, value: "${{ params.load }}", critical: "> 80"}
  - {id: api, type: check, assert: "${{ params.load == 'ok' }}", severity: warning, message: "load is ${{ params.load }}"}
)");
  RunResult r = RunJson(box, rb);
  EXPECT_EQ(r.outcome.exit_code, 1) << r.outcome.Describe();
  boost::json::value show = box.ShowJson(r.run_id);
  EXPECT_EQ(JsonString(*FindStep(show, "load"), "error"), "value 'abc' is not a number; cannot compare with '> 80'");
  const boost::json::array& findings = show.at("findings").as_array();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(JsonString(findings[0], "step"), "api");
  EXPECT_EQ(JsonString(findings[0], "message"), "load is abc");

  Outcome with_param = box.Run({"--json", "run", rb, "-p", "load=12"});
  EXPECT_EQ(with_param.exit_code, 0) << with_param.Describe();
}

}  // namespace
}  // namespace runbook::clitest
