#include "sched/slot_store.h"

#include <sqlite3.h>

#include "journal/identity.h"

namespace runbook::sched {

namespace sqlite = journal::sqlite;

const char* ToString(SlotOutcome o) {
  switch (o) {
    case SlotOutcome::kFired: return "fired";
    case SlotOutcome::kSkipped: return "skipped";
    case SlotOutcome::kMissed: return "missed";
  }
  return "fired";
}

namespace {

SlotOutcome ParseOutcome(const std::string& s) {
  if (s == "skipped") return SlotOutcome::kSkipped;
  if (s == "missed") return SlotOutcome::kMissed;
  return SlotOutcome::kFired;
}

}  // namespace

Result<std::unique_ptr<SlotStore>> SlotStore::Open(const std::string& journal_path) {
  auto db = sqlite::Db::Open(journal_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW);
  if (!db.ok()) return db.status();
  (*db)->SetBusyTimeout(10000);
  auto has_table = (*db)->QueryInt("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schedule_slots'");
  if (!has_table.ok()) return has_table.status();
  if (*has_table != 1)
    return Status::FailedPrecondition(journal_path + ": the journal has no schedule_slots table (schema version 2)");
  return std::unique_ptr<SlotStore>(new SlotStore(std::move(*db)));
}

Result<std::optional<int64_t>> SlotStore::LastDecided(const std::string& runbook, const std::string& trigger_key) {
  auto st = db_->Prepare("SELECT max(slot_at) FROM schedule_slots WHERE runbook = ?1 AND trigger_key = ?2");
  if (!st.ok()) return st.status();
  st->BindText(1, runbook);
  st->BindText(2, trigger_key);
  auto row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int64_t>();
  return st->OptInt(0);
}

Result<bool> SlotStore::Claim(const SlotRow& row) {
  auto st = db_->Prepare(
      "INSERT INTO schedule_slots (runbook, trigger_key, slot_at, decided_at, decided_by, outcome, run_id, reason) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (runbook, trigger_key, slot_at) DO NOTHING");
  if (!st.ok()) return st.status();
  st->BindText(1, row.runbook);
  st->BindText(2, row.trigger_key);
  st->BindInt(3, row.slot_at_us);
  st->BindInt(4, row.decided_at_us ? row.decided_at_us : journal::NowMicros());
  st->BindText(5, row.decided_by);
  st->BindText(6, ToString(row.outcome));
  st->BindTextOrNull(7, row.run_id);
  st->BindText(8, row.reason);
  if (Status s = st->Run(); !s.ok()) return s;
  return db_->Changes() == 1;
}

Status SlotStore::ClaimAll(const std::vector<SlotRow>& rows) {
  if (rows.empty()) return Status::Ok();
  if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  for (const SlotRow& row : rows) {
    auto claimed = Claim(row);
    if (!claimed.ok()) {
      (void)db_->Exec("ROLLBACK");
      return claimed.status();
    }
  }
  Status s = db_->Exec("COMMIT");
  if (!s.ok()) (void)db_->Exec("ROLLBACK");
  return s;
}

Status SlotStore::Finish(const std::string& runbook, const std::string& trigger_key, int64_t slot_at_us,
                         SlotOutcome outcome, const std::string& run_id, const std::string& reason) {
  auto st = db_->Prepare(
      "UPDATE schedule_slots SET outcome = ?4, run_id = coalesce(?5, run_id), reason = ?6 "
      "WHERE runbook = ?1 AND trigger_key = ?2 AND slot_at = ?3");
  if (!st.ok()) return st.status();
  st->BindText(1, runbook);
  st->BindText(2, trigger_key);
  st->BindInt(3, slot_at_us);
  st->BindText(4, ToString(outcome));
  st->BindTextOrNull(5, run_id);
  st->BindText(6, reason);
  return st->Run();
}

Result<std::vector<SlotRow>> SlotStore::Rows(const std::string& runbook, const std::string& trigger_key) {
  auto st = db_->Prepare(
      "SELECT runbook, trigger_key, slot_at, decided_at, decided_by, outcome, run_id, reason FROM schedule_slots "
      "WHERE runbook = ?1 AND (?2 = '' OR trigger_key = ?2) ORDER BY slot_at, id");
  if (!st.ok()) return st.status();
  st->BindText(1, runbook);
  st->BindText(2, trigger_key);
  std::vector<SlotRow> rows;
  for (;;) {
    auto more = st->Step();
    if (!more.ok()) return more.status();
    if (!*more) break;
    SlotRow r;
    r.runbook = st->Text(0);
    r.trigger_key = st->Text(1);
    r.slot_at_us = st->Int(2);
    r.decided_at_us = st->Int(3);
    r.decided_by = st->Text(4);
    r.outcome = ParseOutcome(st->Text(5));
    r.run_id = st->Text(6);
    r.reason = st->Text(7);
    rows.push_back(std::move(r));
  }
  return rows;
}

// What "an approved waiting run" means, in one query: the run is 'waiting',
// at least one step attempt is 'waiting' (the approvals it stopped for), and
// every waiting attempt has a decision (approved or rejected) recorded for
// its step since the attempt started. A rejection counts: `resume` then
// fails that step the way the runbook says.
Result<std::vector<ResumableRun>> SlotStore::FindResumable() {
  auto st = db_->Prepare(R"sql(
    SELECT r.id, r.runbook, (SELECT max(p.ts) FROM approvals p WHERE p.run_id = r.id)
    FROM runs r
    WHERE r.status = 'waiting'
      AND EXISTS (SELECT 1 FROM step_attempts a WHERE a.run_id = r.id AND a.status = 'waiting')
      AND NOT EXISTS (
        SELECT 1 FROM step_attempts a
        WHERE a.run_id = r.id AND a.status = 'waiting'
          AND NOT EXISTS (SELECT 1 FROM approvals p
                          WHERE p.run_id = a.run_id AND p.step_id = a.step_id
                            AND p.ts >= coalesce(a.started_at, 0)))
    ORDER BY r.started_at, r.id)sql");
  if (!st.ok()) return st.status();
  std::vector<ResumableRun> out;
  for (;;) {
    auto more = st->Step();
    if (!more.ok()) return more.status();
    if (!*more) break;
    out.push_back({st->Text(0), st->Text(1), st->Int(2)});
  }
  return out;
}

Result<std::string> SlotStore::RunStartedBy(int64_t pid, int64_t since_us) {
  auto st = db_->Prepare(
      "SELECT id FROM runs WHERE pid = ?1 AND host = ?2 AND started_at >= ?3 ORDER BY started_at DESC LIMIT 1");
  if (!st.ok()) return st.status();
  std::string host = journal::CurrentProcess().host;
  st->BindInt(1, pid);
  st->BindText(2, host);
  st->BindInt(3, since_us);
  auto row = st->Step();
  if (!row.ok()) return row.status();
  return *row ? st->Text(0) : std::string();
}

}  // namespace runbook::sched
