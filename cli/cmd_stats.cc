// `runbook stats [--since 7d] [--until T] [--runbook NAME] [--json]`: what the
// journal says about a period, per runbook (journal/stats.h computes it).
#include <boost/json.hpp>
#include <chrono>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "cli/cli.h"
#include "engine/json_text.h"
#include "engine/values.h"
#include "journal/stats.h"

namespace runbook::cli {
namespace {

struct StatsCliOptions {
  std::string since = "7d";
  std::string until;
  std::string runbook;
};

std::string Time(int64_t us) { return IsoUtcMicros(us); }

// Microseconds to milliseconds, rounded half up.
int64_t Ms(int64_t us) { return us >= 0 ? (us + 500) / 1000 : -((-us + 500) / 1000); }

std::string Dur(int64_t us) { return FormatDuration(Millis(Ms(us))); }

int64_t Get(const std::map<std::string, int64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

boost::json::object CountsJson(const std::map<std::string, int64_t>& m) {
  boost::json::object o;
  for (const auto& [k, n] : m) o[k] = n;
  return o;
}

boost::json::object BookJson(const journal::RunbookStats& b) {
  boost::json::object d = {{"finished", b.duration.count}};
  if (b.duration.count) {
    d["avg"] = Ms(b.duration.avg_us);
    d["p50"] = Ms(b.duration.p50_us);
    d["p95"] = Ms(b.duration.p95_us);
    d["min"] = Ms(b.duration.min_us);
    d["max"] = Ms(b.duration.max_us);
  } else {
    for (const char* k : {"avg", "p50", "p95", "min", "max"}) d[k] = nullptr;
  }
  return {{"runbook", b.runbook},
          {"runs", b.runs},
          {"by_status", CountsJson(b.by_status)},
          {"by_trigger", CountsJson(b.by_trigger)},
          {"duration_ms", std::move(d)},
          {"findings", CountsJson(b.findings)},
          {"approvals", {{"approved", b.approved}, {"rejected", b.rejected}}}};
}

void Row(std::ostream& out, const journal::RunbookStats& b, const std::string& name) {
  int64_t ok = Get(b.by_status, "succeeded"), failed = Get(b.by_status, "failed");
  auto d = [&](int64_t us) { return b.duration.count ? Dur(us) : std::string("-"); };
  out << std::left << std::setw(28) << name << std::right << std::setw(6) << b.runs << std::setw(6) << ok
      << std::setw(6) << failed << std::setw(7) << (b.runs - ok - failed) << std::setw(9) << d(b.duration.avg_us)
      << std::setw(9) << d(b.duration.p50_us) << std::setw(9) << d(b.duration.p95_us) << std::setw(6)
      << Get(b.findings, "info") << std::setw(6) << Get(b.findings, "warning") << std::setw(6)
      << Get(b.findings, "critical") << std::setw(6) << b.approved << std::setw(6) << b.rejected << "\n";
}

void TriggerRow(std::ostream& out, const journal::RunbookStats& b, const std::string& name) {
  out << std::left << std::setw(28) << name << std::right;
  for (const char* t : {"manual", "cron", "child", "resume", "api"}) out << std::setw(8) << Get(b.by_trigger, t);
  out << "\n";
}

int RunStats(CliEnv& env, const StatsCliOptions& opt) {
  journal::StatsOptions o;
  o.runbook = opt.runbook;
  if (!opt.since.empty() && opt.since != "all") {
    auto t = ParseTimeArg(opt.since);
    if (!t.ok()) {
      env.Error("--since: " + t.status().message());
      return kExitUsage;
    }
    o.since_us = *t;
  }
  if (!opt.until.empty()) {
    auto t = ParseTimeArg(opt.until);
    if (!t.ok()) {
      env.Error("--until: " + t.status().message());
      return kExitUsage;
    }
    o.until_us = *t;
  }
  auto j = env.OpenJournal();  // creates a missing journal, marks stale runs
  if (!j) return kExitFailed;
  auto stats = journal::ComputeStats(j->path(), o);
  if (!stats.ok()) {
    env.Error(stats.status().message());
    return kExitFailed;
  }
  const journal::StatsReport& s = *stats;
  if (env.globals.json) {
    boost::json::array books;
    for (const auto& b : s.runbooks) books.push_back(BookJson(b));
    boost::json::object total = BookJson(s.total);
    total.erase("runbook");
    boost::json::object out = {
        {"schema", 1},
        {"since", o.since_us ? boost::json::value(Time(*o.since_us)) : nullptr},
        {"until", o.until_us ? boost::json::value(Time(*o.until_us)) : nullptr},
        {"runbook", opt.runbook.empty() ? boost::json::value(nullptr) : boost::json::value(opt.runbook)},
        {"runbooks", std::move(books)},
        {"total", std::move(total)},
        {"incidents",
         {{"count", s.incidents.count},
          {"resolved", s.incidents.resolved},
          {"mttr_ms", s.incidents.resolved ? boost::json::value(Ms(s.incidents.mttr_us)) : nullptr}}}};
    env.out << JsonText(out) << "\n";
    return kExitOk;
  }
  env.out << "Runs started " << (o.since_us ? "from " + Time(*o.since_us) : std::string("at any time"))
          << (o.until_us ? " until " + Time(*o.until_us) : std::string(" until now"))
          << (opt.runbook.empty() ? "" : ", runbook " + opt.runbook) << "\n\n";
  if (s.runbooks.empty()) {
    env.out << "no runs\n";
    return kExitOk;
  }
  env.out << std::left << std::setw(28) << "RUNBOOK" << std::right << std::setw(6) << "RUNS" << std::setw(6) << "OK"
          << std::setw(6) << "FAIL" << std::setw(7) << "OTHER" << std::setw(9) << "AVG" << std::setw(9) << "P50"
          << std::setw(9) << "P95" << std::setw(6) << "INFO" << std::setw(6) << "WARN" << std::setw(6) << "CRIT"
          << std::setw(6) << "APPR" << std::setw(6) << "REJ" << "\n";
  for (const auto& b : s.runbooks) Row(env.out, b, b.runbook);
  if (s.runbooks.size() > 1) Row(env.out, s.total, "(total)");
  env.out << "\n" << std::left << std::setw(28) << "TRIGGERS" << std::right;
  for (const char* t : {"MANUAL", "CRON", "CHILD", "RESUME", "API"}) env.out << std::setw(8) << t;
  env.out << "\n";
  for (const auto& b : s.runbooks) TriggerRow(env.out, b, b.runbook);
  env.out << "\nOTHER = cancelled, interrupted, running or waiting; durations are of finished runs.\n";
  env.out << "Incidents: " << s.incidents.count << " (" << s.incidents.resolved << " resolved)";
  if (s.incidents.resolved) env.out << ", mean time to recovery " << Dur(s.incidents.mttr_us);
  env.out << "\n";
  return kExitOk;
}

}  // namespace

void RegisterStats(CLI::App& app, CliEnv& env) {
  auto opt = std::make_shared<StatsCliOptions>();
  auto* cmd = app.add_subcommand("stats", "Activations, outcomes, durations, findings per runbook");
  cmd->add_option("--since", opt->since, "Runs started since (2h, 7d, or ISO-8601; default 7d; 'all': no limit)");
  cmd->add_option("--until", opt->until, "Runs started before (2h, 7d, or ISO-8601; default now)");
  cmd->add_option("--runbook", opt->runbook, "Only this runbook");
  cmd->callback([&env, opt] { env.exit_code = RunStats(env, *opt); });
}

}  // namespace runbook::cli
