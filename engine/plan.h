// Plan: the synchronous bookkeeping of one run of a CompiledRunbook — which
// steps are ready, which are running or finished, how failure and skips
// propagate, and which block (main, on_failure, finally) is active. Like
// ninja's Plan it knows nothing about processes or time: the scheduler
// (runner.h) feeds it events and asks it what to do next, and tests drive
// it directly. Single-threaded; owned by the run.
//
// Semantics (SPEC.md §5, docs/execution.md):
// - A step is ready when every step it needs is finished. Its condition
//   (default success(): every need succeeded) is then decided by the
//   scheduler, which calls Start() or Skip().
// - A failed step fails the run unless it has continue_on_error, in which
//   case its dependents see it as succeeded for success()/failure().
// - When every main step is finished: if the run failed, the on_failure
//   block runs; then the finally block; then the plan is done.
// - Cancel(): main and on_failure steps that have not started become
//   cancelled; running ones are expected to finish as cancelled; the
//   finally block still runs.
#pragma once

#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "engine/compiler.h"
#include "engine/status.h"

namespace runbook {

enum class StepStatus { kPending, kWaiting, kRunning, kSucceeded, kFailed, kTimedOut, kSkipped, kCancelled };
// "pending", "waiting", "running", "succeeded", "failed", "timed_out", "skipped", "cancelled"
const char* StepStatusName(StepStatus s);
bool IsFinished(StepStatus s);

// The wait before attempt `next_attempt` (2, 3, ...) of a step:
// delay * backoff^(next_attempt - 2), capped at max_delay.
Millis RetryDelay(const RetrySpec& retry, int next_attempt);

class Plan {
 public:
  enum class Phase { kMain, kOnFailure, kFinally, kDone };

  explicit Plan(const CompiledRunbook& rb);

  // Ready steps of the active block, earliest in execution order first.
  // Each returned step must be given Start(), Skip() or Finish().
  // Advances the phase when the active block has finished.
  std::vector<int> TakeReady();

  // success() of `step`'s default condition: every need succeeded (or
  // failed with continue_on_error).
  bool NeedsSucceeded(int step) const;
  // Why the default condition is false: "needs 'a' (failed)".
  std::string SkipReason(int step) const;
  // success(), failure(), always(), cancelled() as seen by `step`.
  Result<bool> StatusFunction(int step, std::string_view name) const;

  void Start(int step);
  void SetWaiting(int step);
  // REQUIRES: IsFinished(status)
  void Finish(int step, StepStatus status);
  void Skip(int step);
  // Marks a step as finished in an earlier process (resume): succeeded, or
  // failed for good (a rejected approval), which fails the run like Finish.
  void Restore(int step, StepStatus status);

  // Stop launching main and on_failure steps; the finally block still runs.
  void Cancel();
  // A failure outside any step (run timeout, journal error).
  void FailRun() { failed_ = true; }

  Phase phase() const { return phase_; }
  bool done() const { return phase_ == Phase::kDone; }
  bool failed() const { return failed_; }
  bool cancelled() const { return cancelled_; }
  int running() const { return running_; }
  StepStatus status(int step) const { return status_[step]; }
  const CompiledRunbook& runbook() const { return rb_; }

 private:
  void Release(int step);
  void EnterPhase(Phase p);
  bool BlockFinished(Block b) const;
  bool CountsAsSuccess(int step) const;

  const CompiledRunbook& rb_;
  std::vector<StepStatus> status_;
  std::vector<int> missing_;  // needs not yet finished
  std::vector<int> position_; // index in ExecutionOrder(), for ordering
  std::priority_queue<std::pair<int, int>, std::vector<std::pair<int, int>>, std::greater<>> ready_;
  Phase phase_ = Phase::kMain;
  int running_ = 0;
  int unfinished_in_phase_ = 0;
  bool failed_ = false;
  bool cancelled_ = false;
};

}  // namespace runbook
