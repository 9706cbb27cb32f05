// The `check` executor through the real Runner, with a real journal in a
// temporary directory (and real `echo` children where a check reads another
// step's output): threshold levels, text thresholds, numeric strings,
// asserts, messages, findings and how `fail_on` turns them into the run's
// outcome, and the values that cannot be compared.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>

#include "engine/loader.h"
#include "engine/runner.h"
#include "steps/process.h"
#include "steps/process_step.h"
#include "steps/registry.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;
using journal::AttemptStatus;
using journal::FindingLevel;

class CheckStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("check-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto j = journal::Journal::Open((dir_ / "journal.db").string());
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(j).value();
    launcher_ = steps::MakePosixProcessLauncher(io_.get_executor());
    executors_.Add("exec", steps::MakeExecExecutor(*launcher_));
    executors_.Add("check", steps::MakeCheckExecutor());
  }
  void TearDown() override {
    if (journal_) (void)journal_->Close();
    fs::remove_all(dir_);
  }

  // Runs `yaml` with its parameters' defaults, overridden by `params`.
  RunSummary Run(const std::string& yaml, boost::json::object params = {}) {
    Diagnostics diags;
    auto spec = LoadRunbookText(yaml, "t.yaml", steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(spec) << diags.FormatAll();
    if (!spec) return {};
    rb_ = Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(rb_) << diags.FormatAll();
    if (!rb_) return {};
    Runner runner(io_, *journal_, executors_, nullptr);
    RunRequest req;
    req.runbook = &*rb_;
    for (const auto& p : rb_->spec.params)
      if (p.default_value) req.params[p.name] = *p.default_value;
    for (const auto& [k, v] : params) req.params[k] = v;
    req.handle_signals = false;
    RunSummary s = runner.Run(req);
    EXPECT_TRUE(journal_->SyncBlocking().ok());
    return s;
  }

  journal::AttemptRecord LastAttempt(const std::string& run, const std::string& step) {
    journal::AttemptRecord last;
    for (auto& a : journal_->GetAttempts(run).value())
      if (a.step_id == step) last = a;
    return last;
  }
  boost::json::object Outputs(const std::string& run, const std::string& step) {
    return boost::json::parse(LastAttempt(run, step).outputs_json).as_object();
  }
  std::vector<journal::FindingRecord> Findings(const std::string& run) { return journal_->GetFindings(run).value(); }
  std::string Stdout(const std::string& run, const std::string& step) {
    std::string text;
    for (const auto& c : journal_->GetOutput(run, step).value())
      if (c.stream == journal::Stream::kStdout) text += c.data;
    return text;
  }

  fs::path dir_;
  boost::asio::io_context io_;
  std::unique_ptr<steps::ProcessLauncher> launcher_;
  ExecutorRegistry executors_;
  std::unique_ptr<journal::Journal> journal_;
  std::optional<CompiledRunbook> rb_;
};

constexpr const char* kDiskCheck = R"(
fail_on: never
params:
  use: {type: number, default: 0}
steps:
  - id: disk
    type: check
    value: ${{ params.use }}
    info: ">= 50"
    warn: "> 80"
    critical: "> 90"
)";

TEST_F(CheckStepTest, LevelIsTheHighestThresholdThatMatches) {
  struct Case {
    double use;
    const char* level;
    const char* threshold;
  };
  for (const Case& c : {Case{30, "ok", ""}, Case{50, "info", ">= 50"}, Case{80, "info", ">= 50"},
                        Case{85.5, "warning", "> 80"}, Case{97, "critical", "> 90"}}) {
    SCOPED_TRACE(c.use);
    auto s = Run(kDiskCheck, {{"use", c.use}});
    EXPECT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
    auto a = LastAttempt(s.run_id, "disk");
    EXPECT_EQ(a.status, AttemptStatus::kSucceeded) << a.error;
    auto out = Outputs(s.run_id, "disk");
    EXPECT_EQ(out["level"], c.level);
    EXPECT_EQ(out["value"].to_number<double>(), c.use);
    auto findings = Findings(s.run_id);
    if (std::string(c.level) == "ok") {
      EXPECT_TRUE(findings.empty());
      continue;
    }
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(journal::ToString(findings[0].level), c.level);
    EXPECT_EQ(findings[0].step_id, "disk");
    EXPECT_EQ(findings[0].threshold, c.threshold);
    EXPECT_EQ(findings[0].value, expr::ToDisplayString(boost::json::value(c.use)));
  }
}

TEST_F(CheckStepTest, DefaultMessageNamesTheStepTheValueAndTheThreshold) {
  auto s = Run(R"(
fail_on: never
steps:
  - {id: disk, title: Disk usage of /, type: check, value: 93.5, warn: "> 80", critical: "> 90"}
  - {id: mem, type: check, value: 12, warn: "> 80"}
)");
  auto findings = Findings(s.run_id);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].message, "Disk usage of /: value 93.5 > 90");
  EXPECT_EQ(findings[0].value, "93.5");
  EXPECT_EQ(Outputs(s.run_id, "disk")["message"], "Disk usage of /: value 93.5 > 90");
  EXPECT_EQ(Outputs(s.run_id, "mem")["message"], "mem: value 12 within thresholds");
  EXPECT_EQ(Outputs(s.run_id, "mem")["level"], "ok");
  EXPECT_EQ(Stdout(s.run_id, "disk"), "critical: Disk usage of /: value 93.5 > 90\n");
  EXPECT_EQ(Stdout(s.run_id, "mem"), "ok: mem: value 12 within thresholds\n");
}

TEST_F(CheckStepTest, MessageIsRenderedAndNamesTheFinding) {
  auto s = Run(R"(
fail_on: never
params:
  mount: {type: string, default: /var}
  use: {type: int, default: 85}
steps:
  - id: disk
    type: check
    value: ${{ params.use }}
    warn: "> 80"
    message: "Disk ${{ params.mount }} is ${{ params.use }}% full"
)");
  auto findings = Findings(s.run_id);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].level, FindingLevel::kWarning);
  EXPECT_EQ(findings[0].message, "Disk /var is 85% full");
  EXPECT_EQ(findings[0].value, "85");
  EXPECT_EQ(findings[0].threshold, "> 80");
  EXPECT_EQ(Outputs(s.run_id, "disk")["message"], "Disk /var is 85% full");
  EXPECT_EQ(Stdout(s.run_id, "disk"), "warning: Disk /var is 85% full (value 85, threshold > 80)\n");
}

TEST_F(CheckStepTest, NumericStringsAreComparedAsNumbers) {
  // As strings, "100" < "90" and "9.5" > "10"; as numbers it is the other way.
  auto s = Run(R"(
fail_on: never
params:
  a: {type: string, default: " 100\n"}
  b: {type: string, default: "9.5"}
steps:
  - {id: quoted, type: check, value: "95", critical: "> 90"}
  - {id: a, type: check, value: "${{ params.a }}", critical: "> 90"}
  - {id: b, type: check, value: "${{ params.b }}", critical: "> 10"}
)");
  EXPECT_EQ(Outputs(s.run_id, "quoted")["level"], "critical");
  EXPECT_EQ(Outputs(s.run_id, "a")["level"], "critical");
  EXPECT_EQ(Outputs(s.run_id, "a")["value"], 100);  // offered as the number it spells
  EXPECT_EQ(Outputs(s.run_id, "b")["level"], "ok");
  EXPECT_EQ(Outputs(s.run_id, "b")["value"], 9.5);
}

TEST_F(CheckStepTest, QuotedThresholdsCompareText) {
  const char* yaml = R"(
fail_on: never
params:
  state: {type: string, default: active}
steps:
  - {id: svc, type: check, value: "${{ params.state }}", critical: "!= 'active'", info: "== 'active'"}
)";
  auto up = Run(yaml);
  EXPECT_EQ(Outputs(up.run_id, "svc")["level"], "info");
  auto down = Run(yaml, {{"state", "failed"}});
  EXPECT_EQ(Outputs(down.run_id, "svc")["level"], "critical");
  auto findings = Findings(down.run_id);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].message, "svc: value failed != 'active'");
}

TEST_F(CheckStepTest, AValueThatIsNotANumberFailsTheStepWithTheReason) {
  auto s = Run(R"(
fail_on: never
params:
  use: {type: string, default: abc}
steps:
  - {id: disk, type: check, value: "${{ params.use }}", warn: "> 80"}
  - {id: empty, type: check, value: null, critical: ">= 1"}
  - {id: flag, type: check, value: true, critical: ">= 1"}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto disk = LastAttempt(s.run_id, "disk");
  EXPECT_EQ(disk.status, AttemptStatus::kFailed);
  EXPECT_EQ(disk.error, "value 'abc' is not a number; cannot compare with '> 80'");
  EXPECT_EQ(LastAttempt(s.run_id, "empty").error, "value is null; cannot compare with '>= 1'");
  EXPECT_EQ(LastAttempt(s.run_id, "flag").error, "value true is not a number; cannot compare with '>= 1'");
  EXPECT_TRUE(Findings(s.run_id).empty());
}

TEST_F(CheckStepTest, AFailedAssertIsAFindingAtItsSeverity) {
  const char* yaml = R"(
fail_on: never
params:
  code: {type: int, default: 200}
steps:
  - {id: api, type: check, assert: "${{ params.code == 200 }}", severity: warning}
  - {id: bare, title: API answers, type: check, assert: "params.code < 500"}
)";
  auto fine = Run(yaml);
  EXPECT_EQ(Outputs(fine.run_id, "api")["level"], "ok");
  EXPECT_EQ(Outputs(fine.run_id, "api")["value"], true);
  EXPECT_EQ(Outputs(fine.run_id, "bare")["level"], "ok");
  EXPECT_TRUE(Findings(fine.run_id).empty());

  auto broken = Run(yaml, {{"code", 503}});
  EXPECT_EQ(LastAttempt(broken.run_id, "api").status, AttemptStatus::kSucceeded);
  EXPECT_EQ(Outputs(broken.run_id, "api")["level"], "warning");
  EXPECT_EQ(Outputs(broken.run_id, "bare")["level"], "critical");  // the default severity
  auto findings = Findings(broken.run_id);
  ASSERT_EQ(findings.size(), 2u);
  std::map<std::string, journal::FindingRecord> by_step;
  for (auto& f : findings) by_step[f.step_id] = f;
  EXPECT_EQ(by_step["api"].level, FindingLevel::kWarning);
  EXPECT_EQ(by_step["api"].message, "api: assertion failed: params.code == 200");
  EXPECT_EQ(by_step["bare"].level, FindingLevel::kCritical);
  EXPECT_EQ(by_step["bare"].message, "API answers: assertion failed: params.code < 500");
}

TEST_F(CheckStepTest, FindingsFailTheRunOnlyAtOrAboveFailOn) {
  auto yaml = [](const char* fail_on, int use) {
    return std::string("fail_on: ") + fail_on + "\nsteps:\n  - {id: disk, type: check, value: " +
           std::to_string(use) + ", warn: \"> 80\", critical: \"> 90\"}\n  - {id: after, needs: [disk], argv: ['true']}\n";
  };
  auto warning = Run(yaml("critical", 85));
  EXPECT_EQ(warning.status, journal::RunStatus::kSucceeded) << warning.error;
  EXPECT_EQ(warning.exit_code, 0);
  EXPECT_EQ(LastAttempt(warning.run_id, "after").status, AttemptStatus::kSucceeded);

  auto critical = Run(yaml("critical", 95));
  EXPECT_EQ(critical.status, journal::RunStatus::kFailed);
  EXPECT_EQ(critical.exit_code, 1);
  EXPECT_EQ(critical.error, "critical finding from step 'disk': disk: value 95 > 90");
  EXPECT_EQ(LastAttempt(critical.run_id, "disk").status, AttemptStatus::kSucceeded);

  auto strict = Run(yaml("warning", 85));
  EXPECT_EQ(strict.status, journal::RunStatus::kFailed);
  EXPECT_EQ(strict.error, "warning finding from step 'disk': disk: value 85 > 80");

  auto never = Run(yaml("never", 95));
  EXPECT_EQ(never.status, journal::RunStatus::kSucceeded) << never.error;
  EXPECT_EQ(Findings(never.run_id).size(), 1u);
}

TEST_F(CheckStepTest, ChecksAValueExtractedFromACommandsOutput) {
  auto s = Run(R"(
fail_on: never
steps:
  - id: df
    argv: [echo, "/dev/sda1 93% /"]
    outputs: {use: {from: stdout, regex: '([0-9]+)%', type: number}}
  - {id: disk, needs: [df], type: check, value: "${{ steps.df.outputs.use }}", critical: "> 90"}
  - {id: raw, needs: [df], type: check, value: "${{ steps.df.outputs.stdout }}", critical: "> 90"}
  - {id: count, argv: [echo, "97"]}
  - {id: n, needs: [count], type: check, value: "${{ steps.count.outputs.stdout }}", critical: "> 90"}
)");
  EXPECT_EQ(Outputs(s.run_id, "disk")["level"], "critical");
  std::map<std::string, journal::FindingRecord> by_step;
  for (auto& f : Findings(s.run_id)) by_step[f.step_id] = f;
  ASSERT_EQ(by_step.size(), 2u);
  EXPECT_EQ(by_step["disk"].value, "93");
  // "97\n" is compared, shown and offered as the number 97.
  EXPECT_EQ(by_step["n"].value, "97");
  EXPECT_EQ(by_step["n"].message, "n: value 97 > 90");
  EXPECT_EQ(Outputs(s.run_id, "n")["value"], 97);
  EXPECT_EQ(LastAttempt(s.run_id, "raw").error,
            "value '/dev/sda1 93% /\n' is not a number; cannot compare with '> 90'");
}

}  // namespace
}  // namespace runbook
