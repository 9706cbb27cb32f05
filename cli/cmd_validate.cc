// `runbook validate [NAME or FILE...]`: load and compile; every problem as
// `file:line:col: error: message`; exit 2 if any.
#include <boost/json.hpp>
#include <ostream>

#include "cli/cli.h"
#include "engine/calls.h"
#include "engine/json_text.h"
#include "engine/loader.h"

namespace runbook::cli {
namespace {

struct Options {
  std::vector<std::string> targets;
};

boost::json::object DiagnosticJson(const Diagnostic& d) {
  return {{"file", d.loc.FileName()},
          {"line", d.loc.line},
          {"column", d.loc.col},
          {"severity", d.severity == Severity::kError ? "error" : "warning"},
          {"message", d.message}};
}

int RunValidate(CliEnv& env, const Options& opt) {
  std::vector<std::string> paths;
  bool resolve_failed = false;
  if (opt.targets.empty()) {
    for (const auto& f : env.catalog().List()) paths.push_back(f.path);
    if (paths.empty()) {
      env.Error("no runbooks found to validate (give names or files, or set --runbooks)");
      return kExitUsage;
    }
  } else {
    for (const auto& t : opt.targets) {
      auto p = env.catalog().Resolve(t);
      if (!p.ok()) {
        env.Error(p.status().message());
        resolve_failed = true;
        continue;
      }
      paths.push_back(*p);
    }
  }
  int bad = 0;
  boost::json::array results;
  for (const auto& path : paths) {
    Diagnostics diags;
    auto spec = LoadRunbookFile(path, env.types, diags);
    std::optional<CompiledRunbook> compiled;
    if (spec) compiled = Compile(std::move(*spec), env.types, diags);
    if (compiled && !diags.has_errors()) CheckRunbookCalls(*compiled, env.catalog(), env.types, diags);
    diags.SortByLocation();
    if (diags.has_errors()) ++bad;
    if (env.globals.json) {
      boost::json::array list;
      for (const auto& d : diags.all()) list.push_back(DiagnosticJson(d));
      results.push_back({{"file", path}, {"ok", !diags.has_errors()}, {"diagnostics", list}});
    } else {
      env.PrintDiagnostics(diags);
    }
  }
  if (env.globals.json) {
    env.out << JsonText(results) << "\n";
  } else if (bad == 0 && !resolve_failed) {
    env.out << "ok: " << paths.size() << (paths.size() == 1 ? " runbook" : " runbooks") << " valid\n";
  } else if (bad > 0) {
    env.err << bad << " of " << paths.size() << (paths.size() == 1 ? " runbook has" : " runbooks have") << " errors\n";
  }
  return bad > 0 || resolve_failed ? kExitUsage : kExitOk;
}

}  // namespace

void RegisterValidate(CLI::App& app, CliEnv& env) {
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("validate", "Load and compile runbooks; report every problem with its location");
  cmd->add_option("targets", opt->targets, "Runbook names or .yaml files (default: all found)");
  cmd->callback([&env, opt] { env.exit_code = RunValidate(env, *opt); });
}

}  // namespace runbook::cli
