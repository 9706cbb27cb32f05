// Acceptance: resume, child runs, cancel, notes, concurrency groups and
// `repeat`, through the real binary with a real journal (SPEC.md §2, §5).
#include <gtest/gtest.h>

#include <signal.h>

#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

std::string RunIdOf(const Outcome& o) {
  auto v = ParseJson(o.out, "--json output");
  return v ? JsonString(*v, "run_id") : "";
}

std::string StepStatus(CliSandbox& box, const std::string& run, const std::string& step) {
  auto show = box.ShowJson(run);
  const auto* s = FindStep(show, step);
  return s ? JsonString(*s, "status") : "(no step " + step + ")";
}

// A three-step chain whose middle step fails until a flag file exists; the
// first step's output feeds the last one.
std::string ChainRunbook(CliSandbox& box) {
  return box.WriteRunbook("chain", R"(name: chain
steps:
  - id: first
    run: echo "first ran" >> "$LOG"; echo "token-$$"
    outputs:
      token: {from: stdout, regex: 'token-([0-9]+)'}
  - id: middle
    needs: [first]
    run: echo "middle ran" >> "$LOG"; test -f "$FLAG"
  - id: last
    needs: [middle]
    run: echo "last saw ${{ steps.first.outputs.token }} / ${{ steps.first.outputs.stdout }}" >> "$LOG"
)");
}

TEST(CliResume, FailedRunResumesFromWhereItFailedWithTheSameValues) {
  CliSandbox box;
  std::string log = box.Path("log"), flag = box.Path("flag");
  box.SetEnv("LOG", log);
  box.SetEnv("FLAG", flag);
  std::string rb = ChainRunbook(box);
  Outcome first = box.Run({"--json", "run", rb});
  ASSERT_EQ(first.exit_code, 1) << first.Describe();
  std::string run = RunIdOf(first);
  std::string token = ReadFile(log);
  ASSERT_EQ(token.rfind("first ran\nmiddle ran\n", 0), 0u) << token;

  std::ofstream(flag) << "fixed\n";
  Outcome second = box.Run({"--json", "resume", run});
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  std::string text = ReadFile(log);
  EXPECT_EQ(text.find("first ran", 1), std::string::npos) << "first must not run again:\n" << text;
  // The restored step's extracted output and its stdout are what they were.
  auto j = box.OpenJournal();
  auto attempts = j->GetAttempts(run);
  ASSERT_TRUE(attempts.ok());
  std::string first_outputs;
  std::vector<int> middle_attempts;
  for (const auto& a : *attempts) {
    if (a.step_id == "first") first_outputs = a.outputs_json;
    if (a.step_id == "middle") middle_attempts.push_back(a.attempt);
  }
  EXPECT_EQ(middle_attempts, (std::vector<int>{1, 2})) << "attempt numbers continue";
  auto token_value = boost::json::parse(first_outputs).at("token").as_string();
  EXPECT_NE(text.find("last saw " + std::string(token_value) + " / token-" + std::string(token_value)),
            std::string::npos)
      << text;
  EXPECT_EQ(JsonString(box.ShowJson(run), "status"), "succeeded");

  // --from re-runs that step and everything downstream, nothing upstream.
  Outcome third = box.Run({"--json", "resume", run, "--from", "middle"});
  ASSERT_EQ(third.exit_code, 0) << third.Describe();
  std::string after = ReadFile(log);
  std::string added = after.substr(text.size());
  EXPECT_EQ(added.find("first ran"), std::string::npos) << added;
  EXPECT_NE(added.find("middle ran"), std::string::npos) << added;
  EXPECT_NE(added.find("last saw"), std::string::npos) << added;
}

TEST(CliResume, AfterKillNineResumeDoesNotRepeatWhatSucceeded) {
  CliSandbox box;
  std::string log = box.Path("log"), flag = box.Path("flag");
  box.SetEnv("LOG", log);
  box.SetEnv("FLAG", flag);
  std::string rb = box.WriteRunbook("long", R"(name: long
steps:
  - id: first
    run: echo "first ran" >> "$LOG"; echo "value-$$"
    outputs:
      value: {from: stdout, regex: '(value-[0-9]+)'}
  - id: wait
    needs: [first]
    run: test -f "$FLAG" || sleep 60
  - id: last
    needs: [wait]
    run: echo "last saw ${{ steps.first.outputs.value }}" >> "$LOG"
)");
  auto p = box.Start({"run", rb});
  auto j = box.OpenJournal();
  std::string run;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto runs = j->ListRuns(journal::RunFilter{});
        if (!runs.ok() || runs->empty()) return false;
        run = (*runs)[0].id;
        auto attempts = j->GetAttempts(run);
        if (!attempts.ok()) return false;
        for (const auto& a : *attempts)
          if (a.step_id == "wait" && a.status == journal::AttemptStatus::kRunning) return true;
        return false;
      },
      milliseconds(20000)));
  p->Signal(SIGKILL);
  p->Wait();
  std::ofstream(flag) << "go";
  Outcome r = box.Run({"--json", "resume", run});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("marked interrupted"), std::string::npos) << r.err;
  std::string text = ReadFile(log);
  EXPECT_EQ(Occurrences(text, "first ran"), 1) << text;
  auto attempts = j->GetAttempts(run);
  ASSERT_TRUE(attempts.ok());
  std::string value;
  for (const auto& a : *attempts)
    if (a.step_id == "first") value = std::string(boost::json::parse(a.outputs_json).at("value").as_string());
  EXPECT_NE(text.find("last saw " + value), std::string::npos) << text;
  EXPECT_EQ(JsonString(box.ShowJson(run), "status"), "succeeded");
  Outcome v = box.Run({"journal", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
}

TEST(CliResume, RefusesWhenTheRunbookChangedUnlessAllowed) {
  CliSandbox box;
  box.SetEnv("LOG", box.Path("log"));
  box.SetEnv("FLAG", box.Path("flag"));
  std::string rb = ChainRunbook(box);
  Outcome first = box.Run({"--json", "run", rb});
  ASSERT_EQ(first.exit_code, 1) << first.Describe();
  std::string run = RunIdOf(first);
  std::string text = ReadFile(rb);
  std::ofstream(rb, std::ios::app) << "  - id: extra\n    run: 'true'\n";
  Outcome refused = box.Run({"resume", run});
  EXPECT_EQ(refused.exit_code, 2) << refused.Describe();
  EXPECT_NE(refused.err.find("runbook 'chain' changed since run " + run + " started"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("--allow-changed"), std::string::npos);
  std::ofstream(box.Path("flag")) << "x";
  Outcome allowed = box.Run({"--json", "resume", run, "--allow-changed"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.Describe();
  EXPECT_EQ(StepStatus(box, run, "extra"), "succeeded");
  auto j = box.OpenJournal();
  auto events = j->GetEvents(run);
  ASSERT_TRUE(events.ok());
  bool noted = false;
  for (const auto& e : *events) noted |= e.kind == "run_resumed" && e.message.find("runbook changed") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(CliResume, SucceededRunNeedsFrom) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("one", "name: one\nsteps:\n  - id: a\n    run: 'true'\n");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  Outcome r = box.Run({"resume", RunIdOf(o)});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("nothing to resume"), std::string::npos) << r.err;
  r = box.Run({"resume", RunIdOf(o), "--from", "nosuch"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
}

TEST(CliChildRun, ParentAndChildAreLinkedAndShareTheIncident) {
  CliSandbox box;
  box.WriteRunbook("child", R"(name: child
params:
  level: {type: int, required: true}
steps:
  - id: work
    run: echo "level ${{ params.level }}"
    outputs:
      level: {from: stdout, regex: 'level ([0-9]+)', type: int}
outputs:
  level: ${{ steps.work.outputs.level }}
)");
  std::string parent = box.WriteRunbook("parent", R"(name: parent
steps:
  - id: call
    type: runbook
    runbook: child
    params: {level: 42}
  - id: use
    needs: [call]
    run: echo "child ${{ steps.call.outputs.status }} ${{ steps.call.outputs.outputs.level }}"
)");
  Outcome o = box.Run({"--json", "run", parent, "--incident", "INC-7"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run = RunIdOf(o);
  EXPECT_EQ(box.RawLogs(run, "use"), "child succeeded 42\n");
  auto j = box.OpenJournal();
  journal::RunFilter all;
  auto runs = j->ListRuns(all);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  const journal::RunRecord* child = nullptr;
  for (const auto& r : *runs)
    if (r.runbook == "child") child = &r;
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->parent_run, run);
  EXPECT_EQ(child->incident, "INC-7");
  EXPECT_EQ(child->trigger, journal::Trigger::kChild);
  EXPECT_EQ(child->status, journal::RunStatus::kSucceeded);
  Outcome listed = box.Run({"runs", "--incident", "INC-7"});
  EXPECT_EQ(listed.exit_code, 0) << listed.Describe();
  EXPECT_NE(listed.out.find(child->id), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(run), std::string::npos) << listed.out;
}

TEST(CliChildRun, ChildFailureFailsTheParentStepAndBadParamsAreReported) {
  CliSandbox box;
  box.WriteRunbook("child", R"(name: child
params:
  level: {type: int, required: true}
steps:
  - id: work
    run: exit ${{ params.level }}
)");
  std::string parent = box.WriteRunbook("parent", R"(name: parent
steps:
  - id: fails
    type: runbook
    runbook: child
    params: {level: 3}
  - id: bad-params
    type: runbook
    runbook: child
    params: {level: high}
)");
  Outcome o = box.Run({"--json", "run", parent});
  ASSERT_EQ(o.exit_code, 1) << o.Describe();
  std::string run = RunIdOf(o);
  auto show = box.ShowJson(run);
  std::string text = boost::json::serialize(show);
  EXPECT_EQ(StepStatus(box, run, "fails"), "failed");
  EXPECT_NE(text.find("failed: step(s) failed: work"), std::string::npos) << text;
  EXPECT_EQ(StepStatus(box, run, "bad-params"), "failed");
  EXPECT_NE(o.err.find("level"), std::string::npos) << o.err;
}

TEST(CliChildRun, ChildWaitingForApprovalPausesTheParentAndResumeContinuesBoth) {
  CliSandbox box;
  box.SetEnv("LOG", box.Path("log"));
  box.WriteRunbook("child", R"(name: child
steps:
  - id: gate
    type: approval
  - id: act
    needs: [gate]
    run: echo child-acted >> "$LOG"
)");
  std::string parent = box.WriteRunbook("parent", R"(name: parent
steps:
  - id: call
    type: runbook
    runbook: child
  - id: after
    needs: [call]
    run: echo parent-after >> "$LOG"
)");
  Outcome o = box.Run({"--json", "run", parent});
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  std::string run = RunIdOf(o);
  const std::string child = RunIdOfRunbook(box, "child");
  ASSERT_FALSE(child.empty());
  // Every place that says how to go on names the child's step.
  auto v = ParseJson(o.out, "run --json");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->at("waiting"), boost::json::array({"call"}));
  EXPECT_EQ(v->at("decisions"), boost::json::array({boost::json::object{{"run_id", child}, {"step", "gate"}}}));
  const std::string hint = "runbook approve " + child + " gate, then runbook resume " + run;
  Outcome text = box.Run({"run", parent});
  ASSERT_EQ(text.exit_code, 3) << text.Describe();
  EXPECT_NE(text.err.find("waiting: call  (decide: runbook approve "), std::string::npos) << text.err;
  Outcome show = box.Run({"show", run});
  EXPECT_NE(show.out.find("waiting:  call  (" + hint + ")"), std::string::npos) << show.out;
  Outcome wrong = box.Run({"approve", run, "call"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.Describe();
  EXPECT_NE(wrong.err.find("step 'call' of run " + run + " waits for its child run " + child +
                           ", not for a decision of its own; decide there: " + hint),
            std::string::npos)
      << wrong.err;
  Outcome a = box.Run({"approve", child, "gate"});
  ASSERT_EQ(a.exit_code, 0) << a.Describe();
  EXPECT_NE(a.err.find("continue the run with: runbook resume " + run + " (the run that started run " + child + ")"),
            std::string::npos)
      << a.err;
  Outcome r = box.Run({"--json", "resume", run});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ReadFile(box.Path("log")), "child-acted\nparent-after\n");
  auto runs = box.OpenJournal()->ListRuns(journal::RunFilter{});
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 4u) << "the child run was resumed, not started again (the second parent has its own)";
}

TEST(CliChildRun, CyclesBetweenRunbooksAreDefinitionErrors) {
  CliSandbox box;
  box.WriteRunbook("ping", "name: ping\nsteps:\n  - id: call\n    type: runbook\n    runbook: pong\n");
  box.WriteRunbook("pong", "name: pong\nsteps:\n  - id: call\n    type: runbook\n    runbook: ping\n");
  box.SetEnv("RUNBOOK_PATH", box.dir());
  Outcome o = box.Run({"validate", "ping"});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find("runbook cycle: ping -> pong -> ping"), std::string::npos) << o.err;
  o = box.Run({"run", "ping"});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  o = box.Run({"validate", "ping"});
  box.WriteRunbook("lone", "name: lone\nsteps:\n  - id: call\n    type: runbook\n    runbook: missing\n");
  o = box.Run({"validate", "lone"});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find("no runbook named 'missing'"), std::string::npos) << o.err;
}

TEST(CliCancel, CancelStopsARunInAnotherProcessAndRecordsWho) {
  CliSandbox box;
  box.SetEnv("PIDFILE", box.Path("pid"));
  std::string rb = box.WriteRunbook("slow", R"(name: slow
steps:
  - id: sleep
    run: echo $$ > "$PIDFILE"; exec sleep 60
finally:
  - id: cleanup
    run: echo cleaned
)");
  auto p = box.Start({"run", rb});
  auto j = box.OpenJournal();
  std::string run;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto runs = j->ListRuns(journal::RunFilter{});
        if (!runs.ok() || runs->empty()) return false;
        auto attempts = j->GetAttempts((*runs)[0].id);
        if (!attempts.ok() || attempts->empty()) return false;
        run = (*runs)[0].id;
        return (*attempts)[0].status == journal::AttemptStatus::kRunning;
      },
      milliseconds(20000)));
  Outcome c = box.Run({"cancel", run});
  EXPECT_EQ(c.exit_code, 0) << c.Describe();
  EXPECT_NE(c.out.find("cancelled"), std::string::npos) << c.out;
  Outcome ended = p->Wait();
  EXPECT_EQ(ended.exit_code, 143) << ended.Describe();
  // The step's process (its group leader) is gone, not orphaned.
  pid_t step_pid = static_cast<pid_t>(std::stol("0" + ReadFile(box.Path("pid"))));
  ASSERT_GT(step_pid, 0);
  auto info = ProcessInfo(step_pid);
  EXPECT_FALSE(info) << info->Describe();
  EXPECT_EQ(StepStatus(box, run, "cleanup"), "succeeded");
  auto events = j->GetEvents(run);
  ASSERT_TRUE(events.ok());
  bool requested = false;
  for (const auto& e : *events) requested |= e.kind == "cancel_requested";
  EXPECT_TRUE(requested);
  Outcome again = box.Run({"cancel", run});
  EXPECT_EQ(again.exit_code, 1) << again.Describe();
}

TEST(CliNote, NotesJoinTheTimelineWithTheirAuthor) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("one", "name: one\nsteps:\n  - id: a\n    run: 'true'\n");
  Outcome o = box.Run({"--json", "run", rb});
  std::string run = RunIdOf(o);
  Outcome n = box.Run({"note", run, "customer confirmed the outage ended", "--as", "carol"});
  ASSERT_EQ(n.exit_code, 0) << n.Describe();
  auto j = box.OpenJournal();
  auto events = j->GetEvents(run);
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  const auto& e = events->back();
  EXPECT_EQ(e.kind, "note");
  EXPECT_EQ(e.message, "customer confirmed the outage ended");
  EXPECT_EQ(e.data_json, R"({"author":"carol"})");
  EXPECT_EQ(box.Run({"note", "nosuchrun", "x"}).exit_code, 2);
  auto notes = box.ShowJson(run).at("notes").as_array();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(JsonString(notes[0], "author"), "carol");
  EXPECT_EQ(JsonString(notes[0], "text"), "customer confirmed the outage ended");
  EXPECT_NE(box.Run({"show", run}).out.find("carol: customer confirmed the outage ended"), std::string::npos);
}

std::string GroupRunbook(CliSandbox& box, const std::string& name, const std::string& policy) {
  return box.WriteRunbook(name, "name: " + name + "\nconcurrency: {group: db-recovery, policy: " + policy +
                                    "}\nsteps:\n  - id: hold\n    run: echo " + name +
                                    " >> \"$LOG\"; while [ ! -f \"$RELEASE\" ]; do sleep 0.05; done\n");
}

TEST(CliConcurrency, GroupAdmitsOneRunAndAppliesEachPolicy) {
  CliSandbox box;
  box.SetEnv("LOG", box.Path("log"));
  box.SetEnv("RELEASE", box.Path("release"));
  std::string holder = GroupRunbook(box, "holder", "queue");
  std::string skipper = GroupRunbook(box, "skipper", "skip");
  std::string failer = GroupRunbook(box, "failer", "fail");
  std::string queued = GroupRunbook(box, "queued", "queue");
  auto first = box.Start({"run", holder});
  ASSERT_TRUE(WaitFor([&] { return ReadFile(box.Path("log")) == "holder\n"; }, milliseconds(20000)));

  Outcome s = box.Run({"run", skipper});
  EXPECT_EQ(s.exit_code, 0) << s.Describe();
  auto jr = box.OpenJournal();
  auto held = jr->ListRuns(journal::RunFilter{});
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  const std::string holder_id = (*held)[0].id;
  EXPECT_NE(s.err.find("skipped: concurrency group 'db-recovery' is busy (held by run " + holder_id + " of holder"),
            std::string::npos)
      << s.err;
  Outcome f = box.Run({"run", failer});
  EXPECT_EQ(f.exit_code, 1) << f.Describe();
  EXPECT_NE(f.err.find("refused: concurrency group 'db-recovery' is busy (held by run " + holder_id), std::string::npos)
      << f.err;

  auto q = box.Start({"run", queued});
  ASSERT_TRUE(WaitFor([&] { return q->Stderr().find("waiting for concurrency group") != std::string::npos; },
                      milliseconds(20000)));
  EXPECT_EQ(ReadFile(box.Path("log")), "holder\n") << "the queued run must not start while the group is held";
  std::ofstream(box.Path("release")) << "go";
  EXPECT_EQ(first->Wait().exit_code, 0);
  Outcome qo = q->Wait();
  EXPECT_EQ(qo.exit_code, 0) << qo.Describe();
  EXPECT_EQ(ReadFile(box.Path("log")), "holder\nqueued\n");
  // Skips and refusals are in the journal.
  auto j = box.OpenJournal();
  auto runs = j->ListRuns(journal::RunFilter{});
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 2u) << "skipped and refused runs do not start";
}

TEST(CliRepeat, StepRepeatsUntilItsConditionHolds) {
  CliSandbox box;
  std::string count = box.Path("count");
  std::string rb = box.WriteRunbook("poll", R"(name: poll
steps:
  - id: probe
    repeat: {until: "${{ steps.probe.outputs.n >= 3 }}", every: 100ms, max: 30s}
    run: |
      n=$(cat )" + count + R"( 2>/dev/null || echo 0); n=$((n + 1)); echo $n > )" + count + R"(
      echo "n=$n"
    outputs:
      n: {from: stdout, regex: 'n=([0-9]+)', type: int}
  - id: never
    repeat: {until: "${{ steps.never.outputs.exit_code == 7 }}", every: 100ms, max: 500ms}
    run: 'true'
)");
  Outcome o = box.Run({"--json", "run", rb});
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  std::string run = RunIdOf(o);
  EXPECT_EQ(ReadFile(count), "3\n");
  EXPECT_EQ(StepStatus(box, run, "probe"), "succeeded");
  EXPECT_EQ(StepStatus(box, run, "never"), "failed");
  EXPECT_NE(boost::json::serialize(box.ShowJson(run)).find("still false after 500ms"), std::string::npos);
}

// The run's timeout limits each engine session: a run resumed after a pause
// longer than its timeout gets the whole timeout again, and the timeout
// still stops the resumed session (docs/execution.md, Resume). 4 s leaves a
// loaded machine (ASan, the load tests alongside) room to start the engine
// and run the quick step.
TEST(CliResume, TheRunTimeoutCountsAgainFromEachResumeAndStillApplies) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("gated", R"(name: gated
timeout: 4s
steps:
  - {id: gate, type: approval}
  - {id: quick, needs: [gate], run: sleep 0.2}
  - {id: slow, needs: [quick], run: sleep 60}
)");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  std::string run = RunIdOf(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));  // the pause outlasts the timeout
  Outcome a = box.Run({"approve", run, "gate"});
  ASSERT_EQ(a.exit_code, 0) << a.Describe();
  auto t0 = std::chrono::steady_clock::now();
  Outcome r = box.Run({"--json", "resume", run}, std::chrono::seconds(60));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(45)) << "the timeout stopped the slow step";
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(StepStatus(box, run, "quick"), "succeeded");  // not timed out at once
  EXPECT_EQ(StepStatus(box, run, "slow"), "cancelled");
  EXPECT_EQ(JsonString(box.ShowJson(run), "error"), "run timed out after 4s");
}

}  // namespace
}  // namespace runbook::clitest
