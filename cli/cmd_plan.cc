// `runbook plan NAME [-p k=v...] [--param-file F]`: the compiled DAG in
// execution order, with resolved parameters and conditions; runs nothing.
#include <boost/json.hpp>
#include <ostream>

#include "cli/cli.h"
#include "cli/plan_view.h"

namespace runbook::cli {
namespace {

struct Options {
  std::string name;
  std::vector<std::string> params;
  std::string param_file;
};

int RunPlan(CliEnv& env, const Options& opt) {
  auto rb = env.LoadCompiled(opt.name);
  if (!rb) return kExitUsage;
  auto params = env.ResolveParams(rb->spec, opt.params, opt.param_file);
  if (!params) return kExitUsage;
  ShowPlan(*rb, *params, env.globals.json, env.out);
  return kExitOk;
}

}  // namespace

void RegisterPlan(CLI::App& app, CliEnv& env) {
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("plan", "Show what a run would do, in execution order; executes nothing");
  cmd->add_option("name", opt->name, "Runbook name or file")->required();
  cmd->add_option("-p,--param", opt->params, "Parameter value KEY=VALUE (repeatable)");
  cmd->add_option("--param-file", opt->param_file, "YAML or JSON file of parameter values");
  cmd->callback([&env, opt] { env.exit_code = RunPlan(env, *opt); });
}

}  // namespace runbook::cli
