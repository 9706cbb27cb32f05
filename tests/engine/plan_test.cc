// The synchronous Plan, driven by hand: ready sets, skip propagation,
// failure handling and the handler blocks, without any event loop.
#include "engine/plan.h"

#include <gtest/gtest.h>

#include "engine/loader.h"
#include "steps/registry.h"

namespace runbook {
namespace {

CompiledRunbook Build(const std::string& yaml) {
  Diagnostics diags;
  auto spec = LoadRunbookText(yaml, "t.yaml", steps::BuiltinStepTypes(), diags);
  auto rb = Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
  EXPECT_FALSE(diags.has_errors()) << diags.FormatAll();
  return std::move(*rb);
}

std::vector<std::string> Ids(const CompiledRunbook& rb, const std::vector<int>& v) {
  std::vector<std::string> out;
  for (int i : v) out.push_back(rb.steps[i].id());
  return out;
}

const char* kDiamond = R"(
steps:
  - {id: top, run: echo}
  - {id: left, needs: [top], run: echo}
  - {id: right, needs: [top], run: echo}
  - {id: bottom, needs: [left, right], run: echo}
finally:
  - {id: cleanup, run: echo}
)";

TEST(Plan, DiamondBecomesReadyLayerByLayer) {
  auto rb = Build(kDiamond);
  Plan p(rb);
  auto r = p.TakeReady();
  ASSERT_EQ(Ids(rb, r), std::vector<std::string>{"top"});
  p.Start(r[0]);
  EXPECT_TRUE(p.TakeReady().empty());
  p.Finish(r[0], StepStatus::kSucceeded);
  r = p.TakeReady();
  ASSERT_EQ(Ids(rb, r), (std::vector<std::string>{"left", "right"}));
  p.Start(r[0]);
  p.Start(r[1]);
  EXPECT_EQ(p.running(), 2);
  p.Finish(r[0], StepStatus::kSucceeded);
  EXPECT_TRUE(p.TakeReady().empty()) << "bottom still needs right";
  p.Finish(r[1], StepStatus::kSucceeded);
  r = p.TakeReady();
  ASSERT_EQ(Ids(rb, r), std::vector<std::string>{"bottom"});
  p.Start(r[0]);
  p.Finish(r[0], StepStatus::kSucceeded);
  EXPECT_EQ(p.phase(), Plan::Phase::kFinally);
  r = p.TakeReady();
  ASSERT_EQ(Ids(rb, r), std::vector<std::string>{"cleanup"});
  p.Start(r[0]);
  p.Finish(r[0], StepStatus::kSucceeded);
  EXPECT_TRUE(p.done());
  EXPECT_FALSE(p.failed());
}

TEST(Plan, FailureMakesDependentsSkipWithReasonAndRunsOnFailure) {
  auto rb = Build(R"(
steps:
  - {id: a, run: echo}
  - {id: b, needs: [a], run: echo}
  - {id: c, needs: [b], run: echo}
  - {id: independent, run: echo}
on_failure:
  - {id: alert, run: echo}
)");
  Plan p(rb);
  auto r = p.TakeReady();
  ASSERT_EQ(Ids(rb, r), (std::vector<std::string>{"a", "independent"}));
  for (int s : r) p.Start(s);
  p.Finish(r[0], StepStatus::kFailed);
  EXPECT_TRUE(p.failed());
  int b = rb.Find("b");
  r = p.TakeReady();
  ASSERT_EQ(r, std::vector<int>{b});
  EXPECT_FALSE(p.NeedsSucceeded(b));
  EXPECT_EQ(p.SkipReason(b), "needs 'a' (failed)");
  p.Skip(b);
  int c = rb.Find("c");
  r = p.TakeReady();
  ASSERT_EQ(r, std::vector<int>{c});
  EXPECT_EQ(p.SkipReason(c), "needs 'b' (skipped)");
  p.Skip(c);
  EXPECT_EQ(p.phase(), Plan::Phase::kMain) << "independent is still running";
  p.Finish(rb.Find("independent"), StepStatus::kSucceeded);
  EXPECT_EQ(p.phase(), Plan::Phase::kOnFailure);
  r = p.TakeReady();
  ASSERT_EQ(Ids(rb, r), std::vector<std::string>{"alert"});
  EXPECT_TRUE(*p.StatusFunction(r[0], "failure"));
  p.Start(r[0]);
  p.Finish(r[0], StepStatus::kSucceeded);
  EXPECT_TRUE(p.done());
}

TEST(Plan, ContinueOnErrorDoesNotFailTheRunOrSkipDependents) {
  auto rb = Build(R"(
steps:
  - {id: a, run: echo, continue_on_error: true}
  - {id: b, needs: [a], run: echo}
)");
  Plan p(rb);
  auto r = p.TakeReady();
  p.Start(r[0]);
  p.Finish(r[0], StepStatus::kFailed);
  EXPECT_FALSE(p.failed());
  r = p.TakeReady();
  ASSERT_EQ(Ids(rb, r), std::vector<std::string>{"b"});
  EXPECT_TRUE(p.NeedsSucceeded(r[0]));
  EXPECT_FALSE(*p.StatusFunction(r[0], "failure"));
}

TEST(Plan, StatusFunctionsSeeTheNeeds) {
  auto rb = Build(R"(
steps:
  - {id: a, run: echo}
  - {id: b, needs: [a], if: failure(), run: echo}
)");
  Plan p(rb);
  int a = rb.Find("a"), b = rb.Find("b");
  p.TakeReady();
  p.Start(a);
  p.Finish(a, StepStatus::kTimedOut);
  EXPECT_FALSE(*p.StatusFunction(b, "success"));
  EXPECT_TRUE(*p.StatusFunction(b, "failure"));
  EXPECT_TRUE(*p.StatusFunction(b, "always"));
  EXPECT_FALSE(*p.StatusFunction(b, "cancelled"));
  EXPECT_FALSE(p.StatusFunction(b, "sometimes").ok());
}

TEST(Plan, CancelStopsPendingStepsButFinallyStillRuns) {
  auto rb = Build(kDiamond);
  Plan p(rb);
  int top = rb.Find("top");
  p.TakeReady();
  p.Start(top);
  p.Cancel();
  p.Finish(top, StepStatus::kCancelled);
  // left, right and bottom never start.
  auto r = p.TakeReady();
  EXPECT_EQ(p.status(rb.Find("left")), StepStatus::kCancelled);
  EXPECT_EQ(p.status(rb.Find("bottom")), StepStatus::kCancelled);
  ASSERT_EQ(Ids(rb, r), std::vector<std::string>{"cleanup"});
  EXPECT_TRUE(*p.StatusFunction(r[0], "cancelled"));
  p.Start(r[0]);
  p.Finish(r[0], StepStatus::kSucceeded);
  EXPECT_TRUE(p.done());
  EXPECT_TRUE(p.cancelled());
}

TEST(Plan, OnFailureDoesNotRunWhenTheRunSucceeds) {
  auto rb = Build(R"(
steps:
  - {id: a, run: echo}
on_failure:
  - {id: alert, run: echo}
)");
  Plan p(rb);
  int a = rb.Find("a");
  p.TakeReady();
  p.Start(a);
  p.Finish(a, StepStatus::kSucceeded);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.status(rb.Find("alert")), StepStatus::kPending);
}

TEST(Plan, RestoredStepsAreNotReadyAgain) {
  auto rb = Build(kDiamond);
  Plan p(rb);
  p.Restore(rb.Find("top"), StepStatus::kSucceeded);
  p.Restore(rb.Find("left"), StepStatus::kSucceeded);
  EXPECT_EQ(Ids(rb, p.TakeReady()), std::vector<std::string>{"right"});
}

TEST(RetryDelay, BacksOffGeometricallyUpToTheCap) {
  RetrySpec r;
  r.attempts = 6;
  r.delay = Millis(2000);
  r.backoff = 2;
  r.max_delay = Millis(10000);
  EXPECT_EQ(RetryDelay(r, 2), Millis(2000));
  EXPECT_EQ(RetryDelay(r, 3), Millis(4000));
  EXPECT_EQ(RetryDelay(r, 4), Millis(8000));
  EXPECT_EQ(RetryDelay(r, 5), Millis(10000));
  EXPECT_EQ(RetryDelay(r, 6), Millis(10000));
  r.backoff = 1;
  r.max_delay.reset();
  EXPECT_EQ(RetryDelay(r, 6), Millis(2000));
}

}  // namespace
}  // namespace runbook
