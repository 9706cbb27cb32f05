// Resume and child runs. Resume continues a run in the journal: the last
// attempt of every step is read back, steps that succeeded keep their results
// (so downstream expressions see the same values), everything else runs
// again with its attempt numbers continuing. A child run (`runbook` step) is
// another RunExecution on the same event loop and journal, linked to its
// parent and filed under the same incident.
#include <boost/json.hpp>
#include <deque>
#include <unordered_map>

#include "engine/run_execution.h"
#include "journal/identity.h"

namespace runbook::internal {
namespace {

namespace asio = boost::asio;
using asio::awaitable;

// A nested chain of child runs deeper than this is refused (a runaway
// recursion the compile-time check could not see, e.g. a name computed at run
// time).
constexpr int kMaxChildDepth = 8;
// Text read back for a restored step's stdout/stderr outputs.
constexpr size_t kRestoreTextLimit = 4u << 20;

}  // namespace

Status RunExecution::LoadPrior() {
  auto attempts = journal_.GetAttempts(run_id_);
  if (!attempts.ok()) return attempts.status();
  for (auto& a : *attempts) {
    PriorStep& p = prior_[a.step_id];
    if (a.attempt < p.last_attempt) continue;
    p.last_attempt = a.attempt;
    p.status = a.status;
    p.exit_code = a.exit_code;
    p.error = a.error;
    auto v = boost::json::parse(a.outputs_json);
    p.outputs = v.is_object() ? v.as_object() : boost::json::object{};
  }
  // A step whose latest decision is a rejection keeps it (run it again with --from).
  auto approvals = journal_.GetApprovals(run_id_);
  if (!approvals.ok()) return approvals.status();
  std::unordered_map<std::string, const journal::ApprovalRecord*> latest;
  for (const auto& a : *approvals)
    if (!latest.count(a.step_id) || latest[a.step_id]->ts_us <= a.ts_us) latest[a.step_id] = &a;
  for (const auto& [step, a] : latest) {
    auto it = prior_.find(step);
    if (it != prior_.end() && it->second.status == journal::AttemptStatus::kFailed &&
        a->decision == journal::Decision::kRejected)
      it->second.rejected = true;
  }
  for (const auto& cs : rb_.steps) {
    auto it = prior_.find(cs.id());
    if (it == prior_.end()) continue;
    // A waiting attempt is continued under its own number (its decision is attached to it).
    attempts_used_[cs.index] =
        it->second.status == journal::AttemptStatus::kWaiting ? it->second.last_attempt - 1 : it->second.last_attempt;
  }
  return Status::Ok();
}

void RunExecution::RestoreSteps() {
  std::vector<bool> rerun(rb_.steps.size(), false);
  if (!req_.resume_from.empty()) {
    std::deque<int> todo;
    for (const auto& cs : rb_.steps)
      if (cs.id() == req_.resume_from) todo.push_back(cs.index);
    while (!todo.empty()) {
      int s = todo.front();
      todo.pop_front();
      if (rerun[s]) continue;
      rerun[s] = true;
      for (int d : rb_.steps[s].dependents) todo.push_back(d);
    }
  }
  boost::json::array restored, rejected;
  for (const auto& cs : rb_.steps) {
    if (cs.block != Block::kMain || rerun[cs.index]) continue;
    auto it = prior_.find(cs.id());
    if (it == prior_.end()) continue;
    if (it->second.rejected) {
      values_.steps[cs.id()] = StepResultValues{"failed", std::nullopt, {}, it->second.error};
      plan_.Restore(cs.index, StepStatus::kFailed);
      rejected.push_back(boost::json::value(cs.id()));
      continue;
    }
    if (it->second.status != journal::AttemptStatus::kSucceeded) continue;
    StepResultValues v{"succeeded", it->second.exit_code, it->second.outputs, {}};
    if (cs.spec->type == "shell" || cs.spec->type == "exec") {
      // stdout/stderr are journaled as output (chunks or spill files), not
      // as outputs; the first kRestoreTextLimit bytes, as a run keeps them.
      auto text = [&](journal::Stream stream) {
        auto read = journal_.ReadStream(run_id_, cs.id(), it->second.last_attempt, stream, kRestoreTextLimit);
        return read.ok() ? std::move(*read) : std::string();
      };
      v.outputs["stdout"] = text(journal::Stream::kStdout);
      v.outputs["stderr"] = text(journal::Stream::kStderr);
      if (it->second.exit_code) v.outputs["exit_code"] = *it->second.exit_code;
    }
    values_.steps[cs.id()] = std::move(v);
    plan_.Restore(cs.index, StepStatus::kSucceeded);
    restored.push_back(boost::json::value(cs.id()));
  }
  // Steps that run again do not see their old results, except through
  // StepContext::previous_outputs (a `runbook` step resumes its child).
  for (const auto& cs : rb_.steps)
    if (rerun[cs.index] && cs.spec->type != "runbook") prior_.erase(cs.id());
  restored_ = static_cast<int>(restored.size());
  Event("", "steps_restored",
        std::to_string(restored.size()) + " step(s) keep their results from before" +
            (rejected.empty() ? "" : "; " + std::to_string(rejected.size()) + " stay rejected"),
        std::nullopt, {{"steps", restored}, {"rejected", rejected}});
}

awaitable<bool> RunExecution::BeginResume() {
  run_id_ = req_.resume_run_id;
  summary.run_id = run_id_;
  auto fail = [this](const std::string& error) {
    summary.status = journal::RunStatus::kFailed;
    summary.exit_code = 1;
    summary.error = error;
  };
  auto run = journal_.GetRun(run_id_);
  if (!run.ok()) {
    fail(run.status().message());
    co_return false;
  }
  incident_ = run->incident.empty() ? run_id_ : run->incident;
  started_ = std::chrono::system_clock::time_point(std::chrono::microseconds(run->started_at_us));
  if (Status s = LoadPrior(); !s.ok()) {
    fail("cannot read run " + run_id_ + ": " + s.message());
    co_return false;
  }
  journal_.ResumeRun(run_id_, journal::CurrentProcess());
  boost::json::object data = {{"previous_status", std::string(journal::ToString(run->status))}};
  if (!req_.resume_from.empty()) data["from"] = req_.resume_from;
  if (!req_.resume_note.empty()) data["note"] = req_.resume_note;
  Event("", "run_resumed",
        "run resumed by " + actor_ + " (was " + std::string(journal::ToString(run->status)) + ")" +
            (req_.resume_from.empty() ? "" : "; re-running from step '" + req_.resume_from + "'") +
            (req_.resume_note.empty() ? "" : "; " + req_.resume_note),
        std::nullopt, std::move(data));
  if (!InitValues()) {
    co_await Abort(summary.error);
    co_return false;
  }
  RestoreSteps();
  Status s = co_await SyncJournal(journal_);
  if (!s.ok()) {
    fail(s.message());
    co_return false;
  }
  if (progress_)
    progress_->Notice("run " + run_id_ + " of " + rb_.spec.name + " resumed; " + std::to_string(restored_) +
                      " step(s) keep their results");
  co_return true;
}

awaitable<ChildRunResult> RunExecution::Run(const ChildRunRequest& request, CancelSignal& cancel) {
  ChildRunResult result;
  result.status = "failed";
  if (!req_.child_loader) {
    result.error = "child runs cannot be started here";
    co_return result;
  }
  std::vector<std::string> chain = req_.ancestors;
  chain.push_back(rb_.spec.name);
  for (const auto& name : chain) {
    if (name != request.runbook) continue;
    std::string path;
    for (const auto& n : chain) path += n + " -> ";
    result.error = "runbook cycle: " + path + request.runbook;
    co_return result;
  }
  if (req_.depth + 1 > kMaxChildDepth) {
    result.error = "child runs nested deeper than " + std::to_string(kMaxChildDepth);
    co_return result;
  }
  if (cancel.emitted()) {
    result.status = "cancelled";
    result.error = "cancelled";
    co_return result;
  }
  auto loaded = req_.child_loader(request.runbook, request.params, rb_.spec.source_path);
  if (!loaded.ok()) {
    result.error = loaded.status().message();
    co_return result;
  }
  // Kept alive here for as long as the child runs (RunExecution holds references).
  ChildRunbook child_rb = std::move(*loaded);
  auto creq = std::make_shared<RunRequest>();
  creq->runbook = child_rb.runbook.get();
  creq->params = std::move(child_rb.params);
  creq->secrets = std::move(child_rb.secrets);
  creq->missing_secrets = std::move(child_rb.missing_secrets);
  creq->trigger = journal::Trigger::kChild;
  creq->incident = incident_;
  creq->parent_run = run_id_;
  creq->actor = actor_;
  creq->max_parallel = max_parallel_;
  creq->kill_grace = req_.kill_grace;
  creq->handle_signals = false;  // the parent's signal cancels the parent's step, which cancels us
  creq->resume_run_id = request.resume_run_id;
  creq->prompter = req_.prompter;
  creq->child_loader = req_.child_loader;
  creq->depth = req_.depth + 1;
  creq->ancestors = std::move(chain);
  auto child = std::make_shared<RunExecution>(io_, journal_, executors_, progress_, *creq);
  std::weak_ptr<RunExecution> weak = child;
  cancel.Connect([weak] {
    if (auto c = weak.lock()) c->CancelFromParent();
  });
  co_await child->Main();
  const RunSummary& s = child->summary;
  result.run_id = s.run_id;
  result.status = std::string(journal::ToString(s.status));
  result.outputs = s.outputs;
  result.error = s.error;
  co_return result;
}

}  // namespace runbook::internal
