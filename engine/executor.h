// StepExecutor: how one attempt of one step of a given type runs. The engine
// owns the loop (runner.h) and calls the executor registered for the step's
// type; executors live in steps/ (shell.cc, exec.cc, ...). An executor
// renders its fields through StepContext, streams any output through
// StepContext::output, honours StepContext::cancel, and returns an outcome.
// Runs on the run's io_context thread as a coroutine.
//
// Includes only Asio's awaitable header: keep the heavy ones in .cc files.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cancel.h"
#include "engine/compiler.h"
#include "engine/plan.h"
#include "engine/values.h"

namespace runbook {

enum class OutputStream { kStdout, kStderr };

// Where an executor's text output goes: the journal (masked, in timestamped
// chunks, counted and hashed) and a bounded in-memory copy for outputs.
class OutputSinkBase {
 public:
  virtual ~OutputSinkBase() = default;
  // Completes when the data is queued; waits when the journal is behind.
  virtual boost::asio::awaitable<void> Write(OutputStream stream, std::string_view data) = 0;
};

struct StepOutcome {
  // succeeded, failed, timed_out, cancelled, or waiting (a child run paused for an approval)
  StepStatus status = StepStatus::kSucceeded;
  std::optional<long long> exit_code;
  boost::json::object outputs;  // the type's own outputs (extraction rules are applied by the runner)
  std::string error;            // why it failed, for people
  // The step could not start: a value did not render (a secret without a
  // value, an expression error) or a field is invalid. Another attempt would
  // fail the same way, so `retry` does not apply.
  bool permanent = false;
};

// A failure before anything was started (see StepOutcome::permanent).
inline StepOutcome CouldNotStart(std::string error) {
  StepOutcome o{StepStatus::kFailed, std::nullopt, {}, std::move(error)};
  o.permanent = true;
  return o;
}

// Child runs (`runbook` steps, SPEC.md §3): the runner starts another
// runbook as a run of its own on the same event loop and journal, linked to
// this one (parent, same incident). Implemented by the runner.
struct ChildRunRequest {
  std::string runbook;          // a name in the catalog
  boost::json::object params;   // rendered; validated against the child's declaration
  std::string resume_run_id;    // "": start a new run; else resume that child run
};
struct ChildRunResult {
  std::string run_id;           // "" if it never started
  std::string status;           // the child run's status: succeeded, failed, cancelled, waiting
  boost::json::object outputs;  // the child runbook's declared outputs
  std::string error;            // why it failed or never started
};
class ChildRuns {
 public:
  virtual ~ChildRuns() = default;
  // Runs the child to its end (or pause); `cancel` cancels it like a signal would.
  virtual boost::asio::awaitable<ChildRunResult> Run(const ChildRunRequest& request, CancelSignal& cancel) = 0;
};

// The run as it stands while a step runs, for steps that report on it (a
// notify webhook's payload).
struct RunSoFar {
  // "running"; "failing" once the run is bound to fail (a step failed
  // without continue_on_error, a finding reached fail_on, the run timed
  // out); "cancelling" once it is being cancelled.
  std::string status = "running";
  // The findings recorded so far, oldest first, masked as in the journal:
  // {"step", "level" ("info"|"warning"|"critical"), "message", "value", "threshold"}.
  boost::json::array findings;
};

struct StepContext {
  boost::asio::any_io_executor io;
  const CompiledRunbook* runbook = nullptr;
  const CompiledStep* step = nullptr;
  const ValueContext* values = nullptr;  // for rendering ${{ }} in fields
  std::string run_id;
  int attempt = 1;
  // The environment a process of this step starts with (engine's own,
  // runbook env, defaults env, step env, RUNBOOK_* variables): "KEY=VALUE",
  // one per key, sorted by key (engine/env.h: SetEnv adds to it). Built for
  // each attempt; an executor that starts one process may move it away.
  std::vector<std::string> env;
  std::optional<Millis> timeout;  // for this attempt
  Millis kill_grace{std::chrono::seconds(10)};
  CancelSignal* cancel = nullptr;
  OutputSinkBase* output = nullptr;
  // Records a warning on the run's timeline (e.g. tls_verify: false).
  std::function<void(const std::string&)> warn;
  // Records a finding (check steps): journaled, listed by `show` and the
  // exports, and it fails the run when it reaches the runbook's fail_on.
  // `value` and `threshold` as shown to people ("93.5", "> 90"), may be "".
  std::function<void(Level level, const std::string& message, const std::string& value,
                     const std::string& threshold)>
      finding;
  // The run's status and findings at the time of the call (a notify
  // webhook's payload); unset (a test driving an executor alone) reads as
  // "running" without findings.
  std::function<RunSoFar()> run_so_far;

  // Starts child runs (`runbook` steps); null where none can be started.
  ChildRuns* children = nullptr;
  // When this step ran before in the same run (resume): its last outputs.
  const boost::json::object* previous_outputs = nullptr;
  const Node& fields() const { return step->spec->fields; }
};

class StepExecutor {
 public:
  virtual ~StepExecutor() = default;
  virtual boost::asio::awaitable<StepOutcome> Execute(StepContext& ctx) = 0;
};

class ExecutorRegistry {
 public:
  void Add(std::string type, std::unique_ptr<StepExecutor> executor);
  StepExecutor* Find(std::string_view type) const;

 private:
  std::vector<std::pair<std::string, std::unique_ptr<StepExecutor>>> executors_;
};

}  // namespace runbook
