#include "cli/run_session.h"

#include "cli/pending.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <sstream>

#include "cli/concurrency.h"
#include "cli/progress.h"
#include "cli/prompter.h"
#include "engine/calls.h"
#include "engine/json_text.h"
#include "engine/secrets.h"
#include "engine/yaml_reader.h"
#include "journal/identity.h"
#include "steps/process.h"
#include "steps/process_step.h"
#include "steps/registry.h"

namespace runbook::cli {
namespace {

// Loads a child runbook for a `runbook` step: catalog, compile, parameters
// (site profile, then the step's params, checked strictly), secrets.
ChildRunbookLoader MakeChildLoader(CliEnv& env) {
  return [&env](const std::string& name, const boost::json::object& params,
                const std::string& caller_path) -> Result<ChildRunbook> {
    auto path = CallCatalog(env.catalog(), caller_path).Resolve(name);
    if (!path.ok()) return path.status();
    auto compiled = env.LoadCompiled(*path);
    if (!compiled) return Status::InvalidArgument("runbook '" + name + "' cannot be loaded (see the errors above)");
    ChildRunbook child;
    child.runbook = std::make_shared<const CompiledRunbook>(std::move(*compiled));
    Diagnostics diags;
    auto node = ReadYaml(JsonText(params),
                         std::make_shared<const std::string>("params of the step that runs " + name), diags);
    auto values = env.ResolveParams(child.runbook->spec, {}, "", node ? &*node : nullptr);
    if (!values) return Status::InvalidArgument("parameters for runbook '" + name + "' are invalid (see above)");
    child.params = std::move(*values);
    auto secrets = ResolveSecrets(child.runbook->spec, diags);
    env.PrintDiagnostics(diags);
    if (diags.has_errors()) return Status::InvalidArgument("secrets of runbook '" + name + "' are invalid (see above)");
    child.secrets = std::move(secrets.values);
    child.missing_secrets = std::move(secrets.missing);
    return child;
  };
}

}  // namespace

int ExecuteRun(CliEnv& env, journal::Journal& journal, RunRequest req, const SessionOptions& opt) {
  const CompiledRunbook& rb = *req.runbook;
  // One run per concurrency group at a time (across processes).
  std::unique_ptr<GroupLock> lock;
  if (rb.spec.concurrency && rb.spec.concurrency->policy != ConcurrencyPolicy::kAllow) {
    const ConcurrencySpec& c = *rb.spec.concurrency;
    std::string holder;
    auto on_wait = [&](const std::string& h) {
      env.err << "runbook: waiting for concurrency group '" << c.group << "' (held by " << h << ")\n";
      journal::EventRecord e;
      e.run_id = req.resume_run_id;
      e.kind = "run_queued";
      e.actor = journal::LocalActor();
      e.message = "run of " + rb.spec.name + " waits for concurrency group '" + c.group + "', held by " + h;
      e.data_json = JsonText(boost::json::object{{"runbook", rb.spec.name}, {"group", c.group}});
      journal.AppendEvent(std::move(e));
      (void)journal.SyncBlocking();
    };
    // The run's id is known before the lock is taken, so that whoever finds
    // the group busy is told which run holds it.
    if (req.resume_run_id.empty() && req.new_run_id.empty()) req.new_run_id = journal::NewRunId();
    const std::string me =
        "run " + (req.resume_run_id.empty() ? req.new_run_id : req.resume_run_id) + " of " + rb.spec.name;
    auto acquired = GroupLock::Acquire(journal.path(), c, me, on_wait, holder);
    if (!acquired.ok()) {
      env.Error(acquired.status().message());
      return kExitFailed;
    }
    lock = std::move(*acquired);
    if (!lock) {
      const bool skip = c.policy == ConcurrencyPolicy::kSkip;
      std::string message = "run of " + rb.spec.name + (skip ? " skipped" : " refused") + ": concurrency group '" +
                            c.group + "' is busy (held by " + holder + ", policy: " +
                            ConcurrencyPolicyName(c.policy) + ")";
      journal::EventRecord e;
      e.run_id = req.resume_run_id;
      e.kind = skip ? "run_skipped" : "run_refused";
      e.actor = journal::LocalActor();
      e.message = message;
      e.data_json = JsonText(
          boost::json::object{{"runbook", rb.spec.name}, {"group", c.group}, {"holder", holder},
                              {"policy", ConcurrencyPolicyName(c.policy)}});
      journal.AppendEvent(std::move(e));
      Status closed = journal.Close();
      if (!closed.ok()) env.Error(closed.message());
      if (env.globals.json) {
        env.out << JsonText(boost::json::object{
                       {"run_id", nullptr}, {"status", skip ? "skipped" : "refused"}, {"error", message}})
                << "\n";
      } else {
        env.err << "runbook: " << message << "\n";
      }
      return skip ? kExitOk : kExitFailed;
    }
  }

  boost::asio::io_context io(1);
  auto launcher = steps::MakePosixProcessLauncher(io.get_executor());
  ExecutorRegistry executors;
  executors.Add("shell", steps::MakeShellExecutor(*launcher));
  executors.Add("exec", steps::MakeExecExecutor(*launcher));
  executors.Add("sql", steps::MakeSqlExecutor());
  executors.Add("check", steps::MakeCheckExecutor());
  executors.Add("wait", steps::MakeWaitExecutor());
  executors.Add("http", steps::MakeHttpExecutor());
  executors.Add("notify", steps::MakeNotifyExecutor(*launcher));
  executors.Add("runbook", steps::MakeRunbookExecutor());

  const bool terminal = &env.err == &std::cerr && isatty(STDERR_FILENO);
  const bool interactive = terminal && isatty(STDIN_FILENO);
  TerminalProgress progress(env.err, terminal, env.color(), opt.show_output || env.globals.verbose);
  TerminalPrompter prompter(std::cin, env.err, interactive, opt.yes, &progress, journal::UserName());
  req.prompter = &prompter;
  req.child_loader = MakeChildLoader(env);
  Runner runner(io, journal, executors, &progress);
  RunSummary summary = runner.Run(req);
  // Where each waiting step's decision is made (a `runbook` step's is in its
  // child run), read while the journal is open; the records are committed.
  std::vector<std::string> hints;
  boost::json::array decisions;
  for (const auto& step : summary.waiting_steps) {
    std::vector<PendingDecision> pending = PendingDecisions(journal, summary.run_id, step);
    hints.push_back(DecideHint(pending, summary.run_id, step));
    for (const auto& p : pending) decisions.push_back({{"run_id", p.run_id}, {"step", p.step}});
  }
  Status closed = journal.Close();
  if (!closed.ok() && summary.error.empty()) summary.error = closed.message();

  std::string status(journal::ToString(summary.status));
  if (env.globals.json) {
    boost::json::object o = {{"run_id", summary.run_id}, {"status", status},   {"exit_code", summary.exit_code},
                             {"error", summary.error},   {"outputs", summary.outputs}, {"journal", journal.path()}};
    if (!summary.waiting_steps.empty()) {
      o["waiting"] = boost::json::value_from(summary.waiting_steps);
      o["decisions"] = std::move(decisions);
    }
    env.out << JsonText(o) << "\n";
  } else {
    // Composed first and written at once: std::cerr writes each piece, and
    // another process's output on the same terminal could land in between.
    std::ostringstream text;
    text << "run " << summary.run_id << " " << status << (summary.error.empty() ? "" : ": " + summary.error)
         << "\n";
    for (const auto& [k, v] : summary.outputs)
      text << "  output " << std::string(k) << " = " << JsonText(v) << "\n";
    for (size_t i = 0; i < summary.waiting_steps.size(); ++i)
      text << "  waiting: " << summary.waiting_steps[i] << "  (decide: " << hints[i] << ")\n";
    text << "journal: " << journal.path() << "  (details: runbook show " << summary.run_id << ")\n";
    env.err << text.str() << std::flush;
    env.out << summary.run_id << "\n";
  }
  return summary.exit_code;
}

}  // namespace runbook::cli
