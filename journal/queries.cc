// The read side of Journal: every query the CLI needs, on the read-only
// connection.
#include <algorithm>
#include <utility>

#include "journal/journal.h"
#include "journal/spill.h"

namespace runbook::journal {

namespace {

constexpr std::string_view kRunColumns =
    "id, runbook, title, source_path, content_hash, params_json, trigger_kind, actor, host, pid, "
    "process_start, boot_id, incident_id, parent_run_id, status, started_at, finished_at, "
    "exit_code, outputs_json, error";
// Column 20, when asked for.
constexpr std::string_view kSourceColumn = ", source_text";

// The schema CHECKs every enumeration, so parsing cannot fail on a journal
// we opened; the first enumerator stands in if it ever did.
template <class E>
E Enum(std::optional<E> v) {
  return v.value_or(E{});
}

std::optional<int> OptInt32(const sqlite::Statement& st, int column) {
  std::optional<int64_t> v = st.OptInt(column);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

RunRecord ReadRun(const sqlite::Statement& st, bool with_source) {
  RunRecord r;
  r.id = st.Text(0);
  r.runbook = st.Text(1);
  r.title = st.Text(2);
  r.source_path = st.Text(3);
  r.content_hash = st.Text(4);
  r.params_json = st.Text(5);
  r.trigger = Enum(ParseTrigger(st.Text(6)));
  r.actor = st.Text(7);
  r.process.host = st.Text(8);
  r.process.pid = st.Int(9);
  r.process.start_time = st.Int(10);
  r.process.boot_id = st.Text(11);
  r.incident = st.Text(12);
  r.parent_run = st.Text(13);
  r.status = Enum(ParseRunStatus(st.Text(14)));
  r.started_at_us = st.Int(15);
  r.finished_at_us = st.OptInt(16);
  r.exit_code = OptInt32(st, 17);
  r.outputs_json = st.Text(18);
  r.error = st.Text(19);
  if (with_source) r.source_text = st.Text(20);
  return r;
}

AttemptRecord ReadAttempt(const sqlite::Statement& st) {
  AttemptRecord a;
  a.run_id = st.Text(0);
  a.step_id = st.Text(1);
  a.block = Enum(ParseBlock(st.Text(2)));
  a.attempt = static_cast<int>(st.Int(3));
  a.status = Enum(ParseAttemptStatus(st.Text(4)));
  a.started_at_us = st.OptInt(5);
  a.finished_at_us = st.OptInt(6);
  a.exit_code = OptInt32(st, 7);
  a.outputs_json = st.Text(8);
  a.error = st.Text(9);
  a.stdout_digest = {st.Int(10), st.Text(11)};
  a.stderr_digest = {st.Int(12), st.Text(13)};
  return a;
}

EventRecord ReadEvent(const sqlite::Statement& st) {
  EventRecord e;
  e.seq = st.Int(0);
  e.run_id = st.Text(1);
  e.step_id = st.Text(2);
  e.attempt = OptInt32(st, 3);
  e.ts_us = st.Int(4);
  e.kind = st.Text(5);
  e.actor = st.Text(6);
  e.message = st.Text(7);
  e.data_json = st.Text(8);
  if (!st.IsNull(9)) e.prev_hash = st.Text(9);
  if (!st.IsNull(10)) e.hash = st.Text(10);
  return e;
}

OutputChunk ReadChunk(const sqlite::Statement& st) {
  OutputChunk c;
  c.rowid = st.Int(0);
  c.run_id = st.Text(1);
  c.step_id = st.Text(2);
  c.attempt = static_cast<int>(st.Int(3));
  c.stream = Enum(ParseStream(st.Text(4)));
  c.seq = st.Int(5);
  c.ts_us = st.Int(6);
  c.offset = st.Int(7);
  c.data = st.Blob(8);
  return c;
}

FindingRecord ReadFinding(const sqlite::Statement& st) {
  FindingRecord f;
  f.id = st.Int(0);
  f.run_id = st.Text(1);
  f.step_id = st.Text(2);
  f.level = Enum(ParseFindingLevel(st.Text(3)));
  f.message = st.Text(4);
  f.value = st.Text(5);
  f.threshold = st.Text(6);
  f.ts_us = st.Int(7);
  return f;
}

ApprovalRecord ReadApproval(const sqlite::Statement& st) {
  ApprovalRecord a;
  a.id = st.Int(0);
  a.run_id = st.Text(1);
  a.step_id = st.Text(2);
  a.decision = Enum(ParseDecision(st.Text(3)));
  a.approver = st.Text(4);
  a.os_user = st.Text(5);
  a.inputs_json = st.Text(6);
  a.comment = st.Text(7);
  a.ts_us = st.Int(8);
  return a;
}

// Steps `st` to the end, converting each row with `read`.
template <class T, class Read>
Result<std::vector<T>> Collect(sqlite::Statement& st, Read read) {
  std::vector<T> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(read(st));
  }
}

bool IsRunIdPrefix(std::string_view ref) {
  return !ref.empty() && ref.size() <= 64 && std::all_of(ref.begin(), ref.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

Result<std::string> Journal::ResolveRunRef(std::string_view ref) const {
  std::lock_guard<std::mutex> lock(reader_mu_);
  sqlite::Db& db = *reader_db_;
  if (ref == "last") {
    Result<sqlite::Statement> st =
        db.Prepare("SELECT id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1");
    if (!st.ok()) return st.status();
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("the journal has no runs");
    return st->Text(0);
  }
  std::string quoted = std::string("'").append(ref).append("'");
  if (!IsRunIdPrefix(ref)) return Status::NotFound("no run matches " + quoted);
  // Ids are lowercase hex, so every id starting with `ref` sorts in
  // [ref, ref + "~"): a range scan of the primary key.
  Result<sqlite::Statement> st =
      db.Prepare("SELECT id FROM runs WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6");
  if (!st.ok()) return st.status();
  std::string low(ref), high = low + "~";
  st->BindText(1, low);
  st->BindText(2, high);
  Result<std::vector<std::string>> ids =
      Collect<std::string>(*st, [](const sqlite::Statement& s) { return s.Text(0); });
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return Status::NotFound("no run matches " + quoted);
  if (ids->size() == 1 || ids->front() == ref) return ids->front();
  std::string list;
  for (size_t i = 0; i < ids->size() && i < 5; ++i) list += (i ? ", " : "") + (*ids)[i];
  if (ids->size() > 5) list += ", ...";
  return Status::InvalidArgument("run prefix " + quoted + " is ambiguous: " + list);
}

Result<std::vector<RunRecord>> Journal::ListRuns(const RunFilter& filter) const {
  // Fixed fragments only; every value is a bound parameter.
  std::string sql = "SELECT " + std::string(kRunColumns) +
                    (filter.with_source ? std::string(kSourceColumn) : "") +
                    " FROM runs WHERE 1";
  if (!filter.runbook.empty()) sql += " AND runbook = ?1";
  if (filter.status) sql += " AND status = ?2";
  if (filter.since_us) sql += " AND started_at >= ?3";
  if (filter.until_us) sql += " AND started_at < ?4";
  if (!filter.incident.empty()) sql += " AND incident_id = ?5";
  if (!filter.parent_run.empty()) sql += " AND parent_run_id = ?6";
  sql += " ORDER BY started_at DESC, rowid DESC";
  if (filter.limit > 0) sql += " LIMIT ?7";

  std::lock_guard<std::mutex> lock(reader_mu_);
  Result<sqlite::Statement> st = reader_db_->Prepare(sql);
  if (!st.ok()) return st.status();
  if (!filter.runbook.empty()) st->BindText(1, filter.runbook);
  if (filter.status) st->BindText(2, ToString(*filter.status));
  if (filter.since_us) st->BindInt(3, *filter.since_us);
  if (filter.until_us) st->BindInt(4, *filter.until_us);
  if (!filter.incident.empty()) st->BindText(5, filter.incident);
  if (!filter.parent_run.empty()) st->BindText(6, filter.parent_run);
  if (filter.limit > 0) st->BindInt(7, static_cast<int64_t>(filter.limit));
  return Collect<RunRecord>(*st, [&](const sqlite::Statement& s) {
    return ReadRun(s, filter.with_source);
  });
}

Result<RunRecord> Journal::GetRun(std::string_view run_id) const {
  std::string sql = "SELECT " + std::string(kRunColumns) + std::string(kSourceColumn) +
                    " FROM runs WHERE id = ?1";
  std::lock_guard<std::mutex> lock(reader_mu_);
  Result<sqlite::Statement> st = reader_db_->Prepare(sql);
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("no run '" + std::string(run_id) + "' in the journal");
  return ReadRun(*st, /*with_source=*/true);
}

Result<std::vector<AttemptRecord>> Journal::GetAttempts(std::string_view run_id) const {
  std::lock_guard<std::mutex> lock(reader_mu_);
  Result<sqlite::Statement> st = reader_db_->Prepare(
      "SELECT run_id, step_id, block, attempt, status, started_at, finished_at, exit_code, "
      "outputs_json, error, stdout_bytes, stdout_sha256, stderr_bytes, stderr_sha256 "
      "FROM step_attempts WHERE run_id = ?1 ORDER BY id");
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  return Collect<AttemptRecord>(*st, ReadAttempt);
}

Result<std::vector<EventRecord>> Journal::GetEvents(std::string_view run_id,
                                                    int64_t after_seq) const {
  std::lock_guard<std::mutex> lock(reader_mu_);
  Result<sqlite::Statement> st = reader_db_->Prepare(
      "SELECT seq, run_id, step_id, attempt, ts, kind, actor, message, data_json, prev_hash, hash "
      "FROM events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq");
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  st->BindInt(2, after_seq);
  return Collect<EventRecord>(*st, ReadEvent);
}

Result<std::vector<OutputChunk>> Journal::GetOutput(std::string_view run_id,
                                                    std::optional<std::string> step,
                                                    int64_t after_rowid, size_t limit) const {
  // A page with a limit ends early past this many bytes: spilled rows hold up
  // to 1 MiB each, and `logs` asks for 64 at a time.
  constexpr size_t kPageBytes = 8u << 20;
  std::string sql =
      "SELECT id, run_id, step_id, attempt, stream, seq, ts, byte_offset, data, spill, spill_offset, "
      "spill_bytes FROM output_chunks WHERE run_id = ?1 AND id > ?2";
  if (step) sql += " AND step_id = ?3";
  sql += " ORDER BY id";
  if (limit > 0) sql += " LIMIT ?4";
  std::lock_guard<std::mutex> lock(reader_mu_);
  Result<sqlite::Statement> st = reader_db_->Prepare(sql);
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  st->BindInt(2, after_rowid);
  if (step) st->BindText(3, *step);
  if (limit > 0) st->BindInt(4, static_cast<int64_t>(limit));
  SpillReader spills(path_);
  std::vector<OutputChunk> out;
  size_t bytes = 0;
  while (limit == 0 || bytes < kPageBytes) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    OutputChunk c = ReadChunk(*st);
    if (!st->IsNull(9)) {
      SpillRef ref{st->Text(9), st->Int(10), st->Int(11)};
      if (Status s = spills.Read(c.run_id, ref, &c.data); !s.ok()) return s;
    }
    bytes += c.data.size();
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::string> Journal::ReadStream(std::string_view run_id, std::string_view step_id, int attempt,
                                        Stream stream, size_t limit, int64_t from) const {
  std::lock_guard<std::mutex> lock(reader_mu_);
  SpillReader spills(path_);
  std::string out;
  Status s = journal::ReadStream(*reader_db_, spills, run_id, step_id, attempt, stream, limit,
                                 [&out](std::string_view piece) {
                                   out.append(piece);
                                   return Status::Ok();
                                 },
                                 from);
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<FindingRecord>> Journal::GetFindings(std::string_view run_id) const {
  std::lock_guard<std::mutex> lock(reader_mu_);
  Result<sqlite::Statement> st = reader_db_->Prepare(
      "SELECT id, run_id, step_id, level, message, value, threshold, ts "
      "FROM findings WHERE run_id = ?1 ORDER BY id");
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  return Collect<FindingRecord>(*st, ReadFinding);
}

Result<std::vector<ApprovalRecord>> Journal::GetApprovals(std::string_view run_id) const {
  std::lock_guard<std::mutex> lock(reader_mu_);
  Result<sqlite::Statement> st = reader_db_->Prepare(
      "SELECT id, run_id, step_id, decision, approver, os_user, inputs_json, comment, ts "
      "FROM approvals WHERE run_id = ?1 ORDER BY id");
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  return Collect<ApprovalRecord>(*st, ReadApproval);
}

}  // namespace runbook::journal
