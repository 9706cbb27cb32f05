#include "journal/stale.h"

#include <unistd.h>

#include <map>

#include "journal/chain.h"
#include "journal/identity.h"
#include "journal/start_log.h"

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

// The starts of run `c` in its engine's start log that the journal lacks
// (the engine died before the commit that held them): each gets its
// 'running' attempt and its step_started event, which MarkInTransaction then
// treats like any other.
Status AddLoggedStarts(sqlite::Db& db, const std::vector<LoggedStart>& log, const std::string& run_id,
                       ChainHead& head, sqlite::Statement& event) {
  Result<sqlite::Statement> has_attempt =
      db.Prepare("SELECT 1 FROM step_attempts WHERE run_id = ?1 AND step_id = ?2 AND attempt = ?3");
  if (!has_attempt.ok()) return has_attempt.status();
  Result<sqlite::Statement> has_event = db.Prepare(
      "SELECT 1 FROM events WHERE run_id = ?1 AND step_id = ?2 AND attempt = ?3 AND kind = 'step_started'");
  if (!has_event.ok()) return has_event.status();
  Result<sqlite::Statement> insert = db.Prepare(
      "INSERT INTO step_attempts (run_id, step_id, block, attempt, status, started_at) "
      "VALUES (?1, ?2, ?3, ?4, 'running', ?5)");
  if (!insert.ok()) return insert.status();
  auto exists = [&](sqlite::Statement& q, const AttemptRecord& a) -> Result<bool> {
    q.BindText(1, a.run_id);
    q.BindText(2, a.step_id);
    q.BindInt(3, a.attempt);
    Result<bool> row = q.Step();
    q.Reset();
    return row;
  };
  for (const LoggedStart& start : log) {
    const AttemptRecord& a = start.attempt;
    if (a.run_id != run_id) continue;
    Result<bool> attempt = exists(*has_attempt, a);
    if (!attempt.ok()) return attempt.status();
    if (!*attempt) {
      insert->BindText(1, a.run_id);
      insert->BindText(2, a.step_id);
      insert->BindText(3, ToString(a.block));
      insert->BindInt(4, a.attempt);
      insert->BindInt(5, a.started_at_us.value_or(start.event.ts_us));
      if (Status s = insert->Run(); !s.ok()) return s;
    }
    Result<bool> started = exists(*has_event, a);
    if (!started.ok()) return started.status();
    if (!*started) {
      if (Result<int64_t> seq = AppendChained(event, head, ChainFieldsOf(start.event)); !seq.ok())
        return seq.status();
    }
  }
  return Status::Ok();
}

Status MarkInTransaction(sqlite::Db& db, const std::string& journal_path, const std::string& host,
                         int64_t now_us, std::vector<std::string>* marked, std::vector<std::string>* start_logs) {
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

  // One start log per dead engine, which may have had several runs.
  std::map<std::string, std::vector<LoggedStart>> logs;
  for (const Candidate& c : stale) {
    std::string log_path = StartLogPath(journal_path, c.process);
    auto log = logs.find(log_path);
    if (log == logs.end()) {
      // Unreadable: the runs stay 'running' (and their starts in the file)
      // until an open can read it.
      Result<std::vector<LoggedStart>> read = ReadStartLog(log_path);
      if (!read.ok()) return read.status();
      log = logs.emplace(log_path, std::move(*read)).first;
      start_logs->push_back(log_path);
    }
    if (Status s = AddLoggedStarts(db, log->second, c.id, *head, *event); !s.ok()) return s;

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

Result<std::vector<std::string>> MarkStaleRuns(sqlite::Db& db, const std::string& journal_path,
                                               const std::string& host, int64_t now_us) {
  // Read first, outside any write transaction: most opens find every
  // 'running' run alive (other engines sharing the journal) and must not
  // queue for the write lock just to learn that.
  {
    std::vector<Candidate> stale;
    if (Status s = FindStale(db, host, &stale); !s.ok()) return s;
    if (stale.empty()) return std::vector<std::string>{};
  }
  std::vector<std::string> marked, start_logs;
  if (Status s = db.BeginImmediate(); !s.ok()) return s;
  Status s = MarkInTransaction(db, journal_path, host, now_us, &marked, &start_logs);
  if (s.ok()) s = db.Exec("COMMIT");
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  // Their starts are in the journal now (committed, not yet synced: like
  // the file, which was never synced either).
  for (const std::string& path : start_logs) (void)::unlink(path.c_str());
  return marked;
}

}  // namespace runbook::journal
