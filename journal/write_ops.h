// Internal to the journal: the operations callers enqueue on a Journal, and
// WriteStatements, the prepared statements the writer thread applies them
// with (and the spill files that large output goes to, journal/spill.h).
// Owned by Journal; WriteStatements lives on the writer thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "engine/status.h"
#include "journal/chain.h"
#include "journal/records.h"
#include "journal/spill_writer.h"
#include "journal/sqlite.h"

namespace runbook::journal {

struct FinishRunOp {
  std::string run_id;
  RunStatus status;
  int64_t finished_at_us;
  std::optional<int> exit_code;
  std::string outputs_json;
  std::string error;
};

struct SetRunStatusOp {
  std::string run_id;
  RunStatus status;
};

struct ResumeRunOp {
  std::string run_id;
  ProcessIdentity owner;
};

// A durability barrier: `done` runs once everything before it is committed.
struct BarrierOp {
  std::function<void(Status)> done;
};

using WriteOp = std::variant<RunRecord, FinishRunOp, SetRunStatusOp, ResumeRunOp, AttemptRecord,
                             EventRecord, OutputChunk, FindingRecord, ApprovalRecord, BarrierOp>;

// Bytes of captured output an operation carries (what pending_bytes counts).
size_t OutputBytes(const WriteOp& op);

class WriteStatements {
 public:
  // Prepares every statement once, on the writer's connection.
  static Result<WriteStatements> Prepare(sqlite::Db& db);

  // Output of a stream beyond `threshold` bytes goes to spill files beside
  // `journal_path` from now on (negative: never; the default).
  void EnableSpill(std::string journal_path, int64_t threshold) {
    spill_.Enable(std::move(journal_path), threshold);
  }

  // The chain head is read again in every transaction (other processes
  // append to the same file between our transactions).
  Status Begin() {
    head_.reset();
    return begin_.Run();
  }
  // Writes and inserts the pending spilled row first.
  Status Commit();
  Status Rollback() {
    head_.reset();
    spill_.DropPending();
    return rollback_.Run();
  }
  // Applies one operation inside the open transaction (barriers: nothing).
  // Events are hash-chained (journal/chain.h): the first event of a
  // transaction reads the chain's head, the others continue from it.
  // An OutputChunk may be kept by pointer until Commit or Rollback (spilled
  // bytes are written when their row is complete): `op` must stay alive
  // and unchanged until then. An AttemptRecord that ends its attempt first
  // fdatasyncs the attempt's spill files.
  Status Apply(const WriteOp& op);
  // fdatasyncs and closes the open spill files (when the writer stops).
  Status CloseSpillFiles() { return spill_.CloseAll(); }

 private:
  Status Apply(const RunRecord& r);
  Status Apply(const FinishRunOp& op);
  Status Apply(const SetRunStatusOp& op);
  Status Apply(const ResumeRunOp& op);
  Status Apply(const AttemptRecord& a);
  Status Apply(const EventRecord& e);
  Status Apply(const OutputChunk& c);
  Status Apply(const FindingRecord& f);
  Status Apply(const ApprovalRecord& a);
  Status Apply(const BarrierOp&) { return Status::Ok(); }
  // An UPDATE that matched no run is a lost write: report it.
  Status CheckUpdated(const std::string& run_id);
  Status InsertSpillRow(const SpillRow& r);
  SpillWriter::Insert Inserter() {
    return [this](const SpillRow& r) { return InsertSpillRow(r); };
  }

  sqlite::Db* db_ = nullptr;
  std::optional<ChainHead> head_;  // within the open transaction
  sqlite::Statement begin_, commit_, rollback_;
  sqlite::Statement insert_run_, finish_run_, set_run_status_, resume_run_;
  sqlite::Statement put_attempt_, insert_event_, insert_chunk_, insert_finding_, insert_approval_;
  sqlite::Statement insert_spill_chunk_;
  sqlite::Statement last_event_, event_counter_;
  SpillWriter spill_;
};

}  // namespace runbook::journal
