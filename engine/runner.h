// Runner: executes one run of a compiled runbook — the scheduler loop of
// SPEC.md §5. One io_context on the calling thread; each step attempt is a
// coroutine; the synchronous Plan (plan.h) decides what is ready; executors
// (executor.h) do the work; every transition is journaled and made durable
// (Journal::Sync) before the engine acts on it. Handles SIGINT/SIGTERM:
// running steps are cancelled, `finally` runs, the run ends `cancelled`.
// Heavy headers stay in runner.cc. One Runner per run; not thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <vector>
#include <string>

#include "engine/compiler.h"
#include "engine/duration.h"
#include "engine/executor.h"
#include "engine/plan.h"
#include "journal/journal.h"

namespace boost::asio {
class io_context;
}

namespace runbook {

// What a person watching the run sees; the CLI implements it (a live status
// on a terminal, timestamped lines otherwise). Called on the run's thread.
// Text given here is already masked.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void RunStarted(const std::string& run_id, const CompiledRunbook& rb) = 0;
  virtual void StepStarted(const CompiledStep& step, int attempt) = 0;
  virtual void StepOutput(const CompiledStep& step, OutputStream stream, std::string_view data) = 0;
  virtual void StepFinished(const CompiledStep& step, int attempt, StepStatus status, Millis duration,
                            const std::string& error) = 0;
  virtual void StepSkipped(const CompiledStep& step, const std::string& reason) = 0;
  virtual void Retrying(const CompiledStep& step, int next_attempt, Millis delay) = 0;
  virtual void Notice(const std::string& message) = 0;
  // Called about once a second while steps run (to refresh elapsed times).
  virtual void Tick() {}
};

// A human decision asked for on a terminal (or answered in advance by
// --yes). Ask() is called on the run's thread and must not block it: the
// answer comes later through `done`, on any thread (the runner posts it
// back). The CLI implements it; without one, an approval pauses the run.
struct ApprovalQuestion {
  std::string run_id;
  std::string step_id;
  std::string prompt;
  std::vector<std::string> approvers;  // empty: anyone
  std::vector<ParamSpec> inputs;
  int min_approvals = 1;
  std::vector<std::string> approved_by;  // decisions so far
};
struct ApprovalAnswer {
  bool answered = false;  // false: nobody here may or can decide; the run waits
  bool approved = false;
  std::string approver;   // the name decided with
  boost::json::object inputs;
  std::string comment;
  std::string why_not;    // when !answered, for the timeline
};
class ApprovalPrompter {
 public:
  virtual ~ApprovalPrompter() = default;
  virtual void Ask(const ApprovalQuestion& question, std::function<void(ApprovalAnswer)> done) = 0;
};

// What a child run needs that only the caller knows: the catalog, the site
// profile, the secrets. Returns the compiled child with its validated
// parameters, or the problems as one message.
struct ChildRunbook {
  std::shared_ptr<const CompiledRunbook> runbook;
  boost::json::object params;
  std::map<std::string, std::string> secrets;
  std::map<std::string, std::string> missing_secrets;
};
// `caller_path`: the calling runbook's file; its directory is searched
// before the catalog (docs/runbook-format.md, `runbook`).
using ChildRunbookLoader = std::function<Result<ChildRunbook>(
    const std::string& name, const boost::json::object& params, const std::string& caller_path)>;

struct RunRequest {
  const CompiledRunbook* runbook = nullptr;
  boost::json::object params;
  std::map<std::string, std::string> secrets;  // name -> value
  std::map<std::string, std::string> missing_secrets;  // name -> why it has no value
  journal::Trigger trigger = journal::Trigger::kManual;
  std::string incident;    // "" = the run's own id
  std::string parent_run;  // "" = none
  std::string actor;       // "" = user@host of this process
  int max_parallel = 0;    // 0 = number of CPUs
  Millis kill_grace{std::chrono::seconds(10)};
  bool handle_signals = true;  // SIGINT/SIGTERM cancel the run
  // Resume (SPEC.md §2 `runbook resume`): continue this run instead of
  // starting one. Steps whose last attempt succeeded keep their results
  // (read back from the journal) unless they are `resume_from` or downstream
  // of it; everything else runs again, attempt numbers continuing.
  std::string resume_run_id;
  std::string new_run_id;      // "" = generate (a new run's id, when the caller needs it first)
  std::string resume_from;     // "" = only what did not succeed
  std::string resume_note;     // journaled with the resume (e.g. "runbook changed: ...")
  ApprovalPrompter* prompter = nullptr;  // null: approvals pause the run
  ChildRunbookLoader child_loader;       // unset: `runbook` steps fail
  int depth = 0;                         // nesting of child runs
  std::vector<std::string> ancestors;    // runbook names of the parents (cycle guard)
};

struct RunSummary {
  std::string run_id;
  // kWaiting: paused for an approval (exit code 3); `waiting_steps` says which.
  journal::RunStatus status = journal::RunStatus::kFailed;
  int exit_code = 1;  // SPEC.md §2
  std::string error;
  boost::json::object outputs;
  std::vector<std::string> waiting_steps;
};

class Runner {
 public:
  // `io` is the run's event loop (the executors were built on it); Run()
  // runs it until the run ends.
  Runner(boost::asio::io_context& io, journal::Journal& journal, const ExecutorRegistry& executors,
         ProgressSink* progress)
      : io_(io), journal_(journal), executors_(executors), progress_(progress) {}

  // Runs to the end (or until cancelled) and returns how it ended. The run
  // record exists in the journal before the first step starts.
  RunSummary Run(const RunRequest& request);

 private:
  boost::asio::io_context& io_;
  journal::Journal& journal_;
  const ExecutorRegistry& executors_;
  ProgressSink* progress_;
};

}  // namespace runbook
