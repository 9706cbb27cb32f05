// The Runner with a scripted process launcher and a real journal in a temp
// directory: parallelism, retries, timeouts, skips, handlers, outputs and
// masking, without spawning anything.
#include "engine/runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>

#include "engine/json_text.h"
#include "engine/loader.h"
#include "engine/run_execution.h"
#include "journal/identity.h"
#include "journal/start_log.h"
#include "steps/process_step.h"
#include "steps/registry.h"
#include "tests/fakes/fake_process_launcher.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;
using fakes::FakeProcessLauncher;
using std::chrono::milliseconds;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("runner-test-" + std::to_string(getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto j = journal::Journal::Open((dir_ / "journal.db").string());
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(j).value();
    executors_.Add("shell", steps::MakeShellExecutor(launcher_));
    executors_.Add("exec", steps::MakeExecExecutor(launcher_));
  }
  void TearDown() override {
    if (journal_) (void)journal_->Close();
    fs::remove_all(dir_);
  }

  RunSummary Run(const std::string& yaml, int max_parallel = 4, std::map<std::string, std::string> secrets = {}) {
    Diagnostics diags;
    auto spec = LoadRunbookText(yaml, "t.yaml", steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(spec) << diags.FormatAll();
    rb_ = Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(rb_) << diags.FormatAll();
    Runner runner(io_, *journal_, executors_, nullptr);
    RunRequest req;
    req.runbook = &*rb_;
    for (const auto& p : rb_->spec.params)
      if (p.default_value) req.params[p.name] = *p.default_value;
    req.secrets = std::move(secrets);
    req.max_parallel = max_parallel;
    req.handle_signals = false;
    RunSummary s = runner.Run(req);
    EXPECT_TRUE(journal_->SyncBlocking().ok());
    return s;
  }

  std::vector<journal::AttemptRecord> Attempts(const std::string& run, const std::string& step) {
    std::vector<journal::AttemptRecord> out;
    for (auto& a : journal_->GetAttempts(run).value())
      if (a.step_id == step) out.push_back(a);
    return out;
  }
  std::vector<journal::EventRecord> Events(const std::string& run, const std::string& kind) {
    std::vector<journal::EventRecord> out;
    for (auto& e : journal_->GetEvents(run).value())
      if (e.kind == kind) out.push_back(e);
    return out;
  }

  fs::path dir_;
  boost::asio::io_context io_;
  FakeProcessLauncher launcher_;
  ExecutorRegistry executors_;
  std::unique_ptr<journal::Journal> journal_;
  std::optional<CompiledRunbook> rb_;
};

TEST_F(RunnerTest, NeverRunsMoreStepsAtOnceThanMaxParallel) {
  launcher_.SetDefault(FakeProcessLauncher::Runs(milliseconds(30)));
  std::string yaml = "steps:\n";
  for (int i = 0; i < 10; ++i) yaml += "  - {id: s" + std::to_string(i) + ", argv: [work]}\n";
  auto s = Run(yaml, 3);
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded);
  EXPECT_EQ(launcher_.calls(), 10u);
  EXPECT_EQ(launcher_.max_running(), 3);
}

TEST_F(RunnerTest, BarriersReadyInOneLoopPassShareOneCommit) {
  // Two steps whose records are queued by different handlers of one event
  // loop pass (two children that exited together, each starting the next
  // step): the first barrier to resume commits both steps' records, and the
  // second then has nothing left to commit (docs/performance.md).
  journal::RunRecord run;
  run.id = "aaaaaaaaaaaa";
  run.runbook = "t";
  run.source_text = "steps: []\n";
  run.started_at_us = 1000;
  journal_->CreateRun(run);
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  const uint64_t before = journal_->transactions();
  std::vector<std::string> order;
  auto step = [&](std::string id) -> boost::asio::awaitable<void> {
    // As the engine's barriers (a run's start, pause and end) do: the
    // records are queued under a Hold, so that the writer thread is not
    // woken to commit them on its own.
    std::optional<journal::Journal::Hold> hold(std::in_place, *journal_);
    journal::EventRecord e;
    e.run_id = run.id;
    e.step_id = id;
    e.kind = "step_started";
    journal_->AppendEvent(std::move(e));
    Status s = co_await internal::SyncJournal(*journal_, &hold);
    EXPECT_TRUE(s.ok()) << s.message();
    // Durable when the barrier answers: committed, visible to a reader.
    auto events = journal_->GetEvents(run.id);
    EXPECT_TRUE(events.ok());
    bool found = false;
    for (const auto& ev : *events) found = found || ev.step_id == id;
    EXPECT_TRUE(found) << id;
    order.push_back(id);
  };
  boost::asio::co_spawn(io_, step("a"), boost::asio::detached);
  boost::asio::co_spawn(io_, step("b"), boost::asio::detached);
  io_.run();
  EXPECT_EQ((std::vector<std::string>{"a", "b"}), order);
  EXPECT_EQ(journal_->transactions(), before + 1);
}

TEST_F(RunnerTest, AStepsStartIsDurableBeforeItsProcessStartsAndSoAreTheEndsItWaitedFor) {
  // Nothing commits without a barrier here, whatever the machine's speed.
  ASSERT_TRUE(journal_->Close().ok());
  journal::OpenOptions options;
  options.commit_window = std::chrono::hours(1);
  journal_ = std::move(journal::Journal::Open((dir_ / "journal.db").string(), options).value());
  // The launcher's rule only looks, when each process is about to start: at
  // what this process's start log holds (journal/start_log.h), and at what
  // the journal has committed.
  const std::string log = journal::StartLogPath((dir_ / "journal.db").string(), journal::CurrentProcess());
  std::vector<std::string> at_launch;
  launcher_.On(
      [&](const steps::ProcessRequest& r) {
        std::string seen = r.argv.back() + ":";
        for (const auto& start : journal::ReadStartLog(log).value()) seen += " " + start.attempt.step_id;
        seen += " |";
        for (const auto& run : journal_->ListRuns({}).value())
          for (const auto& a : journal_->GetAttempts(run.id).value())
            seen += " " + a.step_id + "=" + std::string(journal::ToString(a.status));
        at_launch.push_back(seen);
        return false;
      },
      FakeProcessLauncher::Exits(0));
  RunSummary s = Run(R"(name: t
steps:
  - {id: a, run: echo a}
  - {id: x, needs: [a], run: echo x}
  - {id: y, needs: [a], run: echo y}
)",
                     /*max_parallel=*/1);
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  ASSERT_EQ(at_launch.size(), 3u);
  // `a` waited for nothing: its start is in the start log, not yet committed.
  EXPECT_EQ(at_launch[0], "echo a: a |");
  // The first of x and y waited for a's end, which was still queued: both
  // were committed with its start (not in the start log).
  const bool x_first = at_launch[1].starts_with("echo x");
  const std::string first = x_first ? "x" : "y", second = x_first ? "y" : "x";
  EXPECT_EQ(at_launch[1], "echo " + first + ": a | a=succeeded " + first + "=running");
  // The second waited for a's end too, committed by then: its start goes to
  // the start log (the first one's end is still queued).
  EXPECT_EQ(at_launch[2], "echo " + second + ": a " + second + " | a=succeeded " + first + "=running");
  ASSERT_TRUE(journal_->Close().ok());
  EXPECT_FALSE(fs::exists(log));
}

TEST_F(RunnerTest, RetriesJournalEveryAttemptAndThenSucceed) {
  launcher_.OnCall(0, FakeProcessLauncher::Exits(1, "", "boom 1\n"));
  launcher_.OnCall(1, FakeProcessLauncher::Exits(1, "", "boom 2\n"));
  launcher_.SetDefault(FakeProcessLauncher::Exits(0, "ok\n"));
  auto s = Run(R"(
steps:
  - {id: flaky, argv: [flaky], retry: {attempts: 3, delay: 10ms, backoff: 2}}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded);
  auto a = Attempts(s.run_id, "flaky");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].status, journal::AttemptStatus::kFailed);
  EXPECT_EQ(a[0].error, "exit code 1");
  EXPECT_EQ(a[1].status, journal::AttemptStatus::kFailed);
  EXPECT_EQ(a[2].status, journal::AttemptStatus::kSucceeded);
  auto retries = Events(s.run_id, "retry");
  ASSERT_EQ(retries.size(), 2u);
  EXPECT_EQ(retries[0].message, "attempt 1 failed; attempt 2 in 10ms");
  EXPECT_EQ(retries[1].message, "attempt 2 failed; attempt 3 in 20ms");
}

TEST_F(RunnerTest, AStepOverItsTimeoutIsTimedOutAndFailsTheRun) {
  launcher_.SetDefault(FakeProcessLauncher::Runs(milliseconds(10000)));
  auto s = Run("steps:\n  - {id: slow, argv: [sleep], timeout: 100ms}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(s.exit_code, 1);
  auto a = Attempts(s.run_id, "slow");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].status, journal::AttemptStatus::kTimedOut);
  EXPECT_EQ(a[0].error, "timed out after 100ms");
  EXPECT_EQ(Events(s.run_id, "timeout").size(), 1u);
}

TEST_F(RunnerTest, DependentsOfAFailedStepAreSkippedWithTheReasonAndHandlersRun) {
  launcher_.OnProgram("bad", FakeProcessLauncher::Exits(3));
  auto s = Run(R"(
steps:
  - {id: a, argv: [bad]}
  - {id: b, needs: [a], argv: [good]}
  - {id: c, argv: [good]}
on_failure:
  - {id: alert, argv: [good]}
finally:
  - {id: cleanup, argv: [good]}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(s.error, "step(s) failed: a");
  EXPECT_EQ(Attempts(s.run_id, "b").at(0).status, journal::AttemptStatus::kSkipped);
  auto skipped = Events(s.run_id, "step_skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].step_id, "b");
  EXPECT_EQ(skipped[0].message, "skipped: needs 'a' (failed)");
  EXPECT_EQ(Attempts(s.run_id, "c").at(0).status, journal::AttemptStatus::kSucceeded);
  EXPECT_EQ(Attempts(s.run_id, "alert").at(0).status, journal::AttemptStatus::kSucceeded);
  EXPECT_EQ(Attempts(s.run_id, "cleanup").at(0).status, journal::AttemptStatus::kSucceeded);
}

TEST_F(RunnerTest, ConditionsDecideAndStatusFunctionsSeeNeeds) {
  launcher_.OnProgram("bad", FakeProcessLauncher::Exits(1));
  auto s = Run(R"(
params:
  ip: {type: string, default: ""}
steps:
  - {id: a, argv: [bad], continue_on_error: true}
  - {id: on-fail, needs: [a], if: failure(), argv: [good]}
  - {id: block, if: "params.ip != ''", argv: [good]}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded) << "continue_on_error keeps the run green";
  EXPECT_EQ(Attempts(s.run_id, "a").at(0).status, journal::AttemptStatus::kFailed);
  // continue_on_error counts as success for dependents: failure() is false.
  EXPECT_EQ(Attempts(s.run_id, "on-fail").at(0).status, journal::AttemptStatus::kSkipped);
  EXPECT_EQ(Attempts(s.run_id, "block").at(0).status, journal::AttemptStatus::kSkipped);
  EXPECT_EQ(Attempts(s.run_id, "block").at(0).error, "condition is false: params.ip != ''");
}

TEST_F(RunnerTest, OutputsAreExtractedAndFlowIntoLaterStepsAndRunOutputs) {
  launcher_.OnProgram("top", FakeProcessLauncher::Exits(0, "%Cpu(s): 42.5 us\n"));
  auto s = Run(R"(
steps:
  - id: measure
    argv: [top]
    outputs: {cpu: {from: stdout, regex: 'Cpu\(s\):\s+([0-9.]+)', type: number}}
  - {id: report, needs: [measure], argv: [echo, "cpu=${{ steps.measure.outputs.cpu }}"]}
outputs:
  cpu: ${{ steps.measure.outputs.cpu }}
  high: ${{ steps.measure.outputs.cpu > 40 }}
)");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_DOUBLE_EQ(s.outputs.at("cpu").as_double(), 42.5);
  EXPECT_TRUE(s.outputs.at("high").as_bool());
  ASSERT_EQ(launcher_.requests().size(), 2u);
  EXPECT_EQ(launcher_.requests()[1].argv, (std::vector<std::string>{"echo", "cpu=42.5"}));
  auto run = journal_->GetRun(s.run_id).value();
  EXPECT_EQ(run.outputs_json, R"({"cpu":42.5,"high":true})");
}

TEST_F(RunnerTest, ExpressionsReachShellScriptsOnlyThroughTheEnvironment) {
  auto s = Run(R"(
params:
  v: {type: string, default: 'x"; touch /tmp/pwned; echo "'}
steps:
  - id: a
    run: echo "${{ params.v }}"
)");
  ASSERT_EQ(launcher_.requests().size(), 1u);
  const auto& r = launcher_.requests()[0];
  EXPECT_EQ(r.argv, (std::vector<std::string>{"sh", "-e", "-c", "echo \"${RUNBOOK_EXPR_1}\""}));
  auto has = [&](const std::string& kv) { return std::find(r.env.begin(), r.env.end(), kv) != r.env.end(); };
  EXPECT_TRUE(has("RUNBOOK_EXPR_1=x\"; touch /tmp/pwned; echo \""));
  EXPECT_TRUE(has("RUNBOOK_PARAM_v=x\"; touch /tmp/pwned; echo \""));
  EXPECT_TRUE(has("RUNBOOK_STEP_ID=a"));
  EXPECT_TRUE(has("RUNBOOK_RUN_ID=" + s.run_id));
}

TEST_F(RunnerTest, StepEnvironmentLayersEngineRunbookDefaultsStepAndRunbookVariablesOncePerKey) {
  ::setenv("RUNNER_TEST_INHERITED", "engine", 1);
  ::setenv("RUNNER_TEST_LAYERED", "engine", 1);
  ::setenv("RUNBOOK_LEAKED", "engine", 1);  // ours are set, never inherited
  auto s = Run(R"(
params:
  p: {type: string, default: pv}
env:
  RUNNER_TEST_LAYERED: runbook
  A: runbook
  B: runbook
defaults:
  env: {B: defaults, C: defaults}
steps:
  - id: one
    argv: [x]
    env: {C: step, RUNBOOK_STEP_ID: mine, RUNBOOK_RUN_ID: mine}
  - id: two
    needs: [one]
    argv: [x]
)");
  ::unsetenv("RUNNER_TEST_INHERITED");
  ::unsetenv("RUNNER_TEST_LAYERED");
  ::unsetenv("RUNBOOK_LEAKED");
  ASSERT_EQ(launcher_.requests().size(), 2u);
  auto value = [](const std::vector<std::string>& env, const std::string& key) {
    std::string found;
    int n = 0;
    for (const auto& kv : env)
      if (kv.rfind(key + "=", 0) == 0) {
        found = kv.substr(key.size() + 1);
        ++n;
      }
    EXPECT_LE(n, 1) << key << " appears " << n << " times";
    return n == 0 ? std::string("(unset)") : found;
  };
  const auto& one = launcher_.requests()[0].env;
  const auto& two = launcher_.requests()[1].env;
  auto key = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  EXPECT_TRUE(std::is_sorted(one.begin(), one.end(),
                             [&](const std::string& a, const std::string& b) { return key(a) < key(b); }));
  EXPECT_EQ(value(one, "RUNNER_TEST_INHERITED"), "engine");
  EXPECT_EQ(value(one, "RUNNER_TEST_LAYERED"), "runbook");
  EXPECT_EQ(value(one, "A"), "runbook");
  EXPECT_EQ(value(one, "B"), "defaults");
  EXPECT_EQ(value(one, "C"), "step");
  EXPECT_EQ(value(one, "RUNBOOK_STEP_ID"), "one");
  EXPECT_EQ(value(one, "RUNBOOK_RUN_ID"), s.run_id);
  EXPECT_EQ(value(one, "RUNBOOK_ATTEMPT"), "1");
  EXPECT_EQ(value(one, "RUNBOOK_PARAM_p"), "pv");
  EXPECT_EQ(value(one, "RUNBOOK_LEAKED"), "(unset)");
  // The second step sees none of the first one's variables.
  EXPECT_EQ(value(two, "C"), "defaults");
  EXPECT_EQ(value(two, "RUNBOOK_STEP_ID"), "two");
  EXPECT_EQ(value(two, "RUNBOOK_RUN_ID"), s.run_id);
  EXPECT_EQ(one.size(), two.size());
}

TEST_F(RunnerTest, StepFinishedEventCarriesStatusDurationExitCodeAndDigestsAsCanonicalJson) {
  launcher_.OnProgram("out", FakeProcessLauncher::Exits(3, "hello\n"));
  auto s = Run(R"(
steps:
  - {id: a, argv: [out], continue_on_error: true}
)");
  auto finished = Events(s.run_id, "step_finished");
  ASSERT_EQ(finished.size(), 1u);
  const std::string& json = finished[0].data_json;
  auto v = boost::json::parse(json).as_object();
  EXPECT_EQ(JsonText(v), json) << "as runbook writes JSON (engine/json_text.h)";
  EXPECT_EQ(v.at("status").as_string(), "failed");
  EXPECT_GE(v.at("duration_ms").as_int64(), 0);
  EXPECT_EQ(v.at("exit_code").as_int64(), 3);
  EXPECT_EQ(v.at("stdout_bytes").as_int64(), 6);
  EXPECT_EQ(v.at("stdout_sha256").as_string(), "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  EXPECT_EQ(v.at("stderr_bytes").as_int64(), 0);
  EXPECT_EQ(v.at("stderr_sha256").as_string(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::vector<std::string> keys;
  for (const auto& kv : v) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"status", "duration_ms", "exit_code", "stdout_bytes", "stdout_sha256",
                                            "stderr_bytes", "stderr_sha256"}));
  auto a = Attempts(s.run_id, "a");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a.back().stderr_digest.sha256, v.at("stderr_sha256").as_string());
  EXPECT_EQ(a.back().stdout_digest.sha256, v.at("stdout_sha256").as_string());
}

TEST_F(RunnerTest, SecretsAreMaskedInOutputErrorsAndEvents) {
  const std::string secret = "s3cr3t-t0ken-value";
  // The secret arrives split across two chunks of one stream.
  FakeProcessLauncher::Script split;
  split.output = {{steps::Stream::kStdout, "token is " + secret.substr(0, 7)},
                  {steps::Stream::kStdout, secret.substr(7) + " ok\n"}};
  launcher_.OnProgram("leak", split);
  launcher_.OnProgram("fail", FakeProcessLauncher::Exits(1, "", "rejected " + secret + "\n"));
  auto s = Run(R"(
secrets:
  TOKEN: {env: NOT_USED}
steps:
  - {id: a, argv: [leak]}
  - {id: b, needs: [a], argv: [fail], env: {T: "${{ secrets.TOKEN }}"}, continue_on_error: true}
)",
               4, {{"TOKEN", secret}});
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded);
  // The process itself got the real value, through its environment.
  const auto& env = launcher_.requests().at(1).env;
  EXPECT_NE(std::find(env.begin(), env.end(), "T=" + secret), env.end());
  std::string all;
  for (const auto& c : journal_->GetOutput(s.run_id, std::nullopt).value()) all += c.data;
  for (const auto& e : journal_->GetEvents(s.run_id).value()) all += e.message + e.data_json;
  for (const auto& a : journal_->GetAttempts(s.run_id).value()) all += a.error + a.outputs_json;
  EXPECT_EQ(all.find(secret), std::string::npos) << all;
  EXPECT_NE(all.find("token is *** ok"), std::string::npos) << all;
  EXPECT_NE(all.find("rejected ***"), std::string::npos) << all;
}

TEST_F(RunnerTest, StepErrorSaysWhyAStepDidNotSucceed) {
  const std::string secret = "s3cr3t-t0ken-value";
  launcher_.OnProgram("bad", FakeProcessLauncher::Exits(3));
  launcher_.OnProgram("echo-secret", FakeProcessLauncher::Exits(0, "count " + secret + "\n"));
  auto s = Run(R"(
secrets:
  TOKEN: {env: NOT_USED}
  MISSING: {env: RUNNER_TEST_SURELY_UNSET}
steps:
  - {id: ok, argv: [good]}
  - {id: bad, argv: [bad], continue_on_error: true}
  - {id: never, if: "1 == 2", argv: [good]}
  - {id: nosecret, argv: [x], env: {T: "${{ secrets.MISSING }}"}, continue_on_error: true}
  - id: unreadable
    argv: [echo-secret]
    env: {T: "${{ secrets.TOKEN }}"}
    outputs: {n: {from: stdout, type: int}}
    continue_on_error: true
  - id: report
    needs: [ok, bad, never, nosecret, unreadable]
    if: always()
    argv: [report, "ok=[${{ steps.ok.error }}]", "${{ steps.bad.error }}", "${{ steps.never.error }}",
           "${{ steps.nosecret.error }}", "${{ steps.unreadable.error }}"]
)",
               4, {{"TOKEN", secret}});
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  const auto& argv = launcher_.requests().back().argv;
  ASSERT_EQ(argv.size(), 6u);
  EXPECT_EQ(argv[1], "ok=[]");
  EXPECT_EQ(argv[2], "exit code 3");
  EXPECT_EQ(argv[3], "condition is false: 1 == 2");
  EXPECT_EQ(argv[4], Attempts(s.run_id, "nosecret").at(0).error);
  EXPECT_NE(argv[4].find("secret 'MISSING' is not available"), std::string::npos) << argv[4];
  // An error that quotes a secret reads as the journal has it: masked.
  EXPECT_EQ(argv[5], Attempts(s.run_id, "unreadable").at(0).error);
  EXPECT_EQ(argv[5].find(secret), std::string::npos) << argv[5];
  EXPECT_NE(argv[5].find("***"), std::string::npos) << argv[5];
}

TEST_F(RunnerTest, AStepThatCannotStartIsNotRetried) {
  launcher_.OnProgram("flaky", FakeProcessLauncher::Exits(1));
  auto s = Run(R"(
secrets:
  TOKEN: {env: RUNNER_TEST_SURELY_UNSET}
steps:
  - id: env-secret
    argv: [x]
    env: {T: "${{ secrets.TOKEN }}"}
    retry: {attempts: 3, delay: 10s}
    continue_on_error: true
  - id: stdin-secret
    argv: [x]
    stdin: "${{ secrets.TOKEN }}"
    retry: {attempts: 3, delay: 10s}
    continue_on_error: true
  - id: flaky
    argv: [flaky]
    retry: {attempts: 2, delay: 0s}
    continue_on_error: true
)");
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  for (const char* step : {"env-secret", "stdin-secret"}) {
    auto attempts = Attempts(s.run_id, step);
    ASSERT_EQ(attempts.size(), 1u) << step << ": the same secret would be missing again";
    EXPECT_EQ(attempts[0].status, journal::AttemptStatus::kFailed);
    EXPECT_NE(attempts[0].error.find("secret 'TOKEN' is not available"), std::string::npos) << attempts[0].error;
  }
  auto skipped = Events(s.run_id, "retry_skipped");
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].message,
            "not retried: the attempt could not start, and another would fail the same way (2 attempt(s) left unused)");
  EXPECT_EQ(skipped[0].data_json, R"({"attempts_left":2})");
  // A command that ran and failed is still retried.
  EXPECT_EQ(Attempts(s.run_id, "flaky").size(), 2u);
  auto retries = Events(s.run_id, "retry");
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].step_id, "flaky");
  // Nothing was launched for the two steps that could not start.
  for (const auto& r : launcher_.requests()) EXPECT_EQ(r.argv.at(0), "flaky");
}

TEST_F(RunnerTest, AMissingSecretFailsOnlyTheStepThatUsesIt) {
  Diagnostics diags;
  auto s = Run(R"(
secrets:
  TOKEN: {env: RUNNER_TEST_SURELY_UNSET}
steps:
  - {id: uses, argv: [x], env: {T: "${{ secrets.TOKEN }}"}}
  - {id: other, argv: [y]}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempts(s.run_id, "uses").at(0).status, journal::AttemptStatus::kFailed);
  EXPECT_EQ(Attempts(s.run_id, "other").at(0).status, journal::AttemptStatus::kSucceeded);
}

// Above 64 KiB the rules run on the extraction worker thread; the results and
// the errors must be those of the inline path.
TEST_F(RunnerTest, LargeOutputsAreExtractedOnTheWorkerWithTheSameResultsAndErrors) {
  std::string big(300 * 1024, 'x');
  big += "\nload: 7.25\n";
  launcher_.OnProgram("big", FakeProcessLauncher::Exits(0, big));
  launcher_.OnProgram("small", FakeProcessLauncher::Exits(0, "load: 1.5\n"));
  auto s = Run(R"(
steps:
  - id: big
    argv: [big]
    outputs:
      load: {from: stdout, regex: 'load: ([0-9.]+)', type: number}
      size: {from: stdout, regex: '^(x+)'}
  - id: small
    argv: [small]
    outputs: {load: {from: stdout, regex: 'load: ([0-9.]+)', type: number}}
  - id: bad
    argv: [big]
    outputs: {n: {from: stdout, regex: 'nothing like this'}}
outputs:
  big: ${{ steps.big.outputs.load }}
  len: ${{ length(steps.big.outputs.size) }}
  small: ${{ steps.small.outputs.load }}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto big_attempt = Attempts(s.run_id, "big");
  ASSERT_EQ(big_attempt.size(), 1u);
  EXPECT_EQ(big_attempt[0].status, journal::AttemptStatus::kSucceeded) << big_attempt[0].error;
  auto bad = Attempts(s.run_id, "bad");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].status, journal::AttemptStatus::kFailed);
  EXPECT_NE(bad[0].error.find("did not match"), std::string::npos) << bad[0].error;
  auto outs = journal_->GetAttempts(s.run_id).value();
  for (const auto& a : outs) {
    if (a.step_id == "big") {
      EXPECT_NE(a.outputs_json.find("7.25"), std::string::npos) << a.outputs_json.substr(0, 200);
      EXPECT_NE(a.outputs_json.find(std::string(1000, 'x')), std::string::npos);
    }
    if (a.step_id == "small") {
      EXPECT_NE(a.outputs_json.find("1.5"), std::string::npos) << a.outputs_json;
    }
  }
}

// A cancelled run does not wait for a slow extraction on the worker: the
// attempt ends cancelled at once, and the worker's late answer is dropped.
TEST_F(RunnerTest, ARunCancelledDuringALongExtractionStopsWaitingForIt) {
  // Boost.Regex gives up on this pattern after a number of states that
  // grows with the text: on a 1 MiB text a Debug build takes about a second
  // (0.26 s on 200 KiB on a fast machine, which once outran a 300 ms timeout).
  launcher_.OnProgram("big", FakeProcessLauncher::Exits(0, std::string(1024 * 1024, 'a')));
  auto t0 = std::chrono::steady_clock::now();
  auto s = Run(R"(
timeout: 100ms
steps:
  - id: big
    argv: [big]
    outputs: {n: {from: stdout, regex: '(a*)*b', default: none}}
)");
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_NE(s.status, journal::RunStatus::kSucceeded);
  auto a = Attempts(s.run_id, "big");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].status, journal::AttemptStatus::kCancelled) << a[0].error;
  EXPECT_EQ(a[0].error, "cancelled while extracting outputs");
  // Generous: the regex alone gives up after seconds in this (Debug) build.
  EXPECT_LT(elapsed, std::chrono::seconds(30));
}

}  // namespace
}  // namespace runbook
