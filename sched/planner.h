// Which slots of one cron trigger are due, and what to do with each: the
// scheduler's decision rules (docs/scheduling.md, "Slots and catch-up"),
// as pure functions of the trigger, what the journal says was decided last,
// and the time. No I/O, no clock: the caller passes `now`, so tests drive
// whole simulated days through them.
//
// The rules, for a trigger whose last decided slot is L:
//   - the candidates are the slots s with L < s <= now; a trigger with no
//     decided slot yet has those since `watching_since` (when this scheduler
//     first saw it), plus the latest slot before that if it is on time;
//   - at most one candidate fires: the latest, when it is at most `on_time`
//     old ("on time"), else only with catch_up: last ("catch-up");
//   - every other candidate is missed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/cron.h"
#include "engine/model.h"

namespace runbook::sched {

using std::chrono::sys_seconds;

// How late a slot may be decided and still count as on time (a restart, a
// busy host, a `--once` started by cron a few seconds into the minute).
inline constexpr std::chrono::seconds kOnTime{120};
// Missed slots recorded one row each, the most recent ones (the event
// carries the total).
inline constexpr size_t kMaxMissedRows = 100;
// Candidates enumerated one by one before giving up counting.
inline constexpr int64_t kMaxEnumerated = 100000;

struct DueInput {
  const cron::CronExpr* expr = nullptr;
  const date::time_zone* tz = nullptr;
  CatchUp catch_up = CatchUp::kLast;
  std::optional<sys_seconds> last_decided;  // from the journal
  sys_seconds watching_since;               // when this scheduler first saw the trigger
  sys_seconds now;
  std::chrono::seconds on_time = kOnTime;
};

struct DuePlan {
  std::optional<sys_seconds> fire;  // the slot to start a run for
  bool catch_up = false;            // `fire` is late, fired because catch_up: last
  // Missed candidates, ascending; at most kMaxMissedRows, the most recent.
  std::vector<sys_seconds> missed;
  int64_t missed_total = 0;         // all missed candidates (a lower bound if capped)
  bool missed_capped = false;       // more than kMaxEnumerated candidates
  std::optional<sys_seconds> first_missed;  // the earliest missed candidate

  bool empty() const { return !fire && missed_total == 0; }
};

// REQUIRES: in.expr and in.tz are set.
DuePlan DecideDue(const DueInput& in);

// The latest fire of `expr` in (after, at_or_before], searching backwards in
// growing windows so that a long gap costs little; nullopt when there is none.
std::optional<sys_seconds> LatestFire(const cron::CronExpr& expr, const date::time_zone* tz,
                                      sys_seconds after, sys_seconds at_or_before);

}  // namespace runbook::sched
