// The journal's records: plain value structs, one per table (runs,
// step_attempts, events, output_chunks, findings, approvals), and the closed
// enums whose spellings are the strings stored in the database
// (docs/journal.md). The engine fills these and hands them to Journal; the
// CLI reads them back. Values only: no behaviour, no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace runbook::journal {

enum class RunStatus { kRunning, kWaiting, kSucceeded, kFailed, kCancelled, kInterrupted };
enum class AttemptStatus {
  kPending, kWaiting, kRunning, kSucceeded, kFailed, kTimedOut, kSkipped, kCancelled
};
enum class Block { kMain, kOnFailure, kFinally };
enum class Trigger { kManual, kCron, kResume, kChild, kApi };
enum class Stream { kStdout, kStderr };
enum class FindingLevel { kInfo, kWarning, kCritical };
enum class Decision { kApproved, kRejected };

// The stored spellings: "running", "timed_out", "on_failure", "stdout", ...
std::string_view ToString(RunStatus v);
std::string_view ToString(AttemptStatus v);
std::string_view ToString(Block v);
std::string_view ToString(Trigger v);
std::string_view ToString(Stream v);
std::string_view ToString(FindingLevel v);
std::string_view ToString(Decision v);

// Inverse of ToString; nullopt for any other text.
std::optional<RunStatus> ParseRunStatus(std::string_view s);
std::optional<AttemptStatus> ParseAttemptStatus(std::string_view s);
std::optional<Block> ParseBlock(std::string_view s);
std::optional<Trigger> ParseTrigger(std::string_view s);
std::optional<Stream> ParseStream(std::string_view s);
std::optional<FindingLevel> ParseFindingLevel(std::string_view s);
std::optional<Decision> ParseDecision(std::string_view s);

// False while a run or an attempt is in progress (running, waiting, pending).
// A finished run may still be resumed, which starts it again.
bool IsFinished(RunStatus v);
bool IsFinished(AttemptStatus v);

// The process executing a run, for stale-run detection (journal/identity.h
// fills it for the current process).
struct ProcessIdentity {
  std::string host;           // gethostname()
  int64_t pid = 0;
  int64_t start_time = 0;     // /proc/PID/stat field 22: clock ticks after boot
  std::string boot_id;        // /proc/sys/kernel/random/boot_id; "" if unknown
};

struct RunRecord {
  std::string id;             // 12 lowercase hex chars (NewRunId)
  std::string runbook;        // the runbook's name
  std::string title;
  std::string source_path;
  std::string content_hash;   // SHA-256 hex of source_text
  std::string source_text;    // full YAML as loaded (ListRuns leaves it empty)
  std::string params_json = "{}";
  Trigger trigger = Trigger::kManual;
  std::string actor;          // "user@host", or "scheduler"
  ProcessIdentity process;
  std::string incident;       // "" = none (stored as NULL)
  std::string parent_run;     // "" = none (stored as NULL)
  RunStatus status = RunStatus::kRunning;
  int64_t started_at_us = 0;  // microseconds since the Unix epoch, UTC
  std::optional<int64_t> finished_at_us;
  std::optional<int> exit_code;
  std::string outputs_json = "{}";
  std::string error;
};

// What was captured on one stream of one attempt: the engine counts and
// hashes incrementally (journal/sha256.h) as chunks go by.
struct StreamDigest {
  int64_t bytes = 0;
  std::string sha256;         // hex; "" until the attempt has finished
};

// One attempt of one step. Key: (run_id, step_id, attempt); PutAttempt
// inserts the first time and updates the mutable fields afterwards.
struct AttemptRecord {
  std::string run_id;
  std::string step_id;
  Block block = Block::kMain;
  int attempt = 1;            // 1-based
  AttemptStatus status = AttemptStatus::kPending;
  std::optional<int64_t> started_at_us;
  std::optional<int64_t> finished_at_us;
  std::optional<int> exit_code;
  std::string outputs_json = "{}";
  std::string error;
  StreamDigest stdout_digest;
  StreamDigest stderr_digest;
};

// One timeline entry. `kind` is free text: run_started, run_finished,
// step_started, step_finished, step_skipped, retry, timeout, cancel,
// approval_asked, approval_decided, note, finding, warning, interrupted, ...
struct EventRecord {
  int64_t seq = 0;            // assigned by the journal; ignored by AppendEvent
  std::string run_id;         // "" = a journal-level event (stored as NULL)
  std::string step_id;        // "" = none (stored as NULL)
  std::optional<int> attempt;
  int64_t ts_us = 0;
  std::string kind;
  std::string actor;
  std::string message;
  std::string data_json = "{}";
  // The hash chain (journal/chain.h), filled by the journal when the event is
  // written (AppendEvent ignores them, and seq); NULL only in events written
  // before the chain existed.
  std::optional<std::string> prev_hash;
  std::optional<std::string> hash;
};

// A piece of captured output, byte-exact (NUL and invalid UTF-8 included).
struct OutputChunk {
  int64_t rowid = 0;          // assigned by SQLite; the `logs --follow` cursor
  std::string run_id;
  std::string step_id;
  int attempt = 1;
  Stream stream = Stream::kStdout;
  int64_t seq = 0;            // 0-based within (run, step, attempt, stream)
  int64_t ts_us = 0;
  int64_t offset = 0;         // byte offset of data[0] within the stream
  std::string data;
};

struct FindingRecord {
  int64_t id = 0;             // assigned by SQLite
  std::string run_id;
  std::string step_id;
  FindingLevel level = FindingLevel::kInfo;
  std::string message;
  std::string value;          // as shown, e.g. "93.5"; "" = none
  std::string threshold;      // e.g. "> 90"; "" = none
  int64_t ts_us = 0;
};

struct ApprovalRecord {
  int64_t id = 0;             // assigned by SQLite
  std::string run_id;
  std::string step_id;
  Decision decision = Decision::kApproved;
  std::string approver;       // the name decided with (--as), else os_user
  std::string os_user;        // who really ran the command: "user@host"
  std::string inputs_json = "{}";
  std::string comment;
  int64_t ts_us = 0;
};

// ListRuns: every set field narrows the result; newest first.
struct RunFilter {
  std::string runbook;
  std::optional<RunStatus> status;
  std::optional<int64_t> since_us;   // started_at >= since
  std::optional<int64_t> until_us;   // started_at < until
  std::string incident;
  std::string parent_run;
  size_t limit = 0;                  // 0 = no limit
  bool with_source = false;          // fill RunRecord::source_text
};

}  // namespace runbook::journal
