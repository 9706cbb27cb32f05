#include "sched/planner.h"

#include <algorithm>
#include <deque>

namespace runbook::sched {

std::optional<sys_seconds> LatestFire(const cron::CronExpr& expr, const date::time_zone* tz, sys_seconds after,
                                      sys_seconds at_or_before) {
  using std::chrono::hours;
  if (at_or_before <= after) return std::nullopt;
  // Each window's fires are enumerated forwards; the windows grow so that a
  // minutely expression needs ~60 steps and a yearly one a handful.
  const hours windows[] = {hours(2), hours(50), hours(24 * 33), hours(24 * 367), hours(24 * 366 * 5),
                           cron::kSearchHorizon};
  for (hours w : windows) {
    sys_seconds start = std::max(after, at_or_before - w);
    std::optional<sys_seconds> latest;
    for (auto t = cron::NextFire(expr, tz, start); t && *t <= at_or_before; t = cron::NextFire(expr, tz, *t))
      latest = t;
    if (latest) return latest;
    if (start == after) return std::nullopt;
  }
  return std::nullopt;
}

DuePlan DecideDue(const DueInput& in) {
  DuePlan plan;
  sys_seconds baseline = in.last_decided ? *in.last_decided : in.watching_since - in.on_time;
  if (baseline >= in.now) return plan;

  // Enumerate the candidates, keeping the most recent kMaxMissedRows + 1.
  // Without history, slots before the trigger was first seen are not ours:
  // never missed, never caught up; only one that is on time may fire.
  std::optional<sys_seconds> before_watching;
  std::deque<sys_seconds> recent;
  int64_t total = 0;
  std::optional<sys_seconds> first;
  bool capped = false;
  for (auto t = cron::NextFire(*in.expr, in.tz, baseline); t && *t <= in.now; t = cron::NextFire(*in.expr, in.tz, *t)) {
    if (!in.last_decided && *t < in.watching_since) {
      before_watching = t;
      continue;
    }
    if (!first) first = t;
    ++total;
    recent.push_back(*t);
    if (recent.size() > kMaxMissedRows + 1) recent.pop_front();
    if (total >= kMaxEnumerated) {
      capped = true;
      break;
    }
  }
  if (total == 0) {
    if (before_watching && in.now - *before_watching <= in.on_time) plan.fire = before_watching;
    return plan;
  }

  sys_seconds latest = recent.back();
  if (capped) {
    // Too many to count: find the latest directly; record no single rows
    // (those enumerated are the oldest, not the most recent).
    latest = LatestFire(*in.expr, in.tz, recent.back(), in.now).value_or(recent.back());
    recent.clear();
    plan.missed_capped = true;
  } else {
    recent.pop_back();  // `latest` itself
  }
  bool on_time = in.now - latest <= in.on_time;
  bool fire = on_time || in.catch_up == CatchUp::kLast;
  if (fire) {
    plan.fire = latest;
    plan.catch_up = !on_time;
  } else {
    recent.push_back(latest);
  }
  // Capped: every enumerated candidate is missed and `latest` lies beyond
  // them, so `total` is a lower bound of the missed ones.
  plan.missed_total = capped ? total : total - (fire ? 1 : 0);
  plan.missed.assign(recent.begin(), recent.end());
  if (plan.missed_total > 0) plan.first_missed = first;
  return plan;
}

}  // namespace runbook::sched
