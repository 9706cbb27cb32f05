// Scheduler: the decisions of `runbook schedule`, without the event loop.
// Given the triggers and the time, Tick() decides every due slot (planner.h),
// records it in the journal (a schedule_slots row through SlotStore, an event
// with actor "scheduler" through Journal) and returns the child processes to
// start; Finished() records how each ended. FindResumes() does the same for
// `waiting` runs whose approvals are all decided. The daemon (daemon.h) owns
// the clock, the timers and the processes and only feeds this class, so tests
// drive it through simulated days with a real journal and no waiting.
//
// Single-threaded: owned by the daemon's io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sched/child.h"
#include "sched/planner.h"
#include "sched/slot_store.h"
#include "sched/triggers.h"

namespace runbook::journal {
class Journal;
}  // namespace runbook::journal

namespace runbook::sched {

// A child process to start.
struct Launch {
  enum class Kind { kSlot, kResume };
  Kind kind = Kind::kSlot;
  std::string runbook;
  std::string trigger_key;  // kResume: "resume RUN"
  int64_t slot_at_us = 0;   // kResume: the latest approval decision
  std::string run_id;       // kResume: the run to continue
  std::vector<std::string> argv;
  std::string what;  // for log lines: "daily-health-check[0] slot 2026-...+01:00"
};

// How a started child ended.
struct ChildExit {
  bool launched = true;   // false: nothing ran; `error` says why
  int exit_code = -1;     // -1 when it did not exit normally
  int signal = 0;         // the signal that ended it, if one did
  int pid = 0;
  int64_t started_at_us = 0;
  std::string stdout_text;  // what it printed on stdout (its --json summary)
  std::string error;
};

class Scheduler {
 public:
  // `store` and `journal` are borrowed and outlive the scheduler.
  Scheduler(ChildBase base, SlotStore& store, journal::Journal& journal);

  // Replaces the triggers (after a load or reload). A trigger seen before
  // (same runbook and key) keeps the time it was first seen.
  void SetTriggers(std::vector<ScheduledTrigger> triggers, sys_seconds now);
  const std::vector<ScheduledTrigger>& triggers() const { return triggers_; }

  // Decides every slot due at `now`: missed slots get rows and one event per
  // trigger; a slot to fire is claimed (insert-first: a slot another
  // scheduler claimed is left to it) and journaled; returns the runs to start.
  std::vector<Launch> Tick(sys_seconds now);
  // Claims every approved `waiting` run not already being continued by this
  // scheduler, journals it on the run, and returns the `resume` children.
  std::vector<Launch> FindResumes();
  // The first slot of any trigger strictly after `now`; nullopt when none.
  std::optional<sys_seconds> NextSlot(sys_seconds now) const;
  // Records how a child from Tick() or FindResumes() ended.
  void Finished(const Launch& launch, const ChildExit& exit);

  // A journal-level event with actor "scheduler" (started, stopped, reloaded).
  void Note(const std::string& kind, const std::string& message);

 private:
  void DecideTrigger(const ScheduledTrigger& t, sys_seconds now, std::vector<Launch>& launches);

  ChildBase base_;
  SlotStore& store_;
  journal::Journal& journal_;
  std::string decided_by_;  // host:pid
  std::vector<ScheduledTrigger> triggers_;
  std::map<std::string, sys_seconds> first_seen_;  // runbook + '\n' + key
  std::set<std::string> resuming_;                 // run ids with a resume child
};

}  // namespace runbook::sched
