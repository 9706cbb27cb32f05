// `runbook cron next EXPR [--tz TZ] [--from TIME] [--count N]`: the next fire
// times of a cron expression, ISO-8601 with offset, one a line.
#include <chrono>
#include <ostream>

#include "cli/cli.h"
#include "engine/cron.h"

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

}  // namespace

void RegisterCron(CLI::App& app, CliEnv& env) {
  auto* cron = app.add_subcommand("cron", "Cron expressions: next fire times");
  cron->require_subcommand(1);
  auto opt = std::make_shared<NextOptions>();
  auto* next = cron->add_subcommand("next", "Next fire times of a cron expression, one a line");
  next->add_option("expr", opt->expr, "Cron expression, e.g. '0 8 * * *' or @daily")->required();
  next->add_option("--tz", opt->tz, "IANA time zone (default: the system's)");
  next->add_option("--from", opt->from, "Start after this time (ISO-8601; default now)");
  next->add_option("--count", opt->count, "How many (default 5)");
  next->callback([&env, opt] { env.exit_code = RunNext(env, *opt); });
}

}  // namespace runbook::cli
