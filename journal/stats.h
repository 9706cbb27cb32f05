// Statistics over the journal for `runbook stats` (docs/cli.md): per runbook
// the runs, their outcomes and triggers, durations (average, p50, p95),
// findings by level and approval decisions; and the incidents with their mean
// time to recovery. Aggregated by SQLite on a read-only connection of its own
// (memory: one duration per finished run of the window), one snapshot. Free
// function; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"

namespace runbook::journal {

struct StatsOptions {
  std::optional<int64_t> since_us;  // runs with started_at >= since
  std::optional<int64_t> until_us;  // and started_at < until
  std::string runbook;              // "" = every runbook
};

// Durations of finished runs (finished_at - started_at), microseconds.
// Percentiles are nearest-rank: the value at rank ceil(p/100 * count) of the
// sorted durations; the average is rounded to the nearest microsecond.
struct DurationStats {
  int64_t count = 0;  // finished runs measured; the rest are 0 when it is 0
  int64_t avg_us = 0;
  int64_t p50_us = 0;
  int64_t p95_us = 0;
  int64_t min_us = 0;
  int64_t max_us = 0;
};

struct RunbookStats {
  std::string runbook;
  int64_t runs = 0;
  std::map<std::string, int64_t> by_status;   // "succeeded" -> 12 (only statuses that occur)
  std::map<std::string, int64_t> by_trigger;  // "manual", "cron", "child", ...
  DurationStats duration;
  std::map<std::string, int64_t> findings;    // "info", "warning", "critical" (always all three)
  int64_t approved = 0;
  int64_t rejected = 0;
};

// Incidents are the runs' incident ids that were named explicitly (run
// --incident ID, or inherited from a parent that had one). An incident id
// that is some run's own id (the default when none is given) is not counted.
// Time to recovery of an incident: the last finished_at minus the first
// started_at over its runs in the window, once none of them is still running
// or waiting.
struct IncidentStats {
  int64_t count = 0;      // incidents with at least one run in the window
  int64_t resolved = 0;   // of which every run has finished
  int64_t mttr_us = 0;    // mean time to recovery over the resolved (0: none)
};

struct StatsReport {
  std::vector<RunbookStats> runbooks;  // by name
  RunbookStats total;                  // runbook "" : every run of the window
  IncidentStats incidents;
};

// The `percent`-th percentile by nearest rank of `sorted` (ascending,
// non-empty; percent in 1..100): sorted[ceil(percent * n / 100) - 1].
int64_t NearestRank(const std::vector<int64_t>& sorted, int percent);

// Errors: the journal cannot be read ("no journal at PATH", ...).
Result<StatsReport> ComputeStats(const std::string& path, const StatsOptions& options);

}  // namespace runbook::journal
