#include "engine/compiler.h"

#include <gtest/gtest.h>

#include "engine/loader.h"
#include "steps/registry.h"

namespace runbook {
namespace {

std::optional<CompiledRunbook> CompileText(const std::string& yaml, std::string* errors = nullptr) {
  Diagnostics diags;
  auto spec = LoadRunbookText(yaml, "t.yaml", steps::BuiltinStepTypes(), diags);
  std::optional<CompiledRunbook> rb;
  if (spec) rb = Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
  if (errors) *errors = diags.FormatAll();
  return rb;
}

std::vector<std::string> Ids(const CompiledRunbook& rb, const std::vector<int>& order) {
  std::vector<std::string> out;
  for (int i : order) out.push_back(rb.steps[i].id());
  return out;
}

TEST(Compiler, OrdersTopologicallyKeepingFileOrderWhereFree) {
  std::string err;
  auto rb = CompileText(R"(
steps:
  - {id: report, needs: [disk, mem], run: echo report}
  - {id: disk, run: df -h}
  - {id: mem, run: free -h}
  - {id: early, run: echo early}
)",
                        &err);
  ASSERT_TRUE(rb) << err;
  EXPECT_EQ(Ids(*rb, rb->main_order), (std::vector<std::string>{"disk", "mem", "report", "early"}));
}

TEST(Compiler, SequentialMakesEachStepNeedThePreviousOne) {
  auto rb = CompileText(R"(
sequential: true
steps:
  - {id: a, run: echo a}
  - {id: b, run: echo b}
  - {id: c, run: echo c}
)");
  ASSERT_TRUE(rb);
  EXPECT_TRUE(rb->steps[0].needs.empty());
  EXPECT_EQ(rb->steps[1].needs, std::vector<int>{0});
  EXPECT_EQ(rb->steps[2].needs, std::vector<int>{1});
}

TEST(Compiler, HandlerBlocksAreSeparateDagsThatMaySeeMainSteps) {
  std::string err;
  auto rb = CompileText(R"(
steps:
  - id: work
    run: echo 42
    outputs: {n: {from: stdout, type: number}}
on_failure:
  - {id: alert, run: "echo failed at ${{ steps.work.status }}"}
finally:
  - {id: cleanup, run: echo cleanup}
  - {id: after, needs: [cleanup], run: "echo ${{ steps.cleanup.exit_code }}"}
outputs:
  n: ${{ steps.work.outputs.n }}
)",
                        &err);
  ASSERT_TRUE(rb) << err;
  EXPECT_EQ(Ids(*rb, rb->on_failure_order), std::vector<std::string>{"alert"});
  EXPECT_EQ(Ids(*rb, rb->finally_order), (std::vector<std::string>{"cleanup", "after"}));
  EXPECT_EQ(Ids(*rb, rb->ExecutionOrder()), (std::vector<std::string>{"work", "alert", "cleanup", "after"}));
}

TEST(Compiler, DefaultsApplyUnlessTheStepOverrides) {
  auto rb = CompileText(R"(
defaults:
  timeout: 5m
  retry: {attempts: 3, delay: 2s}
steps:
  - {id: a, run: echo a}
  - {id: b, run: echo b, timeout: 10s, retry: {attempts: 1}}
)");
  ASSERT_TRUE(rb);
  EXPECT_EQ(*rb->steps[0].timeout, Millis(300000));
  EXPECT_EQ(rb->steps[0].retry.attempts, 3);
  EXPECT_EQ(*rb->steps[1].timeout, Millis(10000));
  EXPECT_EQ(rb->steps[1].retry.attempts, 1);
}

TEST(Compiler, TransitiveUpstreamReferencesAreAllowed) {
  std::string err;
  auto rb = CompileText(R"(
steps:
  - {id: a, run: echo 1, outputs: {v: {from: stdout}}}
  - {id: b, needs: [a], run: echo 2}
  - {id: c, needs: [b], run: "echo ${{ steps.a.outputs.v }}"}
)",
                        &err);
  EXPECT_TRUE(rb) << err;
}

TEST(Compiler, UpstreamIsFollowedThroughNeedsWhateverTheFileOrder) {
  std::string err;
  auto rb = CompileText(R"(
steps:
  - {id: c, needs: [b], run: "echo ${{ steps.a.outputs.v }}"}
  - {id: b, needs: [a], run: echo}
  - {id: d, needs: [b], run: echo}
  - {id: a, run: echo 1, outputs: {v: {from: stdout}}}
  - {id: e, run: "echo ${{ steps.a.outputs.v }} ${{ steps.d.status }}"}
  - {id: f, needs: [c, d], run: "echo ${{ steps.a.outputs.v }}"}
)",
                        &err);
  EXPECT_FALSE(rb);
  EXPECT_EQ(err,
            "t.yaml:7:18: error: step 'e': 'run': step 'a' is not upstream of step 'e'; add it to 'needs'\n"
            "t.yaml:7:18: error: step 'e': 'run': step 'd' is not upstream of step 'e'; add it to 'needs'\n");
}

TEST(Compiler, ConditionsMayUseStatusFunctionsAndBareExpressions) {
  std::string err;
  auto rb = CompileText(R"(
params:
  ip: {type: string, default: ""}
steps:
  - {id: a, run: "false"}
  - {id: b, needs: [a], if: failure(), run: echo recover}
  - {id: c, if: "params.ip != ''", run: echo block}
)",
                        &err);
  ASSERT_TRUE(rb) << err;
  EXPECT_FALSE(rb->steps[1].condition_is_default);
  EXPECT_EQ(rb->steps[2].condition, "params.ip != ''");
}

TEST(Compiler, ReportsEveryProblemNotJustTheFirst) {
  std::string err;
  auto rb = CompileText(R"(
steps:
  - {id: a, needs: [x], run: echo}
  - {id: b, needs: [y], run: "echo ${{ params.nope }}"}
)",
                        &err);
  EXPECT_FALSE(rb);
  EXPECT_NE(err.find("needs unknown step 'x'"), std::string::npos) << err;
  EXPECT_NE(err.find("needs unknown step 'y'"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown parameter 'nope'"), std::string::npos) << err;
}

TEST(Compiler, StepErrorIsAStringWithNoFields) {
  std::string err;
  auto ok = CompileText(R"(
steps:
  - {id: a, run: "false", continue_on_error: true}
  - {id: b, needs: [a], if: "steps.a.error != ''", run: "echo ${{ steps.a.error }}"}
)",
                        &err);
  EXPECT_TRUE(ok) << err;
  auto rb = CompileText(R"(
steps:
  - {id: a, run: "false", continue_on_error: true}
  - {id: b, needs: [a], if: "steps.a.error == 1", run: "echo ${{ steps.a.error.text }} ${{ steps.a.reason }}"}
)",
                        &err);
  EXPECT_FALSE(rb);
  EXPECT_NE(err.find("'==' compares string with number"), std::string::npos) << err;
  EXPECT_NE(err.find("'steps.a.error' has no field 'text'"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown step property 'reason' (use status, exit_code, error or outputs)"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace runbook
