// `runbook run NAME [-p k=v...] [--param-file F] [--max-parallel N]
//  [--dry-run] [--incident ID] [--yes]`: execute, journal everything, exit
// with the run's outcome (SPEC.md §2).
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <iostream>

#include "cli/cli.h"
#include "cli/plan_view.h"
#include "cli/progress.h"
#include "engine/runner.h"
#include "engine/secrets.h"
#include "journal/journal.h"
#include "steps/process.h"
#include "steps/process_step.h"
#include "steps/registry.h"

namespace runbook::cli {
namespace {

struct Options {
  std::string name;
  std::vector<std::string> params;
  std::string param_file;
  int max_parallel = 0;
  bool dry_run = false;
  std::string incident;
  bool yes = false;
  bool show_output = false;
};

int RunRun(CliEnv& env, const Options& opt) {
  auto rb = env.LoadCompiled(opt.name);
  if (!rb) return kExitUsage;
  auto params = env.ResolveParams(rb->spec, opt.params, opt.param_file);
  if (!params) return kExitUsage;
  if (opt.dry_run) {
    ShowPlan(*rb, *params, env.globals.json, env.out);
    return kExitOk;
  }
  Diagnostics secret_diags;
  auto secrets = ResolveSecrets(rb->spec, secret_diags);
  env.PrintDiagnostics(secret_diags);
  if (secret_diags.has_errors()) return kExitUsage;
  if (opt.max_parallel < 0) {
    env.Error("--max-parallel must be at least 1");
    return kExitUsage;
  }

  auto journal = env.OpenJournal();
  if (!journal) return kExitFailed;

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

  bool live = isatty(STDERR_FILENO) && &env.err == &std::cerr;
  TerminalProgress progress(env.err, live, env.color(), opt.show_output || env.globals.verbose);
  Runner runner(io, *journal, executors, &progress);
  RunRequest req;
  req.runbook = &*rb;
  req.params = *params;
  req.secrets = std::move(secrets.values);
  req.missing_secrets = std::move(secrets.missing);
  req.incident = opt.incident;
  req.max_parallel = opt.max_parallel;
  RunSummary summary = runner.Run(req);
  Status closed = journal->Close();
  if (!closed.ok() && summary.error.empty()) summary.error = closed.message();

  std::string status(journal::ToString(summary.status));
  if (env.globals.json) {
    boost::json::object o = {{"run_id", summary.run_id}, {"status", status}, {"exit_code", summary.exit_code},
                             {"error", summary.error}, {"outputs", summary.outputs},
                             {"journal", journal->path()}};
    env.out << boost::json::serialize(o) << "\n";
  } else {
    env.err << "run " << summary.run_id << " " << status << (summary.error.empty() ? "" : ": " + summary.error)
            << "\n";
    for (const auto& [k, v] : summary.outputs)
      env.err << "  output " << std::string(k) << " = " << boost::json::serialize(v) << "\n";
    env.err << "journal: " << journal->path() << "  (details: runbook show " << summary.run_id << ")\n";
    env.out << summary.run_id << "\n";
  }
  return summary.exit_code;
}

}  // namespace

void RegisterRun(CLI::App& app, CliEnv& env) {
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("run", "Execute a runbook; every action and output goes to the journal");
  cmd->add_option("name", opt->name, "Runbook name or file")->required();
  cmd->add_option("-p,--param", opt->params, "Parameter value KEY=VALUE (repeatable)");
  cmd->add_option("--param-file", opt->param_file, "YAML or JSON file of parameter values");
  cmd->add_option("--max-parallel", opt->max_parallel, "Steps running at once (default: number of CPUs)");
  cmd->add_flag("--dry-run", opt->dry_run, "Show the plan and run nothing");
  cmd->add_option("--incident", opt->incident, "Incident id to file this run under (default: the run's id)");
  cmd->add_flag("--yes", opt->yes, "Assume yes where the run would ask");
  cmd->add_flag("--show-output", opt->show_output, "Echo step output as it arrives");
  cmd->callback([&env, opt] { env.exit_code = RunRun(env, *opt); });
}

}  // namespace runbook::cli
