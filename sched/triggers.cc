#include "sched/triggers.h"

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <map>

#include "engine/compiler.h"
#include "engine/diagnostics.h"
#include "engine/loader.h"
#include "engine/step_type.h"

namespace runbook::sched {

std::string ScheduledTrigger::Describe() const {
  return runbook + "[" + std::to_string(index) + "] '" + cron + "' (" + cron::ZoneName(tz) + ")";
}

std::string ParamText(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}

namespace {

std::string TriggerKey(const ScheduleSpec& s) {
  std::string key = s.cron + " tz=" + (s.timezone.empty() ? "system" : s.timezone);
  if (!s.params.empty()) {
    // Keys sorted, so that reordering the YAML does not make a new trigger.
    std::map<std::string, boost::json::value> sorted;
    for (const auto& [k, v] : s.params) sorted.emplace(std::string(k), v);
    boost::json::object o;
    for (auto& [k, v] : sorted) o[k] = v;
    key += " params=" + boost::json::serialize(o);
  }
  return key;
}

}  // namespace

TriggerSet LoadTriggers(const Catalog& catalog, const StepTypeRegistry& types) {
  TriggerSet set;
  for (const RunbookFile& file : catalog.List()) {
    ++set.runbooks;
    Diagnostics diags;
    auto spec = LoadRunbookFile(file.path, types, diags);
    std::optional<CompiledRunbook> compiled;
    if (spec) compiled = Compile(std::move(*spec), types, diags);
    if (diags.has_errors() || !compiled) {
      diags.SortByLocation();
      for (const auto& d : diags.all())
        if (d.severity == Severity::kError) set.problems.push_back(d.Format());
      continue;
    }
    const RunbookSpec& rb = compiled->spec;
    int index = 0;
    for (const ScheduleSpec& s : rb.schedule) {
      ScheduledTrigger t;
      t.runbook = rb.name;
      t.invoke_as = IsValidRunbookName(file.name) ? file.name : std::filesystem::absolute(file.path).string();
      t.path = file.path;
      t.index = index++;
      t.count = static_cast<int>(rb.schedule.size());
      t.cron = s.cron;
      t.timezone = s.timezone;
      auto expr = cron::ParseCron(s.cron);
      auto zone = cron::LocateZone(s.timezone);
      if (!expr.ok() || !zone.ok()) {  // the loader checked both; kept for safety
        set.problems.push_back(file.path + ": error: schedule: " +
                               (expr.ok() ? zone.status().message() : expr.status().message()));
        continue;
      }
      t.expr = *expr;
      t.tz = *zone;
      t.catch_up = s.catch_up;
      std::map<std::string, std::string> params;
      for (const auto& [k, v] : s.params)
        if (!v.is_null()) params[std::string(k)] = ParamText(v);
      t.params.assign(params.begin(), params.end());
      t.key = TriggerKey(s);
      set.triggers.push_back(std::move(t));
    }
  }
  return set;
}

}  // namespace runbook::sched
