#include "journal/stale.h"

#include "journal/chain.h"
#include "journal/identity.h"

namespace runbook::journal {

namespace {

struct Candidate {
  std::string id;
  ProcessIdentity process;
};

// The 'running' runs recorded on `host` whose engine process is gone.
Status FindStale(sqlite::Db& db, const std::string& host, std::vector<Candidate>* stale) {
  Result<sqlite::Statement> select = db.Prepare(
      "SELECT id, pid, process_start, boot_id FROM runs WHERE status = 'running' AND host = ?1");
  if (!select.ok()) return select.status();
  select->BindText(1, host);
  for (;;) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Candidate c;
    c.id = select->Text(0);
    c.process = {host, select->Int(1), select->Int(2), select->Text(3)};
    if (!ProcessIsAlive(c.process)) stale->push_back(std::move(c));
  }
  select->Reset();
  return Status::Ok();
}

Status MarkInTransaction(sqlite::Db& db, const std::string& host, int64_t now_us,
                         std::vector<std::string>* marked) {
  // Again, under the write lock: another process may have marked them since.
  std::vector<Candidate> stale;
  if (Status s = FindStale(db, host, &stale); !s.ok()) return s;
  if (stale.empty()) return Status::Ok();

  Result<sqlite::Statement> run = db.Prepare(
      "UPDATE runs SET status = 'interrupted', finished_at = ?2, error = ?3 "
      "WHERE id = ?1 AND status = 'running'");
  if (!run.ok()) return run.status();
  Result<sqlite::Statement> attempts = db.Prepare(
      "UPDATE step_attempts SET status = 'failed', finished_at = ?2, "
      "error = 'interrupted: engine died' "
      "WHERE run_id = ?1 AND status IN ('pending', 'waiting', 'running')");
  if (!attempts.ok()) return attempts.status();
  Result<sqlite::Statement> event = db.Prepare(kInsertChainedEventSql);
  if (!event.ok()) return event.status();
  Result<ChainHead> head = ReadChainHead(db);  // inside the IMMEDIATE transaction
  if (!head.ok()) return head.status();

  for (const Candidate& c : stale) {
    std::string why = "engine process " + std::to_string(c.process.pid) + " on " + host + " is gone";
    std::string message = why + "; run marked interrupted";
    run->BindText(1, c.id);
    run->BindInt(2, now_us);
    run->BindText(3, why);
    if (Status s = run->Run(); !s.ok()) return s;
    attempts->BindText(1, c.id);
    attempts->BindInt(2, now_us);
    if (Status s = attempts->Run(); !s.ok()) return s;
    ChainFields f;
    f.run_id = c.id;
    f.ts = now_us;
    f.kind = "interrupted";
    f.actor = "runbook";
    f.message = message;
    f.data_json = "{}";
    if (Result<int64_t> seq = AppendChained(*event, *head, f); !seq.ok()) return seq.status();
    marked->push_back(c.id);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> MarkStaleRuns(sqlite::Db& db, const std::string& host,
                                               int64_t now_us) {
  // Read first, outside any write transaction: most opens find every
  // 'running' run alive (other engines sharing the journal) and must not
  // queue for the write lock just to learn that.
  {
    std::vector<Candidate> stale;
    if (Status s = FindStale(db, host, &stale); !s.ok()) return s;
    if (stale.empty()) return std::vector<std::string>{};
  }
  std::vector<std::string> marked;
  if (Status s = db.BeginImmediate(); !s.ok()) return s;
  Status s = MarkInTransaction(db, host, now_us, &marked);
  if (s.ok()) s = db.Exec("COMMIT");
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  return marked;
}

}  // namespace runbook::journal
