#include "sched/scheduler.h"

#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "journal/identity.h"
#include "journal/journal.h"

namespace runbook::sched {

namespace {

constexpr const char* kActor = "scheduler";

int64_t Micros(sys_seconds t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

journal::EventRecord Event(std::string kind, std::string message, std::string data_json = "{}",
                           std::string run_id = "") {
  journal::EventRecord e;
  e.run_id = std::move(run_id);
  e.kind = std::move(kind);
  e.actor = kActor;
  e.message = std::move(message);
  e.data_json = std::move(data_json);
  return e;
}

std::string CatchUpName(CatchUp c) { return c == CatchUp::kLast ? "last" : "none"; }

boost::json::object TriggerData(const ScheduledTrigger& t) {
  return {{"runbook", t.runbook},
          {"trigger", t.key},
          {"cron", t.cron},
          {"timezone", cron::ZoneName(t.tz)},
          {"catch_up", CatchUpName(t.catch_up)}};
}

std::string ExitText(const ChildExit& e) {
  if (!e.launched) return "could not start: " + e.error;
  if (e.signal != 0) return "killed by signal " + std::to_string(e.signal);
  return "exit " + std::to_string(e.exit_code);
}

}  // namespace

Scheduler::Scheduler(ChildBase base, SlotStore& store, journal::Journal& journal)
    : base_(std::move(base)), store_(store), journal_(journal) {
  auto self = journal::CurrentProcess();
  decided_by_ = self.host + ":" + std::to_string(self.pid);
}

void Scheduler::SetTriggers(std::vector<ScheduledTrigger> triggers, sys_seconds now) {
  std::map<std::string, sys_seconds> seen;
  for (const auto& t : triggers) {
    std::string id = t.runbook + '\n' + t.key;
    auto it = first_seen_.find(id);
    seen[id] = it == first_seen_.end() ? now : it->second;
  }
  first_seen_ = std::move(seen);
  triggers_ = std::move(triggers);
}

std::vector<Launch> Scheduler::Tick(sys_seconds now) {
  std::vector<Launch> launches;
  for (const auto& t : triggers_) DecideTrigger(t, now, launches);
  return launches;
}

void Scheduler::DecideTrigger(const ScheduledTrigger& t, sys_seconds now, std::vector<Launch>& launches) {
  auto last = store_.LastDecided(t.runbook, t.key);
  if (!last.ok()) {
    spdlog::error("{}: cannot read its last slot: {}", t.Describe(), last.status().message());
    return;
  }
  DueInput in;
  in.expr = &t.expr;
  in.tz = t.tz;
  in.catch_up = t.catch_up;
  if (*last) in.last_decided = sys_seconds(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::microseconds(**last)));
  in.watching_since = first_seen_.count(t.runbook + '\n' + t.key) ? first_seen_[t.runbook + '\n' + t.key] : now;
  in.now = now;
  DuePlan plan = DecideDue(in);
  if (plan.empty()) return;

  int64_t decided_at = journal::NowMicros();
  if (plan.missed_total > 0) {
    std::string reason = t.catch_up == CatchUp::kNone
                             ? "not run in time (scheduler not running or late) and catch_up is none"
                             : "not run in time; catch_up: last runs only the most recent missed slot";
    std::vector<SlotRow> rows;
    for (sys_seconds s : plan.missed)
      rows.push_back({t.runbook, t.key, Micros(s), decided_at, decided_by_, SlotOutcome::kMissed, "", reason});
    if (Status s = store_.ClaimAll(rows); !s.ok())
      spdlog::error("{}: cannot record its missed slots: {}", t.Describe(), s.message());
    std::string first = cron::FormatIso(*plan.first_missed, t.tz);
    std::string last_missed = plan.missed.empty() ? first : cron::FormatIso(plan.missed.back(), t.tz);
    std::string count = std::to_string(plan.missed_total) + (plan.missed_capped ? "+" : "");
    std::string message = t.runbook + ": " + count + (plan.missed_total == 1 ? " slot" : " slots") + " missed" +
                          (plan.missed_total == 1 ? " (" + first + ")" : " (" + first + " to " + last_missed + ")") +
                          ", catch_up: " + CatchUpName(t.catch_up);
    spdlog::warn("{}", message);
    boost::json::object data = TriggerData(t);
    data["count"] = plan.missed_total;
    data["capped"] = plan.missed_capped;
    data["first_slot"] = first;
    data["last_slot"] = last_missed;
    data["reason"] = reason;
    journal_.AppendEvent(Event("slot_missed", message, boost::json::serialize(data)));
  }
  if (!plan.fire) return;

  std::string slot = cron::FormatIso(*plan.fire, t.tz);
  std::string reason = plan.catch_up ? "catch-up of the most recent missed slot (catch_up: last)" : "on time";
  SlotRow row{t.runbook, t.key, Micros(*plan.fire), decided_at, decided_by_, SlotOutcome::kFired, "", reason};
  auto claimed = store_.Claim(row);
  if (!claimed.ok()) {
    spdlog::error("{}: cannot claim slot {}: {}; not firing it", t.Describe(), slot, claimed.status().message());
    return;
  }
  if (!*claimed) {
    spdlog::info("{}: slot {} was already decided (by another scheduler)", t.Describe(), slot);
    return;
  }
  std::string message = "scheduler fires " + t.runbook + " for slot " + slot + (plan.catch_up ? " (catch-up)" : "");
  spdlog::info("{}: firing slot {}{}", t.Describe(), slot, plan.catch_up ? " (catch-up)" : "");
  boost::json::object data = TriggerData(t);
  data["slot"] = slot;
  data["slot_at"] = Micros(*plan.fire);
  data["catch_up_fire"] = plan.catch_up;
  journal_.AppendEvent(Event("slot_fired", message, boost::json::serialize(data)));
  Launch launch;
  launch.kind = Launch::Kind::kSlot;
  launch.runbook = t.runbook;
  launch.trigger_key = t.key;
  launch.slot_at_us = Micros(*plan.fire);
  launch.argv = RunArgv(base_, t);
  launch.what = t.runbook + "[" + std::to_string(t.index) + "] slot " + slot;
  launches.push_back(std::move(launch));
}

std::vector<Launch> Scheduler::FindResumes() {
  std::vector<Launch> launches;
  auto runs = store_.FindResumable();
  if (!runs.ok()) {
    spdlog::error("cannot look for approved waiting runs: {}", runs.status().message());
    return launches;
  }
  for (const ResumableRun& r : *runs) {
    if (resuming_.count(r.run_id)) continue;
    std::string key = "resume " + r.run_id;
    SlotRow row{r.runbook, key, r.decided_at_us, journal::NowMicros(), decided_by_, SlotOutcome::kFired, r.run_id,
                "approvals decided; continuing the waiting run"};
    auto claimed = store_.Claim(row);
    if (!claimed.ok()) {
      spdlog::error("run {}: cannot claim its continuation: {}", r.run_id, claimed.status().message());
      continue;
    }
    if (!*claimed) continue;  // continued before (or by another scheduler)
    spdlog::info("run {} ({}): approvals decided, resuming it", r.run_id, r.runbook);
    journal_.AppendEvent(Event("resume_requested", "approvals decided; the scheduler continues the run",
                               boost::json::serialize(boost::json::object{{"runbook", r.runbook}}), r.run_id));
    resuming_.insert(r.run_id);
    Launch launch;
    launch.kind = Launch::Kind::kResume;
    launch.runbook = r.runbook;
    launch.trigger_key = key;
    launch.slot_at_us = r.decided_at_us;
    launch.run_id = r.run_id;
    launch.argv = ResumeArgv(base_, r.run_id);
    launch.what = "resume of run " + r.run_id + " (" + r.runbook + ")";
    launches.push_back(std::move(launch));
  }
  return launches;
}

std::optional<sys_seconds> Scheduler::NextSlot(sys_seconds now) const {
  std::optional<sys_seconds> next;
  for (const auto& t : triggers_) {
    auto n = cron::NextFire(t.expr, t.tz, now);
    if (n && (!next || *n < *next)) next = n;
  }
  return next;
}

void Scheduler::Finished(const Launch& launch, const ChildExit& exit) {
  ChildReport report = InterpretChild(exit.stdout_text);
  std::string run_id = report.run_id;
  if (launch.kind == Launch::Kind::kResume) {
    resuming_.erase(launch.run_id);
    run_id = launch.run_id;
  } else if (run_id.empty() && exit.launched && exit.pid > 0) {
    auto found = store_.RunStartedBy(exit.pid, exit.started_at_us);
    if (found.ok()) run_id = *found;
  }
  SlotOutcome outcome = report.skipped ? SlotOutcome::kSkipped : SlotOutcome::kFired;
  std::string reason;
  if (report.skipped) {
    reason = report.error.empty() ? "skipped by the runbook's concurrency policy" : report.error;
  } else if (!report.status.empty()) {
    reason = "run " + report.status + " (" + ExitText(exit) + ")" + (report.error.empty() ? "" : ": " + report.error);
  } else {
    reason = "child ended without a run summary (" + ExitText(exit) + ")";
  }
  if (launch.kind == Launch::Kind::kResume) reason = "resume: " + reason;
  Status s = store_.Finish(launch.runbook, launch.trigger_key, launch.slot_at_us, outcome, run_id, reason);
  if (!s.ok()) spdlog::error("{}: cannot record the outcome: {}", launch.what, s.message());
  bool ok = exit.launched && exit.signal == 0 && (exit.exit_code == 0 || report.skipped);
  if (ok)
    spdlog::info("{}: {}{}", launch.what, run_id.empty() ? "" : "run " + run_id + ": ", reason);
  else
    spdlog::warn("{}: {}{}", launch.what, run_id.empty() ? "" : "run " + run_id + ": ", reason);
  if (report.skipped) {
    // Journal-level: a declined run may have no row to attach the event to
    // (events.run_id is a foreign key).
    boost::json::object data = {{"runbook", launch.runbook}, {"trigger", launch.trigger_key},
                                {"slot_at", launch.slot_at_us}, {"run_id", run_id}, {"reason", reason}};
    journal_.AppendEvent(Event("slot_skipped", launch.what + " skipped: " + reason, boost::json::serialize(data)));
  }
}

void Scheduler::Note(const std::string& kind, const std::string& message) {
  journal_.AppendEvent(Event(kind, message));
}

}  // namespace runbook::sched
