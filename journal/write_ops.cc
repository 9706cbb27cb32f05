#include "journal/write_ops.h"

#include <utility>

namespace runbook::journal {

namespace {

constexpr std::string_view kInsertRun = R"sql(
INSERT INTO runs (id, runbook, title, source_path, content_hash, source_text, params_json,
                  trigger_kind, actor, host, pid, process_start, boot_id, incident_id,
                  parent_run_id, status, started_at, finished_at, exit_code, outputs_json, error)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
        ?20, ?21))sql";

constexpr std::string_view kFinishRun = R"sql(
UPDATE runs SET status = ?2, finished_at = ?3, exit_code = ?4, outputs_json = ?5, error = ?6
WHERE id = ?1)sql";

constexpr std::string_view kSetRunStatus = "UPDATE runs SET status = ?2 WHERE id = ?1";

constexpr std::string_view kResumeRun = R"sql(
UPDATE runs SET status = 'running', finished_at = NULL, exit_code = NULL, error = '',
                host = ?2, pid = ?3, process_start = ?4, boot_id = ?5
WHERE id = ?1)sql";

constexpr std::string_view kPutAttempt = R"sql(
INSERT INTO step_attempts (run_id, step_id, block, attempt, status, started_at, finished_at,
                           exit_code, outputs_json, error, stdout_bytes, stdout_sha256,
                           stderr_bytes, stderr_sha256)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
ON CONFLICT (run_id, step_id, attempt) DO UPDATE SET
  block = excluded.block, status = excluded.status, started_at = excluded.started_at,
  finished_at = excluded.finished_at, exit_code = excluded.exit_code,
  outputs_json = excluded.outputs_json, error = excluded.error,
  stdout_bytes = excluded.stdout_bytes, stdout_sha256 = excluded.stdout_sha256,
  stderr_bytes = excluded.stderr_bytes, stderr_sha256 = excluded.stderr_sha256)sql";

constexpr std::string_view kInsertChunk = R"sql(
INSERT INTO output_chunks (run_id, step_id, attempt, stream, seq, ts, byte_offset, data)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql";

// A row whose bytes are in a spill file (journal/spill.h): data is empty.
constexpr std::string_view kInsertSpillChunk = R"sql(
INSERT INTO output_chunks (run_id, step_id, attempt, stream, seq, ts, byte_offset, data, spill,
                           spill_offset, spill_bytes)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, X'', ?8, ?9, ?10))sql";

constexpr std::string_view kInsertFinding = R"sql(
INSERT INTO findings (run_id, step_id, level, message, value, threshold, ts)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql";

constexpr std::string_view kInsertApproval = R"sql(
INSERT INTO approvals (run_id, step_id, decision, approver, os_user, inputs_json, comment, ts)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql";

std::optional<int64_t> Widen(std::optional<int> v) {
  if (!v) return std::nullopt;
  return *v;
}

}  // namespace

size_t OutputBytes(const WriteOp& op) {
  const OutputChunk* chunk = std::get_if<OutputChunk>(&op);
  return chunk ? chunk->data.size() : 0;
}

Result<WriteStatements> WriteStatements::Prepare(sqlite::Db& db) {
  WriteStatements w;
  w.db_ = &db;
  struct Item {
    sqlite::Statement* stmt;
    std::string_view sql;
  };
  const Item items[] = {
      {&w.begin_, "BEGIN IMMEDIATE"},       {&w.commit_, "COMMIT"},
      {&w.rollback_, "ROLLBACK"},           {&w.insert_run_, kInsertRun},
      {&w.finish_run_, kFinishRun},         {&w.set_run_status_, kSetRunStatus},
      {&w.resume_run_, kResumeRun},         {&w.put_attempt_, kPutAttempt},
      {&w.insert_event_, kInsertChainedEventSql},     {&w.insert_chunk_, kInsertChunk},
      {&w.insert_finding_, kInsertFinding}, {&w.insert_approval_, kInsertApproval},
      {&w.last_event_, kLastEventSql},      {&w.event_counter_, kEventCounterSql},
      {&w.insert_spill_chunk_, kInsertSpillChunk},
  };
  for (const Item& item : items) {
    Result<sqlite::Statement> st = db.Prepare(item.sql, /*persistent=*/true);
    if (!st.ok()) return st.status();
    *item.stmt = std::move(*st);
  }
  return w;
}

Status WriteStatements::Apply(const WriteOp& op) {
  return std::visit([this](const auto& v) { return Apply(v); }, op);
}

Status WriteStatements::Commit() {
  if (Status s = spill_.Flush(Inserter()); !s.ok()) return s;
  return commit_.Run();
}

Status WriteStatements::CheckUpdated(const std::string& run_id) {
  if (db_->Changes() == 1) return Status::Ok();
  return Status::NotFound(db_->path() + ": no run '" + run_id + "' to update");
}

Status WriteStatements::Apply(const RunRecord& r) {
  sqlite::Statement& st = insert_run_;
  st.BindText(1, r.id);
  st.BindText(2, r.runbook);
  st.BindText(3, r.title);
  st.BindText(4, r.source_path);
  st.BindText(5, r.content_hash);
  st.BindText(6, r.source_text);
  st.BindText(7, r.params_json);
  st.BindText(8, ToString(r.trigger));
  st.BindText(9, r.actor);
  st.BindText(10, r.process.host);
  st.BindInt(11, r.process.pid);
  st.BindInt(12, r.process.start_time);
  st.BindText(13, r.process.boot_id);
  st.BindTextOrNull(14, r.incident);
  st.BindTextOrNull(15, r.parent_run);
  st.BindText(16, ToString(r.status));
  st.BindInt(17, r.started_at_us);
  st.BindOptInt(18, r.finished_at_us);
  st.BindOptInt(19, Widen(r.exit_code));
  st.BindText(20, r.outputs_json);
  st.BindText(21, r.error);
  return st.Run();
}

Status WriteStatements::Apply(const FinishRunOp& op) {
  sqlite::Statement& st = finish_run_;
  st.BindText(1, op.run_id);
  st.BindText(2, ToString(op.status));
  st.BindInt(3, op.finished_at_us);
  st.BindOptInt(4, Widen(op.exit_code));
  st.BindText(5, op.outputs_json);
  st.BindText(6, op.error);
  if (Status s = st.Run(); !s.ok()) return s;
  return CheckUpdated(op.run_id);
}

Status WriteStatements::Apply(const SetRunStatusOp& op) {
  set_run_status_.BindText(1, op.run_id);
  set_run_status_.BindText(2, ToString(op.status));
  if (Status s = set_run_status_.Run(); !s.ok()) return s;
  return CheckUpdated(op.run_id);
}

Status WriteStatements::Apply(const ResumeRunOp& op) {
  sqlite::Statement& st = resume_run_;
  st.BindText(1, op.run_id);
  st.BindText(2, op.owner.host);
  st.BindInt(3, op.owner.pid);
  st.BindInt(4, op.owner.start_time);
  st.BindText(5, op.owner.boot_id);
  if (Status s = st.Run(); !s.ok()) return s;
  return CheckUpdated(op.run_id);
}

Status WriteStatements::Apply(const AttemptRecord& a) {
  // The record that ends an attempt must never point at spilled bytes a
  // power loss can take: sync them first.
  if (IsFinished(a.status)) {
    if (Status s = spill_.FinishAttempt(a.run_id, a.step_id, a.attempt, Inserter()); !s.ok()) return s;
  }
  sqlite::Statement& st = put_attempt_;
  st.BindText(1, a.run_id);
  st.BindText(2, a.step_id);
  st.BindText(3, ToString(a.block));
  st.BindInt(4, a.attempt);
  st.BindText(5, ToString(a.status));
  st.BindOptInt(6, a.started_at_us);
  st.BindOptInt(7, a.finished_at_us);
  st.BindOptInt(8, Widen(a.exit_code));
  st.BindText(9, a.outputs_json);
  st.BindText(10, a.error);
  st.BindInt(11, a.stdout_digest.bytes);
  st.BindText(12, a.stdout_digest.sha256);
  st.BindInt(13, a.stderr_digest.bytes);
  st.BindText(14, a.stderr_digest.sha256);
  return st.Run();
}

Status WriteStatements::Apply(const EventRecord& e) {
  // e.seq, e.prev_hash and e.hash are ignored: the chain assigns them.
  if (!head_) {
    Result<ChainHead> head = ReadChainHead(last_event_, event_counter_);
    if (!head.ok()) return head.status();
    head_ = std::move(*head);
  }
  Result<int64_t> seq = AppendChained(insert_event_, *head_, ChainFieldsOf(e));
  if (!seq.ok()) {
    head_.reset();  // the failed insert may have left it behind the table
    return seq.status();
  }
  return Status::Ok();
}

Status WriteStatements::Apply(const OutputChunk& c) {
  if (spill_.Wants(c)) return spill_.Add(c, Inserter());
  // A pending spilled row goes first, so that rowids keep commit order.
  if (Status s = spill_.Flush(Inserter()); !s.ok()) return s;
  sqlite::Statement& st = insert_chunk_;
  st.BindText(1, c.run_id);
  st.BindText(2, c.step_id);
  st.BindInt(3, c.attempt);
  st.BindText(4, ToString(c.stream));
  st.BindInt(5, c.seq);
  st.BindInt(6, c.ts_us);
  st.BindInt(7, c.offset);
  st.BindBlob(8, c.data);
  return st.Run();
}

Status WriteStatements::InsertSpillRow(const SpillRow& r) {
  sqlite::Statement& st = insert_spill_chunk_;
  st.BindText(1, r.run_id);
  st.BindText(2, r.step_id);
  st.BindInt(3, r.attempt);
  st.BindText(4, ToString(r.stream));
  st.BindInt(5, r.seq);
  st.BindInt(6, r.ts_us);
  st.BindInt(7, r.byte_offset);
  st.BindText(8, r.spill);
  st.BindInt(9, r.spill_offset);
  st.BindInt(10, r.spill_bytes);
  return st.Run();
}

Status WriteStatements::Apply(const FindingRecord& f) {
  sqlite::Statement& st = insert_finding_;
  st.BindText(1, f.run_id);
  st.BindText(2, f.step_id);
  st.BindText(3, ToString(f.level));
  st.BindText(4, f.message);
  st.BindText(5, f.value);
  st.BindText(6, f.threshold);
  st.BindInt(7, f.ts_us);
  return st.Run();
}

Status WriteStatements::Apply(const ApprovalRecord& a) {
  sqlite::Statement& st = insert_approval_;
  st.BindText(1, a.run_id);
  st.BindText(2, a.step_id);
  st.BindText(3, ToString(a.decision));
  st.BindText(4, a.approver);
  st.BindText(5, a.os_user);
  st.BindText(6, a.inputs_json);
  st.BindText(7, a.comment);
  st.BindInt(8, a.ts_us);
  return st.Run();
}

}  // namespace runbook::journal
