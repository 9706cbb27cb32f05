// SlotStore: the scheduler's bookkeeping in the journal file
// (schedule_slots, journal schema version 2; docs/journal.md). It has its own
// SQLite connection to the journal, because deciding a slot needs an answer
// at once ("did my INSERT win?") that the journal's queued writer cannot
// give. A slot row is inserted before its run starts; the UNIQUE key makes the
// first scheduler to insert the only one to fire, across restarts and across
// processes. Also the one query that finds `waiting` runs ready to continue.
//
// Owned by the scheduler; one thread at a time (thread-compatible).
// REQUIRES: the journal was opened (and so migrated) by journal::Journal.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"
#include "journal/sqlite.h"

namespace runbook::sched {

enum class SlotOutcome { kFired, kSkipped, kMissed };
// "fired", "skipped", "missed".
const char* ToString(SlotOutcome o);

struct SlotRow {
  std::string runbook;
  std::string trigger_key;
  int64_t slot_at_us = 0;
  int64_t decided_at_us = 0;
  std::string decided_by;  // host:pid
  SlotOutcome outcome = SlotOutcome::kFired;
  std::string run_id;  // "" = none yet
  std::string reason;
};

// A `waiting` run whose pending approvals have all been decided.
struct ResumableRun {
  std::string run_id;
  std::string runbook;
  int64_t decided_at_us = 0;  // the latest decision
};

class SlotStore {
 public:
  static Result<std::unique_ptr<SlotStore>> Open(const std::string& journal_path);

  // The latest slot_at of the trigger, any outcome; nullopt if none.
  Result<std::optional<int64_t>> LastDecided(const std::string& runbook, const std::string& trigger_key);
  // Inserts the row unless (runbook, trigger_key, slot_at) exists: true if
  // this call inserted it (the caller owns the slot), false if it existed.
  Result<bool> Claim(const SlotRow& row);
  // Claims every row in one transaction (rows that exist are left alone).
  Status ClaimAll(const std::vector<SlotRow>& rows);
  // After the run: its id, and the final outcome and reason.
  Status Finish(const std::string& runbook, const std::string& trigger_key, int64_t slot_at_us,
                SlotOutcome outcome, const std::string& run_id, const std::string& reason);
  // Every row of a trigger ("" = all triggers of the runbook), by slot_at.
  Result<std::vector<SlotRow>> Rows(const std::string& runbook, const std::string& trigger_key = "");

  // Runs with status 'waiting' that wait for approvals, all of which have a
  // decision recorded after the waiting attempt started. See FindResumable
  // in slot_store.cc: the one place to adjust what "ready" means.
  Result<std::vector<ResumableRun>> FindResumable();
  // The latest run started by process `pid` on this host at or after
  // `since_us` ("" if none): how a child's run is found when it printed no id.
  Result<std::string> RunStartedBy(int64_t pid, int64_t since_us);

 private:
  explicit SlotStore(std::unique_ptr<journal::sqlite::Db> db) : db_(std::move(db)) {}
  std::unique_ptr<journal::sqlite::Db> db_;
};

}  // namespace runbook::sched
