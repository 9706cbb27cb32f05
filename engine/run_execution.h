// RunExecution: one run (or resumed run, or child run) in progress — the
// private implementation behind Runner (runner.h). Internal to engine/: only
// the engine/run*.cc files include it, because it pulls
// in Asio. Its methods are split across those files by concern: runner.cc
// (the run's life, scheduling, attempts), run_env.cc (the steps'
// environment), run_capture.cc (output capture),
// run_cancel.cc (signals, timeouts, cancel), run_approval.cc (approvals and
// pausing), run_children.cc (resume and child runs).
//
// Lives on the run's io_context thread; a child run is another RunExecution
// on the same thread, awaited by its parent's `runbook` step.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "engine/executor.h"
#include "engine/masker.h"
#include "engine/plan.h"
#include "engine/runner.h"
#include "engine/values.h"
#include "journal/journal.h"

namespace runbook::internal {

using Clock = std::chrono::steady_clock;

// Durability barrier as an awaitable: completes on the io thread once
// everything journaled so far is committed, always through the event loop
// (a suspension point, taken before committing, so that the records other
// handlers of the same loop pass queue share the commit). Commits on the io
// thread itself when the journal's writer is idle (Journal::SyncHere: no
// hand-off to the writer thread and back); `hold`, if given, ends after that
// attempt, before any waiting. For a run's start, pause and end; a step's
// start has a cheaper barrier (Journal::StartAttempt).
boost::asio::awaitable<Status> SyncJournal(journal::Journal& j,
                                           std::optional<journal::Journal::Hold>* hold = nullptr);
// The same barrier always committed by the writer thread: for output
// backpressure, where the engine keeps reading pipes while the writer writes.
boost::asio::awaitable<Status> WaitForJournalWriter(journal::Journal& j);

// One stream's capture for one attempt.
struct StreamCapture;

// Everything one attempt writes: masks, journals in chunks, counts, hashes,
// keeps a bounded copy for outputs.
class Capture : public OutputSinkBase {
 public:
  Capture(journal::Journal& j, const Masker& masker, std::string run_id, const CompiledStep& step, int attempt,
          ProgressSink* progress);
  ~Capture() override;
  boost::asio::awaitable<void> Write(OutputStream stream, std::string_view data) override;
  void Finish();
  const std::string& kept(OutputStream s) const;
  int64_t bytes(OutputStream s) const;
  std::string sha256(OutputStream s) const;

 private:
  void Emit(OutputStream stream, StreamCapture& c, std::string text);
  journal::Journal& journal_;
  std::string run_id_;
  const CompiledStep& step_;
  int attempt_;
  ProgressSink* progress_;
  std::unique_ptr<StreamCapture> out_, err_;
};

// What a resumed run knew about a step before (its last attempt).
struct PriorStep {
  int last_attempt = 0;
  journal::AttemptStatus status = journal::AttemptStatus::kPending;
  std::optional<int> exit_code;
  boost::json::object outputs;
  std::string error;      // as journaled (masked)
  bool rejected = false;  // its approval was rejected: a decision, not a failure to retry
};

class RunExecution : public ChildRuns {
 public:
  RunExecution(boost::asio::io_context& io, journal::Journal& j, const ExecutorRegistry& executors,
               ProgressSink* progress, const RunRequest& req);
  ~RunExecution() override;

  RunSummary summary;

  boost::asio::awaitable<void> Main();
  // A parent cancels its child run (the child's `runbook` step was cancelled).
  void CancelFromParent();
  // ChildRuns.
  boost::asio::awaitable<ChildRunResult> Run(const ChildRunRequest& request, CancelSignal& cancel) override;

 private:
  // --- runner.cc: the run's life, scheduling, attempts ----------------------
  void Event(const std::string& step, const std::string& kind, const std::string& message,
             std::optional<int> attempt = std::nullopt, boost::json::object data = {});
  // The same with `data` already serialized (the per-step events).
  void EventJson(const std::string& step, const std::string& kind, const std::string& message,
                 std::optional<int> attempt, std::string_view data_json);
  journal::EventRecord EventRow(const std::string& step, const std::string& kind, const std::string& message,
                                std::optional<int> attempt, std::string_view data_json) const;
  boost::asio::awaitable<bool> Begin();
  bool InitValues();
  boost::asio::awaitable<void> Abort(const std::string& error);
  boost::asio::awaitable<void> Ticker();
  boost::asio::awaitable<void> End();
  void Wake();
  boost::asio::awaitable<void> WaitForWake();
  Result<std::string> Render(const std::string& text);
  void Schedule();
  void Decide(int s);
  void RecordAttempt(int s, int attempt, StepStatus status, std::optional<int64_t> started,
                     std::optional<int64_t> finished, std::optional<long long> exit_code,
                     const boost::json::object& outputs, const std::string& error,
                     const std::pair<journal::StreamDigest, journal::StreamDigest>* output);
  journal::AttemptRecord AttemptRow(int s, int attempt, StepStatus status, std::optional<int64_t> started,
                                    std::optional<int64_t> finished, std::optional<long long> exit_code,
                                    const boost::json::object& outputs, const std::string& error,
                                    const std::pair<journal::StreamDigest, journal::StreamDigest>* output) const;
  void RecordFinding(const CompiledStep& cs, int attempt, Level level, const std::string& message,
                     const std::string& value, const std::string& threshold);
  void SkipStep(int s, const std::string& reason);
  void FailWithoutRunning(int s, const std::string& error);
  // Remembers the journal's queued_mark() once step `s`'s end is queued.
  void NoteEnded(int s);
  // The mark of the last end the step waited for (its needs; every step so
  // far for a handler block): committed, or its start needs a barrier.
  uint64_t WaitedFor(const CompiledStep& cs) const;
  void FinishStep(int s, StepStatus status, StepOutcome outcome);
  std::vector<std::string> StepEnv(const CompiledStep& cs, int attempt, std::string& error);
  // Applies the step's extraction rules to its text outputs (run_extract.cc);
  // large texts on a worker thread, abandoned when `cancel` fires.
  boost::asio::awaitable<Status> Extract(const CompiledStep& cs, StepOutcome& outcome, const Capture& cap,
                                         CancelSignal& cancel);
  boost::asio::awaitable<void> RunStep(int s);
  // Runs attempts (with retries) until one succeeds or they are used up.
  boost::asio::awaitable<StepStatus> RunAttempts(int s, StepExecutor& executor,
                                                 const std::shared_ptr<CancelSignal>& cancel, StepOutcome& outcome);
  // `repeat:` — whether the step's `until` holds over its latest outcome.
  Result<bool> RepeatSatisfied(const CompiledStep& cs, const StepOutcome& outcome);
  int NextAttempt(int s) { return ++attempts_used_[s]; }
  // --- run_cancel.cc ----------------------------------------------------------
  void CancelRunning(bool include_finally);
  void CancelRun();
  void JournalBroken(const Status& why);
  void WatchSignals();
  void OnSignal(boost::system::error_code ec, int signo);
  void WatchRunTimeout(Millis limit);

  // --- run_approval.cc: approvals and pausing ---------------------------------
  enum class Gate { kProceed, kRejected, kParked, kCancelled, kBroken };
  // Decides whether step `s` may run: decisions in the journal, a prompt,
  // the approval's timeout. kProceed fills `outcome.outputs` with the
  // decision (approved_by, decision, comment, inputs); kRejected sets
  // `outcome.error`.
  boost::asio::awaitable<Gate> ApprovalGate(int s, const ApprovalSpec& spec, int attempt, CancelSignal& cancel,
                                            StepOutcome& outcome);
  boost::asio::awaitable<std::optional<ApprovalAnswer>> Ask(const ApprovalQuestion& q, std::optional<Millis> limit,
                                                            CancelSignal& cancel);
  // The step stays `waiting` in the journal; the run pauses once nothing
  // else can run.
  void Park(int s, int attempt, const boost::json::object& outputs, const std::string& why);
  void CancelParked();
  std::optional<ApprovalSpec> ApprovalOf(const CompiledStep& cs) const;

  // --- run_children.cc: resume and child runs -------------------------------
  boost::asio::awaitable<bool> BeginResume();
  Status LoadPrior();
  void RestoreSteps();

  boost::asio::io_context& io_;
  journal::Journal& journal_;
  const ExecutorRegistry& executors_;
  ProgressSink* progress_;
  const RunRequest& req_;
  const CompiledRunbook& rb_;
  Plan plan_;
  ValueContext values_;
  Masker masker_;
  std::vector<std::string> short_secrets_;
  int max_parallel_ = 1;
  std::string actor_;
  std::string run_id_;
  std::string incident_;
  std::chrono::system_clock::time_point started_;
  std::deque<int> launch_queue_;
  std::unordered_map<int, std::shared_ptr<CancelSignal>> running_;
  std::vector<int> attempts_used_;  // per step: the highest attempt number journaled
  // Per step: the journal's queued_mark() after its end was queued
  // (NoteEnded); and the latest of those.
  std::vector<uint64_t> ended_mark_;
  uint64_t last_end_mark_ = 0;
  std::map<int, int> parked_;       // step -> attempt, waiting for a decision from outside
  std::unordered_map<std::string, PriorStep> prior_;  // resume: by step id
  // What every step's environment starts from, built on the first step: the
  // engine's own environment minus RUNBOOK_*, the runbook's env, and the
  // run's RUNBOOK_* variables (run_vars_), as "KEY=VALUE" sorted by key.
  std::vector<std::string> run_env_;
  std::vector<std::pair<std::string, std::string>> run_vars_;
  bool run_env_ready_ = false;
  boost::asio::steady_timer wake_;
  bool woken_ = false;
  boost::asio::steady_timer run_timer_;
  boost::asio::signal_set signals_;
  int signal_ = 0;
  bool timed_out_ = false;
  bool journal_broken_ = false;
  Status journal_broken_reason_;  // what JournalBroken was told
  bool ended_ = false;
  bool cancelled_by_parent_ = false;
  int restored_ = 0;  // resume: steps that kept their results
  std::string failing_finding_;  // the first finding at or above fail_on
  boost::json::array findings_;  // so far, masked (for RunSoFar)
  boost::asio::steady_timer* ticker_ = nullptr;
  // The journal's failure watch (Main) and what its posted handler checks
  // for this object's life.
  uint64_t journal_watch_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace runbook::internal
