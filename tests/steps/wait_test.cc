// The `wait` executor: through the real Runner (journal in a temporary
// directory) for durations, timeouts and `until`; and on its own with a
// hand-made StepContext, to show that `until` sees values that change while
// it waits (what the runner does when another step finishes) and that a
// cancel stops a sleep at once. Time bounds are generous (loaded 2-core box).
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <filesystem>

#include "engine/loader.h"
#include "engine/runner.h"
#include "steps/process.h"
#include "steps/process_step.h"
#include "steps/registry.h"

namespace runbook {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using journal::AttemptStatus;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

class StringSink : public OutputSinkBase {
 public:
  asio::awaitable<void> Write(OutputStream, std::string_view data) override {
    text += data;
    co_return;
  }
  std::string text;
};

class WaitStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wait-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto j = journal::Journal::Open((dir_ / "journal.db").string());
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(j).value();
    launcher_ = steps::MakePosixProcessLauncher(io_.get_executor());
    executors_.Add("exec", steps::MakeExecExecutor(*launcher_));
    executors_.Add("wait", steps::MakeWaitExecutor());
  }
  void TearDown() override {
    if (journal_) (void)journal_->Close();
    fs::remove_all(dir_);
  }

  bool CompileYaml(const std::string& yaml) {
    Diagnostics diags;
    auto spec = LoadRunbookText(yaml, "t.yaml", steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(spec) << diags.FormatAll();
    if (!spec) return false;
    rb_ = Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(rb_) << diags.FormatAll();
    return rb_.has_value();
  }

  RunSummary Run(const std::string& yaml) {
    if (!CompileYaml(yaml)) return {};
    Runner runner(io_, *journal_, executors_, nullptr);
    RunRequest req;
    req.runbook = &*rb_;
    for (const auto& p : rb_->spec.params)
      if (p.default_value) req.params[p.name] = *p.default_value;
    req.handle_signals = false;
    RunSummary s = runner.Run(req);
    EXPECT_TRUE(journal_->SyncBlocking().ok());
    return s;
  }

  // Runs the wait executor alone on step `id` of the compiled runbook.
  StepOutcome Execute(const std::string& id, ValueContext& values, CancelSignal& cancel, StringSink& sink) {
    auto executor = steps::MakeWaitExecutor();
    StepContext ctx;
    ctx.io = io_.get_executor();
    ctx.runbook = &*rb_;
    ctx.step = &rb_->steps[rb_->Find(id)];
    ctx.values = &values;
    ctx.cancel = &cancel;
    ctx.output = &sink;
    std::optional<StepOutcome> outcome;
    asio::co_spawn(io_, executor->Execute(ctx), [&](std::exception_ptr e, StepOutcome o) {
      EXPECT_FALSE(e);
      outcome = std::move(o);
    });
    io_.restart();
    io_.run();
    EXPECT_TRUE(outcome);
    return outcome.value_or(StepOutcome{});
  }

  journal::AttemptRecord LastAttempt(const std::string& run, const std::string& step) {
    journal::AttemptRecord last;
    for (auto& a : journal_->GetAttempts(run).value())
      if (a.step_id == step) last = a;
    return last;
  }

  fs::path dir_;
  asio::io_context io_;
  std::unique_ptr<steps::ProcessLauncher> launcher_;
  ExecutorRegistry executors_;
  std::unique_ptr<journal::Journal> journal_;
  std::optional<CompiledRunbook> rb_;
};

TEST_F(WaitStepTest, DurationPausesTheRunForThatLong) {
  auto t0 = Clock::now();
  auto s = Run("steps:\n  - {id: settle, type: wait, duration: 300ms}\n  - {id: after, needs: [settle], argv: ['true']}\n");
  auto elapsed = Clock::now() - t0;
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(20000));
  auto a = LastAttempt(s.run_id, "settle");
  ASSERT_TRUE(a.started_at_us && a.finished_at_us);
  EXPECT_GE(*a.finished_at_us - *a.started_at_us, 300'000);
  EXPECT_EQ(LastAttempt(s.run_id, "after").status, AttemptStatus::kSucceeded);
}

TEST_F(WaitStepTest, TheStepTimeoutCutsALongWaitShort) {
  auto t0 = Clock::now();
  auto s = Run("steps:\n  - {id: nap, type: wait, duration: 1h, timeout: 200ms}\n");
  EXPECT_LT(Clock::now() - t0, milliseconds(20000));
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = LastAttempt(s.run_id, "nap");
  EXPECT_EQ(a.status, AttemptStatus::kTimedOut);
  EXPECT_EQ(a.error, "timed out after 200ms");
}

TEST_F(WaitStepTest, TheRunTimeoutCancelsAWait) {
  auto t0 = Clock::now();
  auto s = Run("timeout: 200ms\nsteps:\n  - {id: nap, type: wait, duration: 1h}\n");
  EXPECT_LT(Clock::now() - t0, milliseconds(20000));
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(s.error, "run timed out after 200ms");
  EXPECT_EQ(LastAttempt(s.run_id, "nap").status, AttemptStatus::kCancelled);
}

TEST_F(WaitStepTest, ACancelStopsTheSleepAtOnce) {
  ASSERT_TRUE(CompileYaml("steps:\n  - {id: nap, type: wait, duration: 1h}\n"));
  ValueContext values;
  CancelSignal cancel;
  StringSink sink;
  asio::steady_timer later(io_, milliseconds(100));
  later.async_wait([&](boost::system::error_code) { cancel.Emit(); });
  auto t0 = Clock::now();
  StepOutcome o = Execute("nap", values, cancel, sink);
  EXPECT_LT(Clock::now() - t0, milliseconds(20000));
  EXPECT_EQ(o.status, StepStatus::kCancelled);
  EXPECT_EQ(o.error, "cancelled");
}

TEST_F(WaitStepTest, UntilHoldsOnceAnotherStepHasFinished) {
  // What the runner does when a step running beside the wait finishes: it
  // updates the run's values, which `until` re-reads every `every`.
  ASSERT_TRUE(CompileYaml(R"(
params:
  probe_done: {type: bool, default: false}
steps:
  - {id: healthy, type: wait, until: "${{ params.probe_done }}", every: 50ms, max: 30s}
)"));
  ValueContext values;
  values.params["probe_done"] = false;
  CancelSignal cancel;
  StringSink sink;
  asio::steady_timer later(io_, milliseconds(300));
  later.async_wait([&](boost::system::error_code) { values.params["probe_done"] = true; });
  auto t0 = Clock::now();
  StepOutcome o = Execute("healthy", values, cancel, sink);
  auto elapsed = Clock::now() - t0;
  EXPECT_EQ(o.status, StepStatus::kSucceeded) << o.error;
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(20000));
  EXPECT_NE(sink.text.find("condition holds after "), std::string::npos) << sink.text;
  EXPECT_NE(sink.text.find("): params.probe_done\n"), std::string::npos) << sink.text;
}

TEST_F(WaitStepTest, UntilReadsTheResultsOfItsNeeds) {
  auto s = Run(R"(
steps:
  - {id: probe, argv: [echo, ready]}
  - {id: ready, needs: [probe], type: wait, until: "${{ contains(steps.probe.outputs.stdout, 'ready') }}"}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_EQ(LastAttempt(s.run_id, "ready").status, AttemptStatus::kSucceeded);
}

TEST_F(WaitStepTest, UntilIsReevaluatedAsTimePasses) {
  // `now` moves on between evaluations: this holds after about 1 s.
  auto target = IsoUtc(std::chrono::system_clock::now() + std::chrono::seconds(1));
  auto t0 = Clock::now();
  auto s = Run("steps:\n  - {id: later, type: wait, until: \"now >= '" + target + "'\", every: 100ms, max: 60s}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_GE(Clock::now() - t0, milliseconds(900));
}

TEST_F(WaitStepTest, UntilGivesUpAfterMax) {
  auto t0 = Clock::now();
  auto s = Run(R"(
params:
  up: {type: bool, default: false}
steps:
  - {id: healthy, type: wait, until: "${{ params.up }}", every: 50ms, max: 300ms}
)");
  auto elapsed = Clock::now() - t0;
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = LastAttempt(s.run_id, "healthy");
  EXPECT_EQ(a.status, AttemptStatus::kFailed);
  EXPECT_EQ(a.error, "condition still false after 300ms: params.up");
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(20000));
}

TEST_F(WaitStepTest, AnUntilThatCannotBeEvaluatedFailsAtOnce) {
  auto t0 = Clock::now();
  auto s = Run(R"(
params:
  n: {type: string, default: abc}
steps:
  - {id: w, type: wait, until: "int(params.n) > 1", every: 1s, max: 5m}
)");
  EXPECT_LT(Clock::now() - t0, milliseconds(20000));
  auto a = LastAttempt(s.run_id, "w");
  EXPECT_EQ(a.status, AttemptStatus::kFailed);
  EXPECT_EQ(a.error.rfind("cannot evaluate 'until': ", 0), 0u) << a.error;
}

TEST_F(WaitStepTest, EveryMustBeLongerThanZero) {
  Diagnostics diags;
  auto spec = LoadRunbookText("steps:\n  - {id: w, type: wait, until: 'true', every: 0s}\n", "t.yaml",
                              steps::BuiltinStepTypes(), diags);
  if (spec) (void)Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
  EXPECT_TRUE(diags.has_errors());
  EXPECT_NE(diags.FormatAll().find("step 'w': 'every' must be longer than 0s"), std::string::npos)
      << diags.FormatAll();
}

}  // namespace
}  // namespace runbook
