#include "journal/prune.h"

#include <sqlite3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <utility>

#include "engine/json_text.h"
#include "journal/chain.h"
#include "journal/identity.h"
#include "journal/migrations.h"
#include "journal/path.h"
#include "journal/spill.h"
#include "journal/sqlite.h"

namespace runbook::journal {

namespace {

// Tables with rows that belong to a run, children first (deletion order).
constexpr std::string_view kRunTables[] = {"events", "output_chunks", "findings", "approvals",
                                           "step_attempts"};

struct Candidate {
  std::string id, runbook, parent;
  int64_t started_at = 0;
  std::optional<int64_t> finished_at;
  bool finished = false;
};

// The runs to remove, oldest first: finished before the cutoff, not among the
// newest `keep` of their runbook, and not the parent of a run that stays
// (so that no kept run points at a missing parent).
Result<std::vector<std::string>> SelectRuns(sqlite::Db& db, const PruneOptions& o) {
  Result<sqlite::Statement> st = db.Prepare(
      "SELECT id, runbook, COALESCE(parent_run_id, ''), started_at, finished_at, status FROM runs "
      "ORDER BY started_at DESC, id DESC");
  if (!st.ok()) return st.status();
  std::vector<Candidate> runs;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Candidate c{st->Text(0), st->Text(1), st->Text(2), st->Int(3), st->OptInt(4), false};
    std::optional<RunStatus> status = ParseRunStatus(st->Text(5));
    c.finished = status && IsFinished(*status);
    runs.push_back(std::move(c));
  }
  std::map<std::string, int> seen;  // runbook -> newer runs so far
  std::set<std::string> remove;
  for (const Candidate& c : runs) {
    int newer = seen[c.runbook]++;
    if (newer < o.keep_runs) continue;
    if (c.finished && c.finished_at && *c.finished_at < o.finished_before_us) remove.insert(c.id);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const Candidate& c : runs)
      if (!c.parent.empty() && !remove.count(c.id) && remove.erase(c.parent)) changed = true;
  }
  std::vector<std::string> out;
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    if (remove.count(it->id)) out.push_back(it->id);
  return out;
}

Result<int64_t> Count(sqlite::Db& db, const std::string& sql) {
  return db.QueryInt(sql);
}

// The columns of `table` in the main database, comma-separated.
Result<std::string> Columns(sqlite::Db& db, std::string_view table) {
  Result<sqlite::Statement> st = db.Prepare("SELECT name FROM pragma_table_info(?1, 'main')");
  if (!st.ok()) return st.status();
  st->BindText(1, table);
  std::string cols;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (!cols.empty()) cols += ", ";
    cols.append("\"").append(st->Text(0)).append("\"");
  }
  return cols;
}

// The ranges of the chain that removing the runs' events opens: maximal
// stretches of consecutive rows (in seq order) that go, each with the hash it
// was linked from and the hash of its last row (what the next row links to).
Result<boost::json::array> Gaps(sqlite::Db& db, int64_t* events) {
  Result<sqlite::Statement> st = db.Prepare(
      "SELECT e.seq, e.prev_hash, e.hash, p.id IS NOT NULL FROM events e "
      "LEFT JOIN temp.prune_ids p ON p.id = e.run_id ORDER BY e.seq");
  if (!st.ok()) return st.status();
  boost::json::array gaps;
  boost::json::object open;  // the range being built
  int64_t count = 0;
  std::string last_hash;
  auto close = [&] {
    if (open.empty()) return;
    if (!last_hash.empty()) {  // unchained (legacy) rows link nothing
      open["after"] = last_hash;
      open["events"] = count;
      gaps.push_back(std::move(open));
    }
    open = {};
    count = 0;
    last_hash.clear();
  };
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (!st->Int(3)) {
      close();
      continue;
    }
    ++*events;
    int64_t seq = st->Int(0);
    if (open.empty()) open["first_seq"] = seq;
    open["last_seq"] = seq;
    if (!st->IsNull(2)) {
      if (!open.contains("before")) open["before"] = st->IsNull(1) ? std::string(kGenesisHash) : st->Text(1);
      last_hash = st->Text(2);
    }
    ++count;
  }
  close();
  return gaps;
}

Status AttachArchive(sqlite::Db& db, const std::string& archive) {
  if (Status s = CreateJournalFile(archive); !s.ok()) return s;
  {
    Result<std::unique_ptr<sqlite::Db>> a =
        sqlite::Db::Open(archive, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW);
    if (!a.ok()) return a.status();
    (*a)->SetBusyTimeout(10000);
    if (Status s = CheckIsJournal(**a); !s.ok()) return Status::InvalidArgument("archive: " + s.message());
    if (Status s = MigrateToCurrent(**a); !s.ok()) return s;
  }
  Result<sqlite::Statement> attach = db.Prepare("ATTACH DATABASE ?1 AS archive");
  if (!attach.ok()) return attach.status();
  attach->BindText(1, archive);
  return attach->Run();
}

Status CopyToArchive(sqlite::Db& db) {
  for (std::string_view table : {"runs", "step_attempts", "events", "output_chunks", "findings", "approvals"}) {
    Result<std::string> cols = Columns(db, table);
    if (!cols.ok()) return cols.status();
    std::string key = table == "runs" ? "id" : "run_id";
    std::string sql = "INSERT OR IGNORE INTO archive." + std::string(table) + " (" + *cols + ") SELECT " +
                      *cols + " FROM main." + std::string(table) + " WHERE " + key +
                      " IN (SELECT id FROM temp.prune_ids)";
    if (table == "events") sql += " ORDER BY seq";
    if (Status s = db.Exec(sql); !s.ok()) return s;
  }
  return Status::Ok();
}

// The archive gets the runs' spill files under the same names beside it
// (ARCHIVE.blobs/RUN_ID/...), so that its rows read and verify as they did.
Status CopySpillFiles(sqlite::Db& db, const std::string& archive, PruneReport* r) {
  Result<sqlite::Statement> st = db.Prepare(
      "SELECT DISTINCT run_id, spill FROM main.output_chunks WHERE spill IS NOT NULL AND "
      "run_id IN (SELECT id FROM temp.prune_ids) ORDER BY run_id, spill");
  if (!st.ok()) return st.status();
  std::map<std::string, std::vector<std::string>> files;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    files[st->Text(0)].push_back(st->Text(1));
  }
  for (const auto& [run_id, names] : files) {
    if (Status s = CopyRunSpillFiles(db.path(), archive, run_id, names, &r->warnings); !s.ok())
      return Status::IoError("archive: " + s.message());
  }
  return Status::Ok();
}

Status Fill(sqlite::Db& db, const std::vector<std::string>& ids, PruneReport* r) {
  if (Status s = db.Exec("CREATE TEMP TABLE IF NOT EXISTS prune_ids (id TEXT PRIMARY KEY); "
                         "DELETE FROM temp.prune_ids");
      !s.ok())
    return s;
  Result<sqlite::Statement> ins = db.Prepare("INSERT INTO temp.prune_ids (id) VALUES (?1)");
  if (!ins.ok()) return ins.status();
  for (const std::string& id : ids) {
    ins->BindText(1, id);
    if (Status s = ins->Run(); !s.ok()) return s;
  }
  const std::string in = " WHERE run_id IN (SELECT id FROM temp.prune_ids)";
  std::pair<int64_t*, std::string> counts[] = {
      {&r->attempts, "SELECT count(*) FROM step_attempts" + in},
      {&r->output_chunks, "SELECT count(*) FROM output_chunks" + in},
      {&r->output_bytes,
       "SELECT COALESCE(sum(CASE WHEN spill IS NULL THEN length(data) ELSE spill_bytes END), 0) "
       "FROM output_chunks" + in},
      {&r->findings, "SELECT count(*) FROM findings" + in},
      {&r->approvals, "SELECT count(*) FROM approvals" + in}};
  for (auto& [field, sql] : counts) {
    Result<int64_t> n = Count(db, sql);
    if (!n.ok()) return n.status();
    *field = *n;
  }
  return Status::Ok();
}

Status PruneInTransaction(sqlite::Db& db, const PruneOptions& o, PruneReport* r) {
  Result<std::vector<std::string>> ids = SelectRuns(db, o);
  if (!ids.ok()) return ids.status();
  r->run_ids = std::move(*ids);
  if (Status s = Fill(db, r->run_ids, r); !s.ok()) return s;
  Result<boost::json::array> gaps = Gaps(db, &r->events);
  if (!gaps.ok()) return gaps.status();
  r->gaps = static_cast<int64_t>(gaps->size());
  if (o.dry_run || r->run_ids.empty()) return Status::Ok();

  if (!o.archive_path.empty()) {
    if (Status s = CopyToArchive(db); !s.ok()) return s;
    if (Status s = CopySpillFiles(db, o.archive_path, r); !s.ok()) return s;
  }
  // The anchor links to the head as it is now (which may be a row that goes).
  Result<ChainHead> head = ReadChainHead(db);
  if (!head.ok()) return head.status();
  boost::json::object data;
  data["runs"] = boost::json::array(r->run_ids.begin(), r->run_ids.end());
  data["ranges"] = std::move(*gaps);
  data["finished_before"] = o.finished_before_us;
  data["keep_runs"] = o.keep_runs;
  data["events"] = r->events;
  data["output_bytes"] = r->output_bytes;
  if (!o.archive_path.empty()) data["archive"] = o.archive_path;
  std::string data_json = JsonText(data);
  std::string message = "pruned " + std::to_string(r->run_ids.size()) + " run(s), " +
                        std::to_string(r->events) + " event(s)" +
                        (o.archive_path.empty() ? "" : "; archived to " + o.archive_path);
  Result<sqlite::Statement> insert = db.Prepare(kInsertChainedEventSql);
  if (!insert.ok()) return insert.status();
  ChainFields f;
  f.ts = o.now_us ? o.now_us : NowMicros();
  f.kind = kPrunedEventKind;
  f.actor = o.actor;
  f.message = message;
  f.data_json = data_json;
  Result<int64_t> seq = AppendChained(*insert, *head, f);
  if (!seq.ok()) return seq.status();
  r->anchor_seq = *seq;

  for (std::string_view table : kRunTables) {
    if (Status s = db.Exec("DELETE FROM main." + std::string(table) +
                           " WHERE run_id IN (SELECT id FROM temp.prune_ids)");
        !s.ok())
      return s;
  }
  return db.Exec("DELETE FROM main.runs WHERE id IN (SELECT id FROM temp.prune_ids)");
}

}  // namespace

Result<PruneReport> PruneJournal(const std::string& path, const PruneOptions& options) {
  if (Status s = CheckExistingJournalFile(path); !s.ok()) return s;
  Result<std::unique_ptr<sqlite::Db>> opened =
      sqlite::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW);
  if (!opened.ok()) return opened.status();
  sqlite::Db& db = **opened;
  db.SetBusyTimeout(10000);
  if (Status s = CheckIsJournal(db); !s.ok()) return s;
  if (Status s = db.Exec("PRAGMA foreign_keys = ON"); !s.ok()) return s;
  if (Status s = MigrateToCurrent(db); !s.ok()) return s;
  // ATTACH is not allowed inside a transaction.
  if (!options.archive_path.empty() && !options.dry_run) {
    if (Status s = AttachArchive(db, options.archive_path); !s.ok()) return s;
  }
  PruneReport report;
  if (Status s = db.Exec(options.dry_run ? "BEGIN" : "BEGIN IMMEDIATE"); !s.ok()) return s;
  Status s = PruneInTransaction(db, options, &report);
  if (s.ok()) s = db.Exec(options.dry_run ? "ROLLBACK" : "COMMIT");
  if (!s.ok()) {
    if (!sqlite3_get_autocommit(db.handle())) (void)db.Exec("ROLLBACK");
    return s;
  }
  // The rows are gone; now their spill files (after the commit, so that a
  // failed prune never leaves rows pointing at deleted files).
  if (!options.dry_run) {
    for (const std::string& id : report.run_ids) {
      if (Status rm = RemoveRunSpillDir(path, id, &report.spill_files); !rm.ok())
        report.warnings.push_back(rm.message());
    }
  }
  return report;
}

}  // namespace runbook::journal
