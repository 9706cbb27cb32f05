// `runbook run NAME [-p k=v...] [--param-file F] [--max-parallel N]
//  [--dry-run] [--incident ID] [--yes]`: execute, journal everything, exit
// with the run's outcome (SPEC.md §2).
#include "cli/cli.h"
#include "cli/plan_view.h"
#include "cli/run_session.h"
#include "engine/secrets.h"

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
  std::string trigger = "manual";  // hidden: set by the scheduler and by `runbook` steps
  std::string parent;                // hidden: the parent run of a child run
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

  auto trigger = journal::ParseTrigger(opt.trigger);
  if (!trigger) {
    env.Error("--trigger must be manual, cron, child or api, not '" + opt.trigger + "'");
    return kExitUsage;
  }

  auto journal = env.OpenJournal();
  if (!journal) return kExitFailed;
  RunRequest req;
  req.runbook = &*rb;
  req.params = *params;
  req.secrets = std::move(secrets.values);
  req.missing_secrets = std::move(secrets.missing);
  req.incident = opt.incident;
  req.trigger = *trigger;
  req.parent_run = opt.parent;
  if (*trigger == journal::Trigger::kCron) req.actor = "scheduler";  // SPEC.md §6: the scheduler's runs
  req.max_parallel = opt.max_parallel;
  return ExecuteRun(env, *journal, std::move(req), SessionOptions{opt.yes, opt.show_output});
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
  cmd->add_flag("--yes", opt->yes, "Approve approvals this user may give, with their inputs' defaults, without asking");
  cmd->add_flag("--show-output", opt->show_output, "Echo step output as it arrives");
  cmd->add_option("--trigger", opt->trigger, "How the run was started (manual, cron, child, api)")->group("");
  cmd->add_option("--parent", opt->parent, "Parent run id of a child run")->group("");
  cmd->callback([&env, opt] { env.exit_code = RunRun(env, *opt); });
}

}  // namespace runbook::cli
