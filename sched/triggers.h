// The cron triggers of every runbook in the catalog (`schedule:` entries,
// docs/scheduling.md), loaded and compiled the way `runbook validate` does,
// and flattened into one list for the scheduler daemon and `cron export`.
// A runbook with errors contributes nothing (its diagnostics are returned so
// the caller can log them); the others still load. Plain values; no I/O
// beyond LoadTriggers itself.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/catalog.h"
#include "engine/cron.h"
#include "engine/model.h"

namespace runbook {
class StepTypeRegistry;
}  // namespace runbook

namespace runbook::sched {

struct ScheduledTrigger {
  std::string runbook;    // the runbook's name (what the journal records)
  std::string invoke_as;  // what `runbook run` is given: the name, or the file when its stem is no valid name
  std::string path;       // the runbook file
  int index = 0;          // position in the runbook's `schedule:` list, 0-based
  int count = 1;          // how many triggers the runbook has
  std::string cron;       // the expression as written
  std::string timezone;   // as written; "" = the system's zone
  cron::CronExpr expr;
  const date::time_zone* tz = nullptr;  // resolved `timezone`; never null
  CatchUp catch_up = CatchUp::kLast;
  // The trigger's parameters as `-p KEY=TEXT` texts (the text the compiler
  // checked them with), in key order; null values are left out.
  std::vector<std::pair<std::string, std::string>> params;
  // The trigger's identity in the journal (schedule_slots.trigger_key):
  // "0 8 * * * tz=Europe/Berlin", "... tz=system", plus " params={...}".
  std::string key;

  // "daily-health-check[0] '0 8 * * *' (Europe/Berlin)" for log lines.
  std::string Describe() const;
};

struct TriggerSet {
  std::vector<ScheduledTrigger> triggers;  // by runbook name, then index
  std::vector<std::string> problems;       // "FILE:LINE:COL: error: ..." lines of runbooks left out
  int runbooks = 0;                        // runbook files looked at
};

// Loads and compiles every runbook of `catalog`.
TriggerSet LoadTriggers(const Catalog& catalog, const StepTypeRegistry& types);

// The parameter text the compiler checks a schedule value with: strings as
// they are, anything else as JSON ("3", "true", "1.5E0").
std::string ParamText(const boost::json::value& v);

}  // namespace runbook::sched
