// Acceptance: approvals end to end through the real binary (SPEC.md §5). Not
// on a terminal, a step that needs an approval leaves the run `waiting`
// (exit 3) while independent steps still run; `runbook approve` records the
// decision (approvers enforced, typed inputs checked); `runbook resume`
// continues without repeating what already succeeded; a rejection fails the
// step; --yes approves in advance; an approval timeout applies on_timeout.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "journal/identity.h"
#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

std::string RunIdOf(const Outcome& o) {
  auto v = ParseJson(o.out, "run --json");
  return v ? JsonString(*v, "run_id") : "";
}

std::string StepStatus(CliSandbox& box, const std::string& run, const std::string& step) {
  auto show = box.ShowJson(run);
  const auto* s = FindStep(show, step);
  return s ? JsonString(*s, "status") : "(no step " + step + ")";
}

const char* kRecovery = R"(name: recovery
params:
  target: {type: string, default: db1}
steps:
  - id: snapshot
    run: echo snapshot of ${{ params.target }} >> "$LOG"
  - id: side
    run: echo side >> "$LOG"
  - id: classify
    type: approval
    needs: [snapshot]
    prompt: Classify the incident
    approvers: [alice, bob]
    inputs:
      severity: {type: enum, values: [critical, high, medium], required: true}
  - id: restore
    needs: [classify]
    approval: required
    run: echo restore ${{ steps.classify.outputs.severity }} by ${{ steps.classify.outputs.approved_by }} >> "$LOG"
on_failure:
  - id: page
    run: echo on_failure ran >> "$LOG"
outputs:
  severity: ${{ steps.classify.outputs.severity }}
)";

TEST(CliApproval, WaitingRunIsApprovedAndResumedWithoutRepeatingFinishedSteps) {
  CliSandbox box;
  std::string log = box.Path("log");
  box.SetEnv("LOG", log);
  std::string rb = box.WriteRunbook("recovery", kRecovery);

  Outcome first = box.Run({"--json", "run", rb});
  ASSERT_EQ(first.exit_code, 3) << first.Describe();
  std::string run = RunIdOf(first);
  ASSERT_FALSE(run.empty());
  std::string first_log = ReadFile(log);  // the two independent steps, in either order
  EXPECT_TRUE(first_log == "snapshot of db1\nside\n" || first_log == "side\nsnapshot of db1\n")
      << "independent steps run before the run pauses: " << first_log;
  auto show = box.ShowJson(run);
  EXPECT_EQ(JsonString(show, "status"), "waiting");
  EXPECT_EQ(StepStatus(box, run, "classify"), "waiting");
  Outcome waiting = box.Run({"show", run});
  EXPECT_NE(waiting.out.find("waiting:  classify  (runbook approve " + run + " classify, then runbook resume " + run + ")"),
            std::string::npos)
      << waiting.out;

  // Not an approver; unknown and mistyped inputs; a missing required input.
  Outcome o = box.Run({"approve", run, "classify", "--as", "mallory", "--input", "severity=high"});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find("'mallory' may not decide step 'classify' (approvers: alice, bob)"), std::string::npos) << o.err;
  o = box.Run({"approve", run, "classify", "--as", "alice", "--input", "severity=catastrophic"});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find("severity"), std::string::npos) << o.err;
  o = box.Run({"approve", run, "classify", "--as", "alice"});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  o = box.Run({"approve", run, "restore", "--as", "alice"});
  EXPECT_EQ(o.exit_code, 2) << "restore has not asked yet: " << o.Describe();

  o = box.Run({"approve", run, "classify", "--as", "alice", "--input", "severity=high", "--comment", "db down"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  o = box.Run({"approve", run, "classify", "--as", "alice", "--input", "severity=high"});
  EXPECT_EQ(o.exit_code, 2) << "a second decision by the same person: " << o.Describe();

  // Resume: classify is approved; restore now asks and the run waits again.
  Outcome second = box.Run({"--json", "resume", run});
  ASSERT_EQ(second.exit_code, 3) << second.Describe();
  EXPECT_EQ(RunIdOf(second), run);
  EXPECT_EQ(StepStatus(box, run, "classify"), "succeeded");
  EXPECT_EQ(StepStatus(box, run, "restore"), "waiting");
  o = box.Run({"approve", "last", "restore"});  // anyone may approve `approval: required`
  ASSERT_EQ(o.exit_code, 0) << o.Describe();

  Outcome third = box.Run({"--json", "resume", run});
  ASSERT_EQ(third.exit_code, 0) << third.Describe();
  EXPECT_EQ(ReadFile(log), first_log + "restore high by alice\n") << "nothing ran twice";
  auto out = ParseJson(third.out, "resume --json");
  ASSERT_TRUE(out);
  EXPECT_EQ(boost::json::serialize(out->at("outputs")), R"({"severity":"high"})");

  auto j = box.OpenJournal();
  auto approvals = j->GetApprovals(run);
  ASSERT_TRUE(approvals.ok());
  ASSERT_EQ(approvals->size(), 2u);
  EXPECT_EQ((*approvals)[0].approver, "alice");
  EXPECT_EQ((*approvals)[0].os_user, journal::LocalActor());
  EXPECT_EQ((*approvals)[0].comment, "db down");
  EXPECT_EQ((*approvals)[0].inputs_json, R"({"severity":"high"})");
  EXPECT_EQ((*approvals)[1].approver, journal::UserName());
  auto attempts = j->GetAttempts(run);
  ASSERT_TRUE(attempts.ok());
  int snapshot_attempts = 0;
  for (const auto& a : *attempts) snapshot_attempts += a.step_id == "snapshot";
  EXPECT_EQ(snapshot_attempts, 1);
  auto events = j->GetEvents(run);
  ASSERT_TRUE(events.ok());
  int requested = 0, resumed = 0;
  for (const auto& e : *events) {
    requested += e.kind == "approval_requested";
    resumed += e.kind == "run_resumed";
  }
  EXPECT_EQ(requested, 2);
  EXPECT_EQ(resumed, 2);

  // `show` lists the decisions.
  Outcome shown = box.Run({"show", run});
  EXPECT_NE(shown.out.find("classify: approved by alice (" + journal::LocalActor() + ") {\"severity\":\"high\"} — db down"),
            std::string::npos)
      << shown.out;
  auto approvals_json = box.ShowJson(run).at("approvals").as_array();
  ASSERT_EQ(approvals_json.size(), 2u);
  EXPECT_EQ(JsonString(approvals_json[0], "approver"), "alice");
  // Pauses and resumes leave a journal that verifies.
  Outcome v = box.Run({"journal", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
}

TEST(CliApproval, RejectionFailsTheStepAndTheRun) {
  CliSandbox box;
  box.SetEnv("LOG", box.Path("log"));
  std::string rb = box.WriteRunbook("recovery", kRecovery);
  Outcome first = box.Run({"--json", "run", rb});
  ASSERT_EQ(first.exit_code, 3) << first.Describe();
  std::string run = RunIdOf(first);
  Outcome o = box.Run({"approve", run, "classify", "--as", "bob", "--reject", "--comment", "not an incident"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  Outcome resumed = box.Run({"--json", "resume", run});
  EXPECT_EQ(resumed.exit_code, 1) << resumed.Describe();
  EXPECT_EQ(StepStatus(box, run, "classify"), "failed");
  EXPECT_EQ(StepStatus(box, run, "restore"), "skipped");
  EXPECT_EQ(StepStatus(box, run, "page"), "succeeded");
  EXPECT_NE(ReadFile(box.Path("log")).find("on_failure ran"), std::string::npos);
  auto show = box.ShowJson(run);
  EXPECT_EQ(JsonString(show, "status"), "failed");
  EXPECT_NE(boost::json::serialize(show).find("rejected by bob: not an incident"), std::string::npos);
  // A rejection is a decision: resuming again does not ask again...
  Outcome again = box.Run({"--json", "resume", run});
  EXPECT_EQ(again.exit_code, 1) << again.Describe();
  EXPECT_EQ(StepStatus(box, run, "classify"), "failed");
  // ...unless that step is run again on purpose.
  Outcome from = box.Run({"--json", "resume", run, "--from", "classify"});
  EXPECT_EQ(from.exit_code, 3) << from.Describe();
  EXPECT_EQ(StepStatus(box, run, "classify"), "waiting");
}

TEST(CliApproval, YesApprovesInAdvanceWithInputDefaults) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("gate", R"(name: gate
steps:
  - id: ok
    type: approval
    inputs:
      reason: {type: string, default: routine}
  - id: act
    needs: [ok]
    approval: required
    run: echo ${{ steps.ok.outputs.reason }} ${{ steps.ok.outputs.decision }}
)");
  Outcome o = box.Run({"--json", "run", rb, "--yes"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run = RunIdOf(o);
  EXPECT_EQ(box.RawLogs(run, "act"), "routine approved\n");
  auto j = box.OpenJournal();
  auto approvals = j->GetApprovals(run);
  ASSERT_TRUE(approvals.ok());
  ASSERT_EQ(approvals->size(), 2u);
  EXPECT_EQ((*approvals)[0].comment, "approved in advance with --yes");
}

TEST(CliApproval, YesDoesNotApproveForSomeoneElse) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("gate", R"(name: gate
steps:
  - id: ok
    type: approval
    approvers: [somebody-else]
)");
  Outcome o = box.Run({"--json", "run", rb, "--yes"});
  EXPECT_EQ(o.exit_code, 3) << o.Describe();
}

TEST(CliApproval, TimeoutAppliesOnTimeoutWhenResumed) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("gate", R"(name: gate
steps:
  - id: hold
    type: approval
    timeout: 1s
    on_timeout: approve
  - id: after
    needs: [hold]
    run: echo ${{ steps.hold.outputs.approved_by }}
  - id: strict
    type: approval
    timeout: 1s
)");
  Outcome first = box.Run({"--json", "run", rb});
  ASSERT_EQ(first.exit_code, 3) << first.Describe();
  std::string run = RunIdOf(first);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  Outcome resumed = box.Run({"--json", "resume", run});
  EXPECT_EQ(resumed.exit_code, 1) << resumed.Describe();
  EXPECT_EQ(StepStatus(box, run, "hold"), "succeeded");
  EXPECT_EQ(box.RawLogs(run, "after"), "timeout\n");
  EXPECT_EQ(StepStatus(box, run, "strict"), "failed");
  EXPECT_NE(boost::json::serialize(box.ShowJson(run)).find("approval timed out: no decision within 1s"),
            std::string::npos);
}

TEST(CliApproval, CancelOfAWaitingRunEndsIt) {
  CliSandbox box;
  box.SetEnv("LOG", box.Path("log"));
  std::string rb = box.WriteRunbook("recovery", kRecovery);
  Outcome first = box.Run({"--json", "run", rb});
  ASSERT_EQ(first.exit_code, 3) << first.Describe();
  std::string run = RunIdOf(first);
  Outcome o = box.Run({"cancel", run});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(JsonString(box.ShowJson(run), "status"), "cancelled");
  EXPECT_EQ(StepStatus(box, run, "classify"), "cancelled");
  o = box.Run({"approve", run, "classify", "--as", "alice", "--input", "severity=high"});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  // The journal still verifies: the cancel is recorded as the engine would.
  Outcome v = box.Run({"journal", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
}

}  // namespace
}  // namespace runbook::clitest
