#include "report/evidence_reader.h"

#include <sqlite3.h>

#include <boost/json/array.hpp>

#include "engine/json_text.h"
#include "journal/spill.h"

namespace runbook::report {

namespace {

// The run ids as one JSON array, bound to a `json_each(?)` in the queries: any
// number of runs in one statement.
std::string IdsJson(const std::vector<std::string>& ids) {
  boost::json::array a;
  for (const auto& id : ids) a.emplace_back(id);
  return JsonText(a);
}

}  // namespace

Result<std::unique_ptr<EvidenceReader>> EvidenceReader::Open(const std::string& path) {
  auto db = journal::sqlite::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW);
  if (!db.ok()) return db.status();
  (*db)->SetBusyTimeout(10000);
  if (Status s = (*db)->Exec("PRAGMA query_only = ON"); !s.ok()) return s;
  return std::unique_ptr<EvidenceReader>(new EvidenceReader(std::move(*db)));
}

Status EvidenceReader::ForEachEvent(const std::vector<std::string>& run_ids,
                                    const std::function<Status(const journal::EventRecord&)>& fn,
                                    const std::vector<std::string>& kinds) {
  std::string sql =
      "SELECT seq, run_id, step_id, attempt, ts, kind, actor, message, data_json, prev_hash, hash FROM events "
      "WHERE run_id IN (SELECT value FROM json_each(?1))";
  if (!kinds.empty()) sql += " AND kind IN (SELECT value FROM json_each(?2))";
  sql += " ORDER BY ts, seq";
  auto st = db_->Prepare(sql);
  if (!st.ok()) return st.status();
  std::string ids = IdsJson(run_ids);
  std::string kinds_json = IdsJson(kinds);
  st->BindText(1, ids);
  if (!kinds.empty()) st->BindText(2, kinds_json);
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    journal::EventRecord e;
    e.seq = st->Int(0);
    e.run_id = st->Text(1);
    e.step_id = st->Text(2);
    if (auto a = st->OptInt(3)) e.attempt = static_cast<int>(*a);
    e.ts_us = st->Int(4);
    e.kind = st->Text(5);
    e.actor = st->Text(6);
    e.message = st->Text(7);
    e.data_json = st->Text(8);
    if (!st->IsNull(9)) e.prev_hash = st->Text(9);
    if (!st->IsNull(10)) e.hash = st->Text(10);
    if (Status s = fn(e); !s.ok()) return s;
  }
}

Result<EventStats> EvidenceReader::CountEvents(const std::vector<std::string>& run_ids) {
  auto st = db_->Prepare(
      "SELECT count(*), min(ts), max(ts) FROM events WHERE run_id IN (SELECT value FROM json_each(?1))");
  if (!st.ok()) return st.status();
  std::string ids = IdsJson(run_ids);
  st->BindText(1, ids);
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  EventStats stats;
  if (*row) {
    stats.count = st->Int(0);
    stats.first_ts_us = st->OptInt(1);
    stats.last_ts_us = st->OptInt(2);
  }
  return stats;
}

Status EvidenceReader::ForEachChunk(const std::string& run_id, const std::string& step_id, int attempt,
                                    journal::Stream stream, const std::function<Status(std::string_view data)>& fn) {
  // Inline rows and spill files alike (journal/spill.h), piece by piece.
  journal::SpillReader spills(db_->path());
  return journal::ReadStream(*db_, spills, run_id, step_id, attempt, stream, /*limit=*/0, fn);
}

}  // namespace runbook::report
