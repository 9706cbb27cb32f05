// `runbook cron next EXPR [--tz TZ] [--from TIME] [--count N]`: the next fire
// times of a cron expression, ISO-8601 with offset, one a line.
// `runbook cron export [--format crontab|systemd] [--output-dir DIR]`: the
// runbooks' cron triggers as crontab lines or systemd units (sched/export.h).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "cli/cli.h"
#include "engine/cron.h"
#include "journal/path.h"
#include "sched/export.h"
#include "sched/triggers.h"

namespace runbook::cli {
namespace {

struct NextOptions {
  std::string expr;
  std::string tz;
  std::string from;
  int count = 5;
};

int RunNext(CliEnv& env, const NextOptions& opt) {
  auto expr = cron::ParseCron(opt.expr);
  if (!expr.ok()) {
    env.Error("invalid cron expression '" + opt.expr + "': " + expr.status().message());
    return kExitUsage;
  }
  auto zone = cron::LocateZone(opt.tz);
  if (!zone.ok()) {
    env.Error(zone.status().message());
    return kExitUsage;
  }
  using namespace std::chrono;
  sys_seconds from = time_point_cast<seconds>(system_clock::now());
  if (!opt.from.empty()) {
    auto t = ParseTimeArg(opt.from);
    if (!t.ok()) {
      env.Error(t.status().message());
      return kExitUsage;
    }
    from = sys_seconds(seconds(*t / 1000000));
  }
  if (opt.count < 1 || opt.count > 10000) {
    env.Error("--count must be between 1 and 10000");
    return kExitUsage;
  }
  auto fires = cron::NextFires(*expr, *zone, from, opt.count);
  if (fires.empty()) {
    env.Error("'" + opt.expr + "' never fires (within ten years of " + cron::FormatIso(from, *zone) + ")");
    return kExitFailed;
  }
  for (auto t : fires) env.out << cron::FormatIso(t, *zone) << "\n";
  return kExitOk;
}

struct ExportOptions {
  std::string format = "crontab";
  std::string output_dir;
  std::string binary;
};

std::string Absolute(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// The absolute path of this binary.
std::string SelfPath() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "runbook" : p.string();
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return Status::IoError("cannot write " + path);
  return Status::Ok();
}

int RunExport(CliEnv& env, const ExportOptions& opt) {
  if (opt.format != "crontab" && opt.format != "systemd") {
    env.Error("--format must be crontab or systemd, not '" + opt.format + "'");
    return kExitUsage;
  }
  std::vector<std::string> dirs;
  Catalog configured = env.catalog();  // (a temporary's dirs() would dangle in the loop)
  for (const auto& d : configured.dirs()) dirs.push_back(Absolute(d));
  Catalog catalog(dirs);
  sched::TriggerSet set = sched::LoadTriggers(catalog, env.types);
  for (const auto& p : set.problems) env.err << p << "\n";
  if (!set.problems.empty()) {
    env.Error("some runbooks have errors; fix them first (their triggers would be missing from the export)");
    return kExitUsage;
  }
  sched::ExportOptions options;
  options.command.binary = opt.binary.empty() ? SelfPath() : Absolute(opt.binary);
  options.command.journal = Absolute(env.globals.journal.empty() ? journal::DefaultJournalPath() : env.globals.journal);
  for (const auto& d : dirs) options.command.runbooks += (options.command.runbooks.empty() ? "" : ":") + d;
  if (!env.globals.site.empty()) options.command.site = Absolute(env.globals.site);
  options.now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

  std::vector<sched::UnitFile> files;
  if (opt.format == "crontab")
    files.push_back({"runbook.crontab", sched::CrontabText(set.triggers, options)});
  else
    files = sched::SystemdUnits(set.triggers, options);

  if (opt.output_dir.empty()) {
    if (opt.format == "crontab") {
      env.out << files.front().text;
      return kExitOk;
    }
    if (files.empty()) env.err << "runbook: no runbook has a schedule\n";
    bool first = true;
    for (const auto& f : files) {
      env.out << (first ? "" : "\n") << "# ==> " << f.name << " <==\n" << f.text;
      first = false;
    }
    return kExitOk;
  }
  std::error_code ec;
  std::filesystem::create_directories(opt.output_dir, ec);
  if (ec) {
    env.Error("cannot create " + opt.output_dir + ": " + ec.message());
    return kExitFailed;
  }
  for (const auto& f : files) {
    std::string path = (std::filesystem::path(opt.output_dir) / f.name).string();
    if (Status s = WriteFile(path, f.text); !s.ok()) {
      env.Error(s.message());
      return kExitFailed;
    }
    env.out << path << "\n";
  }
  if (files.empty()) env.err << "runbook: no runbook has a schedule; nothing written\n";
  return kExitOk;
}

}  // namespace

void RegisterCron(CLI::App& app, CliEnv& env) {
  auto* cron = app.add_subcommand("cron", "Cron expressions: next fire times; export to crontab or systemd");
  cron->require_subcommand(1);
  auto opt = std::make_shared<NextOptions>();
  auto* next = cron->add_subcommand("next", "Next fire times of a cron expression, one a line");
  next->add_option("expr", opt->expr, "Cron expression, e.g. '0 8 * * *' or @daily")->required();
  next->add_option("--tz", opt->tz, "IANA time zone (default: the system's)");
  next->add_option("--from", opt->from, "Start after this time (ISO-8601; default now)");
  next->add_option("--count", opt->count, "How many (default 5)");
  next->callback([&env, opt] { env.exit_code = RunNext(env, *opt); });

  auto ex = std::make_shared<ExportOptions>();
  auto* exp = cron->add_subcommand("export", "The runbooks' cron triggers as crontab lines or systemd units");
  exp->add_option("--format", ex->format, "crontab (default) or systemd")
      ->check(CLI::IsMember({"crontab", "systemd"}));
  exp->add_option("--output-dir", ex->output_dir,
                  "Write the files here (runbook.crontab, or one .service and .timer per trigger) "
                  "instead of printing them");
  exp->add_option("--binary", ex->binary, "The runbook binary the jobs run (default: this one)");
  exp->callback([&env, ex] { env.exit_code = RunExport(env, *ex); });
}

}  // namespace runbook::cli
