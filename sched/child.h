// The command lines the scheduler starts, and how it reads a finished child:
// every run is a child process `runbook [globals] --json run NAME --trigger
// cron -p K=V...` (or `resume RUN`), never a shell, so that a run the
// scheduler starts is exactly a run an operator could start. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sched/triggers.h"

namespace runbook::sched {

// argv[0] and the global options every child gets: the binary, --journal,
// --runbooks, and --site when set.
struct ChildBase {
  std::string binary;    // e.g. "/proc/self/exe"
  std::string journal;   // absolute path
  std::string runbooks;  // colon-separated directories
  std::string site;      // "" = none given
};

// [binary, --journal, J, --runbooks, R, (--site, S), (--json), run, NAME,
//  --trigger, cron, (-p, K=V)...]
std::vector<std::string> RunArgv(const ChildBase& base, const ScheduledTrigger& t, bool json = true);
// [binary, --journal, J, --runbooks, R, (--site, S), --json, resume, RUN]
std::vector<std::string> ResumeArgv(const ChildBase& base, const std::string& run_id);

// What a finished `run`/`resume` child says about itself.
struct ChildReport {
  std::string run_id;  // "" when it printed none
  std::string status;  // "succeeded", "failed", "waiting", ... or "" when unknown
  std::string error;
  // The run did not start because its concurrency policy declined it
  // (`run --json` printed "status": "skipped"). See InterpretChild.
  bool skipped = false;
};

// Reads the last JSON object line `runbook --json run|resume` printed on
// stdout: {"run_id": ..., "status": ..., "error": ...}. A status "skipped"
// (a concurrency policy declined the run) marks the slot skipped. Anything
// unparseable gives an empty report.
ChildReport InterpretChild(std::string_view stdout_text);

}  // namespace runbook::sched
