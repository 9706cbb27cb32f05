#include "engine/runner.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <csignal>
#include <spdlog/spdlog.h>
#include <thread>

#include "engine/json_text.h"
#include "engine/masker.h"
#include "engine/run_execution.h"
#include "journal/identity.h"
#include "journal/sha256.h"

namespace runbook {
namespace internal {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

journal::AttemptStatus ToJournal(StepStatus s) {
  switch (s) {
    case StepStatus::kPending: return journal::AttemptStatus::kPending;
    case StepStatus::kWaiting: return journal::AttemptStatus::kWaiting;
    case StepStatus::kRunning: return journal::AttemptStatus::kRunning;
    case StepStatus::kSucceeded: return journal::AttemptStatus::kSucceeded;
    case StepStatus::kFailed: return journal::AttemptStatus::kFailed;
    case StepStatus::kTimedOut: return journal::AttemptStatus::kTimedOut;
    case StepStatus::kSkipped: return journal::AttemptStatus::kSkipped;
    case StepStatus::kCancelled: return journal::AttemptStatus::kCancelled;
  }
  return journal::AttemptStatus::kFailed;
}

// What the attempt captured on stream `s`. Most steps print nothing on one
// stream or both, and the SHA-256 of nothing is a constant.
journal::StreamDigest Digest(const Capture& cap, OutputStream s) {
  static const std::string kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const int64_t bytes = cap.bytes(s);
  return {bytes, bytes == 0 ? kEmpty : cap.sha256(s)};
}

journal::Block ToJournal(Block b) {
  return b == Block::kMain ? journal::Block::kMain : b == Block::kOnFailure ? journal::Block::kOnFailure
                                                                             : journal::Block::kFinally;
}

}  // namespace

RunExecution::RunExecution(asio::io_context& io, journal::Journal& j, const ExecutorRegistry& executors,
                           ProgressSink* progress, const RunRequest& req)
    : io_(io), journal_(j), executors_(executors), progress_(progress), req_(req), rb_(*req.runbook), plan_(rb_),
      attempts_used_(rb_.steps.size(), 0),
      ended_mark_(rb_.steps.size(), 0),
      wake_(io),
      run_timer_(io),
      signals_(io) {
  std::vector<std::string> secret_values;
  for (const auto& [k, v] : req.secrets) secret_values.push_back(v);
  masker_ = Masker(secret_values);
  for (const auto& [k, v] : req.secrets) {
    if (!v.empty() && v.size() < Masker::kMinLength) short_secrets_.push_back(k);
  }
  max_parallel_ = req.max_parallel > 0 ? req.max_parallel
                                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  actor_ = req.actor.empty() ? journal::LocalActor() : req.actor;
}

awaitable<void> RunExecution::Main() {
  bool started = req_.resume_run_id.empty() ? co_await Begin() : co_await BeginResume();
  if (!started) co_return;
  // Steps' records are committed in groups after the steps went on
  // (Journal::StartAttempt): a group that fails stops the run as a failed
  // barrier would.
  auto on_failure = [this, ex = io_.get_executor(), alive = std::weak_ptr<int>(alive_)](Status why) {
    asio::post(ex, [this, alive, why = std::move(why)] {
      if (alive.expired() || ended_) return;
      JournalBroken(why);
      Wake();
    });
  };
  journal_watch_ = journal_.WatchFailure(std::move(on_failure));
  if (req_.handle_signals) WatchSignals();
  if (progress_ && req_.depth == 0) asio::co_spawn(io_, Ticker(), asio::detached);
  if (rb_.spec.timeout) WatchRunTimeout(*rb_.spec.timeout);
  while (true) {
    Schedule();
    if (plan_.done() && plan_.running() == 0) break;
    const int active = plan_.running() - static_cast<int>(parked_.size());
    if (active == 0 && launch_queue_.empty()) {
      if (!parked_.empty()) break;  // everything left waits for a decision from outside: pause
      // Nothing can make progress: a bug in the plan; do not hang.
      Event("", "error", "internal error: no step can run; ending the run");
      plan_.FailRun();
      break;
    }
    co_await WaitForWake();
  }
  co_await End();
}

RunExecution::~RunExecution() {
  if (journal_watch_ != 0) journal_.UnwatchFailure(journal_watch_);
}

void RunExecution::CancelFromParent() {
  if (ended_ || cancelled_by_parent_) return;
  cancelled_by_parent_ = true;
  Event("", "cancel", "the parent run cancelled this run; cancelling running steps, then running 'finally'");
  CancelRun();
}

void RunExecution::Event(const std::string& step, const std::string& kind, const std::string& message,
                         std::optional<int> attempt, boost::json::object data) {
  EventJson(step, kind, message, attempt, JsonText(data));
}

void RunExecution::EventJson(const std::string& step, const std::string& kind, const std::string& message,
                             std::optional<int> attempt, std::string_view data_json) {
  journal_.AppendEvent(EventRow(step, kind, message, attempt, data_json));
}

journal::EventRecord RunExecution::EventRow(const std::string& step, const std::string& kind,
                                            const std::string& message, std::optional<int> attempt,
                                            std::string_view data_json) const {
  journal::EventRecord e;
  e.run_id = run_id_;
  e.step_id = step;
  e.attempt = attempt;
  e.kind = kind;
  e.actor = actor_;
  e.message = masker_.Mask(message);
  e.data_json = masker_.Mask(data_json);
  e.ts_us = journal::NowMicros();
  return e;
}

awaitable<bool> RunExecution::Begin() {
  run_id_ = req_.new_run_id.empty() ? journal::NewRunId() : req_.new_run_id;
  incident_ = req_.incident.empty() ? run_id_ : req_.incident;
  summary.run_id = run_id_;
  started_ = std::chrono::system_clock::now();
  journal::RunRecord r;
  r.id = run_id_;
  r.runbook = rb_.spec.name;
  r.title = rb_.spec.title;
  r.source_path = rb_.spec.source_path;
  r.content_hash = journal::Sha256Hex(rb_.spec.source_text);
  r.source_text = rb_.spec.source_text;
  r.params_json = masker_.Mask(JsonText(req_.params));
  r.trigger = req_.trigger;
  r.actor = actor_;
  r.process = journal::CurrentProcess();
  r.incident = incident_;
  r.parent_run = req_.parent_run;
  r.status = journal::RunStatus::kRunning;
  r.started_at_us = journal::NowMicros();
  // What the run row says, in the chained event too (journal verify compares them).
  boost::json::object data = {{"trigger", std::string(journal::ToString(req_.trigger))},
                              {"max_parallel", max_parallel_},
                              {"runbook", r.runbook},
                              {"content_hash", r.content_hash},
                              {"actor", r.actor},
                              {"incident", r.incident},
                              {"parent_run", r.parent_run},
                              {"started_at", r.started_at_us}};
  // Committed below on this thread (SyncJournal), without waking the writer.
  std::optional<journal::Journal::Hold> hold(std::in_place, journal_);
  journal_.CreateRun(std::move(r));
  Event("", "run_started", "run of " + rb_.spec.name + " started by " + actor_, std::nullopt, std::move(data));
  if (!InitValues()) {
    hold.reset();
    co_await Abort(summary.error);
    co_return false;
  }
  Status s = co_await SyncJournal(journal_, &hold);
  if (!s.ok()) {
    summary.status = journal::RunStatus::kFailed;
    summary.exit_code = 1;
    summary.error = s.message();
    co_return false;
  }
  if (progress_) progress_->RunStarted(run_id_, rb_);
  co_return true;
}

bool RunExecution::InitValues() {
  for (const auto& name : short_secrets_)
    Event("", "warning", "secret '" + name + "' is shorter than " + std::to_string(Masker::kMinLength) +
                             " characters and cannot be masked");
  values_.params = req_.params;
  values_.secrets = req_.secrets;
  values_.missing_secrets = req_.missing_secrets;
  for (const auto& [name, why] : req_.missing_secrets)
    Event("", "warning", "secret '" + name + "' is not available (" + why + "); steps that use it will fail");
  values_.run = {{"id", run_id_},
                 {"incident", incident_},
                 {"started_at", IsoUtc(started_)},
                 {"runbook", rb_.spec.name},
                 {"trigger", std::string(journal::ToString(req_.trigger))},
                 {"actor", actor_}};
  values_.now = [] { return IsoUtc(std::chrono::system_clock::now()); };
  for (const auto& e : rb_.spec.env) {
    auto rendered = Render(e.value);
    if (!rendered.ok()) {
      summary.error = "env '" + e.name + "': " + rendered.status().message();
      return false;
    }
    values_.env[e.name] = *rendered;
  }
  return true;
}

awaitable<void> RunExecution::Abort(const std::string& error) {
  Event("", "error", error);
  summary.error = error;
  plan_.FailRun();
  co_await End();
}

awaitable<void> RunExecution::Ticker() {
  asio::steady_timer t(io_);
  ticker_ = &t;
  while (!ended_) {
    t.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    if (!ended_) progress_->Tick();
  }
  ticker_ = nullptr;
}

awaitable<void> RunExecution::End() {
  ended_ = true;
  // The last records are committed on this thread (SyncJournal) below.
  std::optional<journal::Journal::Hold> hold(std::in_place, journal_);
  if (ticker_) ticker_->cancel();
  run_timer_.cancel();
  signals_.cancel();
  const bool cancelled =
      signal_ != 0 || cancelled_by_parent_ || (plan_.cancelled() && !timed_out_ && !journal_broken_);
  if (!parked_.empty() && !cancelled && !journal_broken_ && summary.error.empty()) {
    // Paused: the steps in parked_ wait for decisions; `runbook resume` continues.
    std::string steps;
    boost::json::array ids;
    for (const auto& [s, attempt] : parked_) {
      steps += (steps.empty() ? "" : ", ") + rb_.steps[s].id();
      ids.push_back(boost::json::value(rb_.steps[s].id()));
      summary.waiting_steps.push_back(rb_.steps[s].id());
    }
    Event("", "run_paused", "run waiting for: " + steps, std::nullopt, {{"steps", ids}});
    journal_.SetRunStatus(run_id_, journal::RunStatus::kWaiting);
    Status s = co_await SyncJournal(journal_, &hold);
    summary.status = journal::RunStatus::kWaiting;
    summary.exit_code = 3;
    if (!s.ok()) {
      summary.error = s.message();
      summary.exit_code = 1;
      summary.status = journal::RunStatus::kFailed;
    }
    co_return;
  }
  CancelParked();
  journal::RunStatus status = cancelled                                       ? journal::RunStatus::kCancelled
                              : plan_.failed() || !summary.error.empty()     ? journal::RunStatus::kFailed
                                                                              : journal::RunStatus::kSucceeded;
  // The runbook's outputs, from everything the run produced.
  boost::json::object outputs;
  for (const auto& o : rb_.spec.outputs) {
    auto t = expr::Template::Parse(o.expr);
    auto v = t.ok() ? expr::RenderValue(*t, values_) : Result<boost::json::value>(t.status());
    if (v.ok()) {
      outputs[o.name] = *v;
    } else {
      outputs[o.name] = nullptr;
      Event("", "warning", "output '" + o.name + "': " + v.status().message());
    }
  }
  std::string outputs_json = masker_.Mask(JsonText(outputs));
  int exit_code = status == journal::RunStatus::kSucceeded   ? 0
                  : status == journal::RunStatus::kCancelled ? (signal_ == SIGTERM ? 143 : 130)
                                                              : 1;
  if (summary.error.empty() && timed_out_) summary.error = "run timed out after " + FormatDuration(*rb_.spec.timeout);
  if (summary.error.empty() && !failing_finding_.empty()) summary.error = failing_finding_;
  if (summary.error.empty() && status == journal::RunStatus::kFailed) {
    std::string failed;
    for (const auto& s : rb_.steps)
      if ((plan_.status(s.index) == StepStatus::kFailed || plan_.status(s.index) == StepStatus::kTimedOut) &&
          !s.spec->continue_on_error)
        failed += (failed.empty() ? "" : ", ") + s.id();
    summary.error = "step(s) failed: " + failed;
  }
  const int64_t finished_at = journal::NowMicros();
  Event("", "run_finished",
        "run " + std::string(journal::ToString(status)) + (summary.error.empty() ? "" : ": " + summary.error),
        std::nullopt,
        {{"status", std::string(journal::ToString(status))}, {"exit_code", exit_code}, {"finished_at", finished_at}});
  journal_.FinishRun(run_id_, status, finished_at, exit_code, outputs_json, masker_.Mask(summary.error));
  Status s = co_await SyncJournal(journal_, &hold);
  summary.status = status;
  summary.exit_code = exit_code;
  summary.outputs = boost::json::parse(outputs_json).as_object();
  if (!s.ok()) {
    summary.error = s.message();
    summary.exit_code = 1;
    summary.status = journal::RunStatus::kFailed;
  }
}

void RunExecution::Wake() {
  woken_ = true;
  wake_.cancel();
}

awaitable<void> RunExecution::WaitForWake() {
  if (woken_) {
    woken_ = false;
    co_return;
  }
  wake_.expires_at(Clock::time_point::max());
  boost::system::error_code ec;
  co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
  woken_ = false;
}

Result<std::string> RunExecution::Render(const std::string& text) {
  if (!expr::HasExpression(text)) return text;
  auto t = expr::Template::Parse(text);
  if (!t.ok()) return t.status();
  return expr::RenderString(*t, values_);
}

// Decides every ready step: skip it, fail it, or queue it for launch; then
// launches as many as the parallelism allows (parked steps take no slot).
void RunExecution::Schedule() {
  while (true) {
    std::vector<int> ready = plan_.TakeReady();
    if (ready.empty()) break;
    for (int s : ready) Decide(s);
  }
  while (plan_.running() - static_cast<int>(parked_.size()) < max_parallel_ && !launch_queue_.empty()) {
    int s = launch_queue_.front();
    launch_queue_.pop_front();
    plan_.Start(s);
    spdlog::debug("start step '{}' ({} running, max {})", rb_.steps[s].id(), plan_.running(), max_parallel_);
    asio::co_spawn(io_, RunStep(s), asio::detached);
  }
}

void RunExecution::Decide(int s) {
  const CompiledStep& cs = rb_.steps[s];
  if (cs.condition_is_default) {
    if (plan_.NeedsSucceeded(s) || (cs.block != Block::kMain && cs.needs.empty())) {
      // Handlers without needs always start when their block does.
      launch_queue_.push_back(s);
    } else {
      SkipStep(s, plan_.SkipReason(s));
    }
    return;
  }
  auto e = expr::ParseCondition(cs.condition);
  values_.status_function = [this, s](std::string_view name) { return plan_.StatusFunction(s, name); };
  auto v = e.ok() ? expr::Evaluate(*e, values_) : Result<boost::json::value>(e.status());
  values_.status_function = nullptr;
  if (!v.ok()) {
    FailWithoutRunning(s, "cannot evaluate 'if': " + v.status().message());
  } else if (expr::Truthy(*v)) {
    launch_queue_.push_back(s);
  } else {
    SkipStep(s, "condition is false: " + cs.condition);
  }
}

void RunExecution::RecordAttempt(int s, int attempt, StepStatus status, std::optional<int64_t> started,
                                 std::optional<int64_t> finished, std::optional<long long> exit_code,
                                 const boost::json::object& outputs, const std::string& error,
                                 const std::pair<journal::StreamDigest, journal::StreamDigest>* output) {
  journal_.PutAttempt(AttemptRow(s, attempt, status, started, finished, exit_code, outputs, error, output));
}

journal::AttemptRecord RunExecution::AttemptRow(int s, int attempt, StepStatus status, std::optional<int64_t> started,
                                                std::optional<int64_t> finished, std::optional<long long> exit_code,
                                                const boost::json::object& outputs, const std::string& error,
                                                const std::pair<journal::StreamDigest, journal::StreamDigest>* output)
    const {
  journal::AttemptRecord a;
  a.run_id = run_id_;
  a.step_id = rb_.steps[s].id();
  a.block = ToJournal(rb_.steps[s].block);
  a.attempt = attempt;
  a.status = ToJournal(status);
  a.started_at_us = started;
  a.finished_at_us = finished;
  if (exit_code) a.exit_code = static_cast<int>(*exit_code);
  a.outputs_json = masker_.Mask(JsonText(outputs));
  a.error = masker_.Mask(error);
  if (output) {
    a.stdout_digest = output->first;
    a.stderr_digest = output->second;
  }
  return a;
}

void RunExecution::RecordFinding(const CompiledStep& cs, int attempt, Level level, const std::string& message,
                                 const std::string& value, const std::string& threshold) {
  if (level == Level::kOk) return;
  journal::FindingRecord f;
  f.run_id = run_id_;
  f.step_id = cs.id();
  f.level = level == Level::kCritical  ? journal::FindingLevel::kCritical
            : level == Level::kWarning ? journal::FindingLevel::kWarning
                                       : journal::FindingLevel::kInfo;
  f.message = masker_.Mask(message);
  f.value = masker_.Mask(value);
  f.threshold = threshold;
  f.ts_us = journal::NowMicros();
  findings_.push_back(boost::json::object{{"step", cs.id()},
                                          {"level", LevelName(level)},
                                          {"message", f.message},
                                          {"value", f.value},
                                          {"threshold", threshold}});
  journal_.AddFinding(std::move(f));
  Event(cs.id(), "finding", std::string(LevelName(level)) + ": " + message, attempt,
        {{"level", LevelName(level)}, {"value", value}, {"threshold", threshold}});
  if (progress_)
    progress_->Notice(std::string(LevelName(level)) + " finding from " + cs.id() + ": " + masker_.Mask(message));
  FailOn fail_on = rb_.spec.fail_on;
  bool fails = (fail_on == FailOn::kWarning && (level == Level::kWarning || level == Level::kCritical)) ||
               (fail_on == FailOn::kCritical && level == Level::kCritical);
  if (fails && failing_finding_.empty()) {
    failing_finding_ = std::string(LevelName(level)) + " finding from step '" + cs.id() + "': " + message;
    plan_.FailRun();
  }
}

void RunExecution::SkipStep(int s, const std::string& reason) {
  const CompiledStep& cs = rb_.steps[s];
  spdlog::debug("skip step '{}': {}", cs.id(), reason);
  int64_t now = journal::NowMicros();
  int attempt = NextAttempt(s);
  RecordAttempt(s, attempt, StepStatus::kSkipped, now, now, std::nullopt, {}, reason, nullptr);
  Event(cs.id(), "step_skipped", "skipped: " + reason, attempt);
  NoteEnded(s);
  plan_.Skip(s);
  values_.steps[cs.id()] = StepResultValues{"skipped", std::nullopt, {}, masker_.Mask(reason)};
  if (progress_) progress_->StepSkipped(cs, reason);
}

void RunExecution::FailWithoutRunning(int s, const std::string& error) {
  const CompiledStep& cs = rb_.steps[s];
  int64_t now = journal::NowMicros();
  int attempt = NextAttempt(s);
  RecordAttempt(s, attempt, StepStatus::kFailed, now, now, std::nullopt, {}, error, nullptr);
  Event(cs.id(), "step_finished", "failed: " + error, attempt, {{"status", "failed"}});
  NoteEnded(s);
  if (plan_.status(s) == StepStatus::kPending) plan_.Start(s);
  plan_.Finish(s, StepStatus::kFailed);
  values_.steps[cs.id()] = StepResultValues{"failed", std::nullopt, {}, masker_.Mask(error)};
  if (progress_) progress_->StepFinished(cs, attempt, StepStatus::kFailed, Millis(0), masker_.Mask(error));
}

void RunExecution::NoteEnded(int s) {
  ended_mark_[s] = journal_.queued_mark();
  last_end_mark_ = ended_mark_[s];
}

uint64_t RunExecution::WaitedFor(const CompiledStep& cs) const {
  uint64_t mark = cs.block == Block::kMain ? 0 : last_end_mark_;
  for (int n : cs.needs) mark = std::max(mark, ended_mark_[n]);
  return mark;
}

void RunExecution::FinishStep(int s, StepStatus status, StepOutcome outcome) {
  NoteEnded(s);
  running_.erase(s);
  StepResultValues result;
  result.status = StepStatusName(status);
  result.exit_code = outcome.exit_code;
  result.outputs = std::move(outcome.outputs);
  if (status != StepStatus::kSucceeded) result.error = masker_.Mask(outcome.error);
  values_.steps[rb_.steps[s].id()] = std::move(result);
  plan_.Finish(s, status);
  Wake();
}

awaitable<void> RunExecution::RunStep(int s) {
  const CompiledStep& cs = rb_.steps[s];
  StepOutcome outcome;
  auto cancel = std::make_shared<CancelSignal>();
  running_[s] = cancel;
  if (plan_.cancelled() && cs.block != Block::kFinally) cancel->Emit();
  const bool is_approval = cs.spec->type == "approval";
  StepExecutor* executor = executors_.Find(cs.spec->type);
  auto fail_now = [&](const std::string& error) {
    outcome.error = error;
    int attempt = NextAttempt(s);
    int64_t now = journal::NowMicros();
    RecordAttempt(s, attempt, StepStatus::kFailed, now, now, std::nullopt, {}, error, nullptr);
    Event(cs.id(), "step_finished", "failed: " + error, attempt, {{"status", "failed"}});
    if (progress_) progress_->StepFinished(cs, attempt, StepStatus::kFailed, Millis(0), masker_.Mask(error));
    FinishStep(s, StepStatus::kFailed, std::move(outcome));
  };
  if (!executor && !is_approval) {
    fail_now("step type '" + cs.spec->type + "' cannot be executed by this version of runbook");
    co_return;
  }

  if (auto approval = ApprovalOf(cs)) {
    int attempt = attempts_used_[s] + 1;
    Gate g = co_await ApprovalGate(s, *approval, attempt, *cancel, outcome);
    switch (g) {
      case Gate::kProceed: break;
      case Gate::kParked: co_return;  // stays waiting; the run pauses when nothing else can run
      case Gate::kRejected: fail_now(outcome.error); co_return;
      case Gate::kBroken:
        fail_now("not started: " + journal_.writer_status().message());
        JournalBroken(journal_.writer_status());
        co_return;
      case Gate::kCancelled: {
        int a = NextAttempt(s);
        int64_t now = journal::NowMicros();
        RecordAttempt(s, a, StepStatus::kCancelled, now, now, std::nullopt, {}, "cancelled while waiting for approval",
                      nullptr);
        Event(cs.id(), "step_finished", "cancelled while waiting for approval", a, {{"status", "cancelled"}});
        FinishStep(s, StepStatus::kCancelled, std::move(outcome));
        co_return;
      }
    }
    if (is_approval) {
      // The decision is the step's result.
      int a = NextAttempt(s);
      int64_t now = journal::NowMicros();
      RecordAttempt(s, a, StepStatus::kSucceeded, now, now, std::nullopt, outcome.outputs, "", nullptr);
      Event(cs.id(), "step_finished", "succeeded: approved by " +
                                          std::string(outcome.outputs["approved_by"].as_string()),
            a, {{"status", "succeeded"}});
      if (progress_) progress_->StepFinished(cs, a, StepStatus::kSucceeded, Millis(0), "");
      FinishStep(s, StepStatus::kSucceeded, std::move(outcome));
      co_return;
    }
    outcome = StepOutcome{};
  }

  StepStatus final_status = StepStatus::kFailed;
  const auto repeat_deadline = cs.spec->repeat ? Clock::now() + cs.spec->repeat->max : Clock::time_point::max();
  while (true) {
    final_status = co_await RunAttempts(s, *executor, cancel, outcome);
    if (final_status == StepStatus::kWaiting) co_return;  // parked (a child run waits)
    if (!cs.spec->repeat || final_status != StepStatus::kSucceeded || cancel->emitted()) break;
    const RepeatSpec& rep = *cs.spec->repeat;
    auto done = RepeatSatisfied(cs, outcome);
    if (!done.ok() || *done) {
      if (!done.ok()) {
        final_status = StepStatus::kFailed;
        outcome.error = "repeat: cannot evaluate 'until': " + done.status().message();
      }
      break;
    }
    if (Clock::now() + rep.every > repeat_deadline) {
      final_status = StepStatus::kFailed;
      outcome.error = "repeat: '" + rep.until + "' still false after " + FormatDuration(rep.max);
      break;
    }
    Event(cs.id(), "repeat", "'" + rep.until + "' is false; running again in " + FormatDuration(rep.every),
          attempts_used_[s], {{"every_ms", rep.every.count()}});
    auto t = std::make_shared<asio::steady_timer>(io_);
    t->expires_after(rep.every);
    cancel->Connect([t] { t->cancel(); });
    boost::system::error_code ec;
    co_await t->async_wait(asio::redirect_error(use_awaitable, ec));
    if (cancel->emitted()) {
      final_status = StepStatus::kCancelled;
      outcome.error = "cancelled";
      break;
    }
  }
  if (cs.spec->repeat && final_status != StepStatus::kSucceeded && outcome.error.starts_with("repeat:")) {
    // The last attempt succeeded as a process, but the step did not reach its condition.
    int a = attempts_used_[s];
    int64_t now = journal::NowMicros();
    RecordAttempt(s, a, final_status, std::nullopt, now, outcome.exit_code, {}, outcome.error, nullptr);
    boost::json::object data = {{"status", StepStatusName(final_status)}};
    if (outcome.exit_code) data["exit_code"] = *outcome.exit_code;  // as in the attempt row
    Event(cs.id(), "step_finished", "failed: " + outcome.error, a, std::move(data));
    if (progress_) progress_->StepFinished(cs, a, final_status, Millis(0), masker_.Mask(outcome.error));
  }
  FinishStep(s, final_status, std::move(outcome));
}

Result<bool> RunExecution::RepeatSatisfied(const CompiledStep& cs, const StepOutcome& outcome) {
  StepResultValues self{"succeeded", outcome.exit_code, outcome.outputs, {}};
  auto saved = values_.steps.find(cs.id()) != values_.steps.end()
                   ? std::optional<StepResultValues>(values_.steps[cs.id()])
                   : std::nullopt;
  values_.steps[cs.id()] = self;
  auto e = expr::ParseCondition(cs.spec->repeat->until);
  auto v = e.ok() ? expr::Evaluate(*e, values_) : Result<boost::json::value>(e.status());
  if (saved) values_.steps[cs.id()] = *saved; else values_.steps.erase(cs.id());
  if (!v.ok()) return v.status();
  return expr::Truthy(*v);
}

awaitable<StepStatus> RunExecution::RunAttempts(int s, StepExecutor& executor,
                                                const std::shared_ptr<CancelSignal>& cancel, StepOutcome& outcome) {
  const CompiledStep& cs = rb_.steps[s];
  const int attempts = std::max(1, cs.retry.attempts);
  StepStatus final_status = StepStatus::kFailed;
  const boost::json::object* previous = nullptr;
  if (auto it = prior_.find(cs.id()); it != prior_.end()) previous = &it->second.outputs;
  for (int round = 1; round <= attempts; ++round) {
    const int attempt = NextAttempt(s);
    const int64_t started = journal::NowMicros();
    auto t0 = Clock::now();
    // The start is durable before the process starts.
    journal::AttemptRecord running =
        AttemptRow(s, attempt, StepStatus::kRunning, started, std::nullopt, std::nullopt, {}, "", nullptr);
    journal::EventRecord started_event = EventRow(
        cs.id(), "step_started",
        attempts > 1 ? "attempt " + std::to_string(round) + " of " + std::to_string(attempts) : "started", attempt,
        "{}");
    Status durable;
    if (journal_broken_) {
      // No step starts once the journal failed (a `finally` step would
      // otherwise find SQLite working when only the start log failed).
      durable = journal_broken_reason_;
    } else if (round > 1 || WaitedFor(cs) > journal_.committed_mark()) {
      // It waited for attempts whose ends are still queued (its needs', the
      // main steps' for a handler, its own previous attempt's): they are
      // committed with its start, so that the journal never shows it
      // starting before what it waited for had ended.
      std::optional<journal::Journal::Hold> hold(std::in_place, journal_);
      journal_.PutAttempt(std::move(running));
      journal_.AppendEvent(std::move(started_event));
      durable = co_await SyncJournal(journal_, &hold);
    } else {
      // A first attempt that waited for nothing, or for ends committed
      // already: in this process's start log now, committed with the next
      // group (Journal::StartAttempt).
      // Through the event loop first, as SyncJournal: the step must not
      // finish inside the Schedule() that started it.
      co_await asio::post(io_.get_executor(), use_awaitable);
      durable = journal_.StartAttempt(std::move(running), std::move(started_event));
    }
    if (!durable.ok()) {
      outcome = StepOutcome{StepStatus::kFailed, std::nullopt, {}, "not started: " + durable.message()};
      // Recorded when only the start log failed (otherwise refused, as
      // everything now).
      journal_.PutAttempt(AttemptRow(s, attempt, StepStatus::kFailed, started, journal::NowMicros(), std::nullopt, {},
                                     outcome.error, nullptr));
      Event(cs.id(), "step_finished", "failed: " + outcome.error, attempt, {{"status", "failed"}});
      JournalBroken(durable);
      co_return StepStatus::kFailed;
    }
    if (progress_) progress_->StepStarted(cs, attempt);

    Capture cap(journal_, masker_, run_id_, cs, attempt, progress_);
    std::string env_error;
    StepContext ctx;
    ctx.io = io_.get_executor();
    ctx.runbook = &rb_;
    ctx.step = &cs;
    ctx.values = &values_;
    ctx.run_id = run_id_;
    ctx.attempt = attempt;
    ctx.env = StepEnv(cs, attempt, env_error);
    ctx.timeout = cs.timeout;
    ctx.kill_grace = req_.kill_grace;
    ctx.output = &cap;
    ctx.children = this;
    ctx.run_so_far = [this] {
      RunSoFar r;
      r.status = plan_.cancelled() && !timed_out_ ? "cancelling" : plan_.failed() ? "failing" : "running";
      r.findings = findings_;
      return r;
    };
    ctx.previous_outputs = previous;
    ctx.warn = [this, &cs, attempt](const std::string& w) { Event(cs.id(), "warning", w, attempt); };
    ctx.finding = [this, &cs, attempt](Level level, const std::string& message, const std::string& value,
                                       const std::string& threshold) {
      RecordFinding(cs, attempt, level, message, value, threshold);
    };

    // The attempt's own cancel signal: the step's (run cancelled) or its timeout.
    // Shared: the run's signal keeps the callback after this attempt ends.
    auto attempt_cancel = std::make_shared<CancelSignal>();
    bool attempt_timed_out = false;
    cancel->Connect([attempt_cancel] { attempt_cancel->Emit(); });
    ctx.cancel = attempt_cancel.get();
    asio::steady_timer timeout_timer(io_);
    if (cs.timeout) {
      timeout_timer.expires_after(*cs.timeout);
      timeout_timer.async_wait([&](boost::system::error_code ec) {
        if (ec) return;
        attempt_timed_out = true;
        attempt_cancel->Emit();
      });
    }
    if (!env_error.empty()) {
      outcome = CouldNotStart(env_error);
    } else {
      outcome = co_await executor.Execute(ctx);
    }
    timeout_timer.cancel();
    cap.Finish();
    if (outcome.status == StepStatus::kWaiting) {
      Park(s, attempt, outcome.outputs, outcome.error);
      co_return StepStatus::kWaiting;
    }
    if (attempt_timed_out && outcome.status != StepStatus::kSucceeded) {
      outcome.status = StepStatus::kTimedOut;
      outcome.error = "timed out after " + FormatDuration(*cs.timeout);
      Event(cs.id(), "timeout", outcome.error, attempt);
    } else if (cancel->emitted() && outcome.status == StepStatus::kCancelled) {
      outcome.error = outcome.error.empty() ? "cancelled" : outcome.error;
    }
    if (outcome.status == StepStatus::kSucceeded) {
      Status ex = co_await Extract(cs, outcome, cap, *cancel);
      if (!ex.ok()) {
        outcome.status = ex.code() == Status::Code::kCancelled ? StepStatus::kCancelled : StepStatus::kFailed;
        outcome.error = ex.message();
      }
    }
    // Text outputs are offered to expressions (bounded copies).
    if (cs.type && (cs.spec->type == "shell" || cs.spec->type == "exec")) {
      outcome.outputs["stdout"] = cap.kept(OutputStream::kStdout);
      outcome.outputs["stderr"] = cap.kept(OutputStream::kStderr);
      if (outcome.exit_code) outcome.outputs["exit_code"] = *outcome.exit_code;
    }
    auto elapsed = std::chrono::duration_cast<Millis>(Clock::now() - t0);
    // Journal the outputs without the bulky text (it is in the output chunks).
    boost::json::object journaled = outcome.outputs;
    journaled.erase("stdout");
    journaled.erase("stderr");
    journaled.erase("body");  // the http step journals its excerpts as output
    const std::pair<journal::StreamDigest, journal::StreamDigest> output = {Digest(cap, OutputStream::kStdout),
                                                                            Digest(cap, OutputStream::kStderr)};
    journal_.PutAttempt(AttemptRow(s, attempt, outcome.status, started, journal::NowMicros(), outcome.exit_code,
                                   journaled, outcome.error, &output));
    // The output digests are in the chained event, so the hash chain covers
    // the output too. Written as boost::json would (names, numbers and hex
    // digits need no escaping).
    std::string data = R"({"status":")";
    data.reserve(300);
    data.append(StepStatusName(outcome.status)).append(R"(","duration_ms":)").append(std::to_string(elapsed.count()));
    if (outcome.exit_code) data.append(R"(,"exit_code":)").append(std::to_string(*outcome.exit_code));
    data.append(R"(,"stdout_bytes":)").append(std::to_string(output.first.bytes));
    data.append(R"(,"stdout_sha256":")").append(output.first.sha256);
    data.append(R"(","stderr_bytes":)").append(std::to_string(output.second.bytes));
    data.append(R"(,"stderr_sha256":")").append(output.second.sha256).append(R"("})");
    journal_.AppendEvent(EventRow(cs.id(), "step_finished",
                                 std::string(StepStatusName(outcome.status)) +
                                     (outcome.error.empty() ? "" : ": " + outcome.error),
                                 attempt, data));
    if (progress_) progress_->StepFinished(cs, attempt, outcome.status, elapsed, masker_.Mask(outcome.error));
    final_status = outcome.status;
    bool retryable = outcome.status == StepStatus::kFailed || outcome.status == StepStatus::kTimedOut;
    if (!retryable || round == attempts || cancel->emitted()) break;
    if (outcome.permanent) {
      Event(cs.id(), "retry_skipped",
            "not retried: the attempt could not start, and another would fail the same way (" +
                std::to_string(attempts - round) + " attempt(s) left unused)",
            attempt, {{"attempts_left", attempts - round}});
      if (progress_) progress_->Notice(cs.id() + ": not retried (it could not start; another attempt would fail the same way)");
      break;
    }
    const Millis delay = RetryDelay(cs.retry, round + 1);

    Event(cs.id(), "retry",
          "attempt " + std::to_string(round) + " " + StepStatusName(outcome.status) + "; attempt " +
              std::to_string(round + 1) + " in " + FormatDuration(delay),
          attempt, {{"delay_ms", delay.count()}, {"next_attempt", attempt + 1}});
    if (progress_) progress_->Retrying(cs, attempt + 1, delay);
    if (delay.count() > 0) {
      auto t = std::make_shared<asio::steady_timer>(io_);
      t->expires_after(delay);
      cancel->Connect([t] { t->cancel(); });
      boost::system::error_code ec;
      co_await t->async_wait(asio::redirect_error(use_awaitable, ec));
      if (cancel->emitted()) break;
    }
  }
  co_return final_status;
}

}  // namespace internal

namespace asio = boost::asio;

RunSummary Runner::Run(const RunRequest& request) {
  asio::io_context& io = io_;
  io.restart();
  internal::RunExecution run(io, journal_, executors_, progress_, request);
  std::exception_ptr failure;
  asio::co_spawn(io, run.Main(), [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) {
    RunSummary s = run.summary;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      s.error = std::string("internal error: ") + e.what();
    }
    s.status = journal::RunStatus::kFailed;
    s.exit_code = 1;
    return s;
  }
  return run.summary;
}

}  // namespace runbook
