#include "engine/plan.h"

#include <algorithm>
#include <cassert>

namespace runbook {

const char* StepStatusName(StepStatus s) {
  switch (s) {
    case StepStatus::kPending: return "pending";
    case StepStatus::kWaiting: return "waiting";
    case StepStatus::kRunning: return "running";
    case StepStatus::kSucceeded: return "succeeded";
    case StepStatus::kFailed: return "failed";
    case StepStatus::kTimedOut: return "timed_out";
    case StepStatus::kSkipped: return "skipped";
    case StepStatus::kCancelled: return "cancelled";
  }
  return "?";
}

Millis RetryDelay(const RetrySpec& retry, int next_attempt) {
  double ms = static_cast<double>(retry.delay.count());
  for (int i = 2; i < next_attempt; ++i) {
    ms *= retry.backoff;
    if (retry.max_delay && ms >= static_cast<double>(retry.max_delay->count())) break;
  }
  if (retry.max_delay) ms = std::min(ms, static_cast<double>(retry.max_delay->count()));
  return Millis(static_cast<long long>(ms));
}

bool IsFinished(StepStatus s) {
  return s == StepStatus::kSucceeded || s == StepStatus::kFailed || s == StepStatus::kTimedOut ||
         s == StepStatus::kSkipped || s == StepStatus::kCancelled;
}

Plan::Plan(const CompiledRunbook& rb)
    : rb_(rb), status_(rb.steps.size(), StepStatus::kPending), missing_(rb.steps.size()),
      position_(rb.steps.size()) {
  std::vector<int> order = rb.ExecutionOrder();
  for (size_t i = 0; i < order.size(); ++i) position_[order[i]] = static_cast<int>(i);
  for (const auto& s : rb.steps) missing_[s.index] = static_cast<int>(s.needs.size());
  EnterPhase(Phase::kMain);
}

static Block BlockOf(Plan::Phase p) {
  return p == Plan::Phase::kMain ? Block::kMain : p == Plan::Phase::kOnFailure ? Block::kOnFailure : Block::kFinally;
}

void Plan::EnterPhase(Phase p) {
  phase_ = p;
  while (phase_ != Phase::kDone) {
    Block b = BlockOf(phase_);
    unfinished_in_phase_ = 0;
    for (int i : rb_.Order(b)) {
      if (IsFinished(status_[i])) continue;  // restored by a resume
      ++unfinished_in_phase_;
      if (missing_[i] == 0) ready_.push({position_[i], i});
    }
    if (unfinished_in_phase_ > 0) return;
    // Nothing to do in this block: move on.
    if (phase_ == Phase::kMain) {
      phase_ = failed_ && !cancelled_ ? Phase::kOnFailure : Phase::kFinally;
    } else if (phase_ == Phase::kOnFailure) {
      phase_ = Phase::kFinally;
    } else {
      phase_ = Phase::kDone;
    }
  }
}

std::vector<int> Plan::TakeReady() {
  std::vector<int> out;
  while (!ready_.empty()) {
    int s = ready_.top().second;
    ready_.pop();
    if (status_[s] != StepStatus::kPending) continue;
    if (cancelled_ && rb_.steps[s].block != Block::kFinally) {
      // Not started before the cancel: it never will be.
      status_[s] = StepStatus::kCancelled;
      Release(s);
      continue;
    }
    out.push_back(s);
  }
  return out;
}

bool Plan::CountsAsSuccess(int step) const {
  StepStatus s = status_[step];
  if (s == StepStatus::kSucceeded) return true;
  return (s == StepStatus::kFailed || s == StepStatus::kTimedOut) && rb_.steps[step].spec->continue_on_error;
}

bool Plan::NeedsSucceeded(int step) const {
  for (int n : rb_.steps[step].needs)
    if (!CountsAsSuccess(n)) return false;
  return true;
}

std::string Plan::SkipReason(int step) const {
  std::string reason;
  for (int n : rb_.steps[step].needs) {
    if (CountsAsSuccess(n)) continue;
    reason += (reason.empty() ? "needs " : ", ") + ("'" + rb_.steps[n].id() + "' (" + StepStatusName(status_[n]) + ")");
  }
  return reason;
}

Result<bool> Plan::StatusFunction(int step, std::string_view name) const {
  const CompiledStep& s = rb_.steps[step];
  if (name == "always") return true;
  if (name == "cancelled") return cancelled_;
  bool handler = s.block != Block::kMain;
  if (name == "success") return handler ? (!failed_ && !cancelled_ && NeedsSucceeded(step)) : NeedsSucceeded(step);
  if (name == "failure") {
    if (handler) return failed_;
    for (int n : s.needs)
      if ((status_[n] == StepStatus::kFailed || status_[n] == StepStatus::kTimedOut) && !CountsAsSuccess(n))
        return true;
    return false;
  }
  return Status::InvalidArgument("unknown status function '" + std::string(name) + "()'");
}

void Plan::Start(int step) {
  assert(status_[step] == StepStatus::kPending || status_[step] == StepStatus::kWaiting);
  if (status_[step] != StepStatus::kWaiting) ++running_;
  status_[step] = StepStatus::kRunning;
}

void Plan::SetWaiting(int step) {
  if (status_[step] == StepStatus::kPending) ++running_;
  status_[step] = StepStatus::kWaiting;
}

void Plan::Finish(int step, StepStatus status) {
  assert(IsFinished(status));
  if (status_[step] == StepStatus::kRunning || status_[step] == StepStatus::kWaiting) --running_;
  status_[step] = status;
  if ((status == StepStatus::kFailed || status == StepStatus::kTimedOut) && !rb_.steps[step].spec->continue_on_error)
    failed_ = true;
  Release(step);
}

void Plan::Skip(int step) {
  status_[step] = StepStatus::kSkipped;
  Release(step);
}

void Plan::Restore(int step, StepStatus status) {
  status_[step] = status;
  if ((status == StepStatus::kFailed || status == StepStatus::kTimedOut) && !rb_.steps[step].spec->continue_on_error)
    failed_ = true;
  for (int d : rb_.steps[step].dependents) --missing_[d];
  // Re-enter the phase so that counts and the ready set reflect it.
  while (!ready_.empty()) ready_.pop();
  EnterPhase(phase_);
}

void Plan::Cancel() { cancelled_ = true; }

void Plan::Release(int step) {
  for (int d : rb_.steps[step].dependents) {
    if (--missing_[d] == 0 && rb_.steps[d].block == BlockOf(phase_) && status_[d] == StepStatus::kPending)
      ready_.push({position_[d], d});
  }
  if (rb_.steps[step].block == BlockOf(phase_) && --unfinished_in_phase_ == 0) {
    if (phase_ == Phase::kMain)
      EnterPhase(failed_ && !cancelled_ ? Phase::kOnFailure : Phase::kFinally);
    else if (phase_ == Phase::kOnFailure)
      EnterPhase(Phase::kFinally);
    else
      EnterPhase(Phase::kDone);
  }
}

bool Plan::BlockFinished(Block b) const {
  for (int i : rb_.Order(b))
    if (!IsFinished(status_[i])) return false;
  return true;
}

}  // namespace runbook
