// `runbook schedule [--once] [--on-stop cancel|wait]`: the scheduler daemon
// (sched/daemon.h, docs/scheduling.md). Opens the journal, then hands over to
// the daemon; every run it starts is a child `runbook run` of this binary.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "cli/cli.h"
#include "sched/daemon.h"
#include "sched/slot_store.h"

namespace runbook::cli {
namespace {

struct Options {
  bool once = false;
  std::string on_stop = "cancel";
};

std::string Absolute(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

int RunSchedule(CliEnv& env, const Options& opt) {
  spdlog::set_level(env.globals.verbose ? spdlog::level::debug : spdlog::level::info);
  auto journal = env.OpenJournal();
  if (!journal) return kExitFailed;
  auto store = sched::SlotStore::Open(journal->path());
  if (!store.ok()) {
    env.Error(store.status().message());
    return kExitFailed;
  }
  // Absolute directories, so that the daemon and its children find the same
  // files whatever their working directory.
  std::vector<std::string> dirs;
  Catalog configured = env.catalog();  // (a temporary's dirs() would dangle in the loop)
  for (const auto& d : configured.dirs()) dirs.push_back(Absolute(d));
  Catalog catalog(dirs);

  sched::DaemonOptions options;
  options.once = opt.once;
  options.on_stop = opt.on_stop == "wait" ? sched::OnStop::kWait : sched::OnStop::kCancel;
  options.child.binary = "/proc/self/exe";
  options.child.journal = Absolute(journal->path());
  for (const auto& d : dirs) options.child.runbooks += (options.child.runbooks.empty() ? "" : ":") + d;
  if (!env.globals.site.empty()) options.child.site = Absolute(env.globals.site);

  int code = sched::RunDaemon(options, catalog, env.types, *journal, **store);
  Status closed = journal->Close();
  if (!closed.ok()) {
    env.Error(closed.message());
    return kExitFailed;
  }
  return code;
}

}  // namespace

void RegisterSchedule(CLI::App& app, CliEnv& env) {
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("schedule", "The scheduler daemon: fires the runbooks' cron triggers");
  cmd->add_flag("--once", opt->once, "Fire what is due now, wait for those runs, and exit (for tests and cron)");
  cmd->add_option("--on-stop", opt->on_stop,
                  "On SIGTERM/SIGINT: cancel the running runs (default) or wait for them")
      ->check(CLI::IsMember({"cancel", "wait"}));
  cmd->callback([&env, opt] { env.exit_code = RunSchedule(env, *opt); });
}

}  // namespace runbook::cli
