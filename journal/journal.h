// The journal: the SQLite file that records every run, step attempt, event,
// byte of output, finding and approval (SPEC §6, docs/journal.md). It is
// audit evidence and a file format (journal/schema.sql).
//
// Writes never block on SQLite. Callers on any thread enqueue records; one
// writer thread owned by the Journal (started by the first record enqueued
// outside a Hold), with its own connection, drains the queue and applies
// everything pending in one transaction (group commit: it waits up to the
// commit window for more, bounded by OpenOptions so that transactions stay
// short for the other processes sharing the file). Sync() is the durability
// barrier the engine waits on before acting on a state transition;
// SyncHere() is the same barrier committed on the calling thread when the
// writer is idle. A step's start has a cheaper barrier of its own,
// StartAttempt(): a line in this process's start log, which a later Open
// reads back if this process dies first. The first failed write makes the
// journal refuse all further writes (writer_status(), every Sync reports
// it): records are never dropped silently.
//
// Reads go through a separate read-only connection guarded by a mutex, usable
// from any thread; they see committed data only.
//
// Open also marks the runs of dead engine processes 'interrupted'
// (journal/stale.h). Many processes may open the same file at once: Open
// only reads unless the file needs its schema or has stale runs to mark,
// and retries the write lock for about a minute when it does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "journal/records.h"
#include "journal/sqlite.h"
#include "journal/write_ops.h"

namespace runbook::journal {

class StartLogWriter;

struct OpenOptions {
  // SQLite busy timeout on every connection: how long a statement waits for
  // another process's write transaction before failing.
  int busy_timeout_ms = 10000;
  // Mark the runs of dead engine processes on this host 'interrupted'.
  bool mark_stale_runs = true;
  // Limits of one write transaction; what is left waits for the next one.
  size_t max_transaction_records = 20000;
  size_t max_transaction_output_bytes = 8u << 20;
  // Hard cap of pending_bytes(): AppendOutput blocks its caller while the
  // queue holds more than this (the engine should throttle long before, see
  // pending_bytes()).
  size_t max_pending_output_bytes = 256u << 20;
  // Once one stream of one attempt has more output than this, its further
  // bytes go to a spill file beside the journal instead of into SQLite
  // (journal/spill.h, docs/journal.md). Negative: never.
  int64_t spill_threshold_bytes = 1 << 20;
  // How long the writer waits for more records before it commits what is
  // queued (group commit), unless a barrier (Sync), 1,024 records or 1 MiB
  // of output end the wait first. Readers see records up to this much
  // later; nothing is less durable for it (a step's start is in the start
  // log, everything else that must be durable waits for a barrier).
  std::chrono::milliseconds commit_window{10};
  // Test hook: runs on the writer thread inside every write transaction just
  // before COMMIT; a non-ok Status fails that transaction like a SQLite error.
  std::function<Status(sqlite::Db&)> before_commit_for_testing;
};

class Journal {
 public:
  // Creates the file (and its directories) when missing, refuses symbolic
  // links, non-databases, other applications' databases and newer schema
  // versions, migrates older ones, marks stale runs, starts the writer.
  static Result<std::unique_ptr<Journal>> Open(const std::string& path,
                                               const OpenOptions& options = {});
  // Close()s.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Commits everything enqueued, stops the writer thread, makes everything
  // this journal committed durable (one fdatasync of the WAL, docs/journal.md)
  // and returns writer_status() (a failed sync included). Idempotent.
  // REQUIRES: not called on the writer thread, nor by two threads at once.
  Status Close();

  const std::string& path() const { return path_; }
  // Ids of the runs Open marked 'interrupted' (for the CLI to mention).
  const std::vector<std::string>& interrupted_on_open() const { return interrupted_; }

  // --- Writes: any thread; enqueue only, never block on SQLite. -------------
  // A zero timestamp (started_at_us, ts_us) is replaced by "now" when the
  // record is enqueued. Text fields documented "" = none become NULL.

  void CreateRun(RunRecord run);
  void FinishRun(std::string run_id, RunStatus status, int64_t finished_at_us,
                 std::optional<int> exit_code, std::string outputs_json, std::string error);
  // E.g. running -> waiting when the engine stops for an approval.
  void SetRunStatus(std::string run_id, RunStatus status);
  // The run continues in the process `owner` (normally CurrentProcess()):
  // status 'running', finished_at/exit_code/error cleared, and the recorded
  // engine process replaced so that stale detection watches the new one.
  void ResumeRun(std::string run_id, ProcessIdentity owner);
  // Inserts (run, step, attempt) or updates its mutable fields.
  void PutAttempt(AttemptRecord attempt);
  // The writer assigns seq, prev_hash and hash (the hash chain,
  // journal/chain.h) inside the transaction that inserts the row.
  void AppendEvent(EventRecord event);
  // Stored byte-exact. Blocks only beyond max_pending_output_bytes.
  // REQUIRES: not called on the writer thread (i.e. not from a Sync callback).
  void AppendOutput(OutputChunk chunk);
  void AddFinding(FindingRecord finding);
  void AddApproval(ApprovalRecord approval);

  // A step attempt starts: its 'running' row and its step_started event are
  // queued like PutAttempt and AppendEvent (committed within the commit
  // window), and appended to this process's start log (one write(2),
  // journal/start_log.h). That is the barrier before the step's process
  // starts: once this returns ok, the start is in the journal even if this
  // process dies before the commit (the next Open adds it from the start
  // log). Only the start is: what was queued before it is not, so a step
  // that waited for ends not yet committed (committed_mark) takes
  // Sync/SyncHere instead. Close() removes the start log. A zero
  // started_at_us / ts_us is "now". Errors: the sticky writer failure
  // (nothing queued), or "journal write failed: cannot create (write) the
  // start log PATH: ..." (the records are queued; the caller must not start
  // the step, and should record that).
  Status StartAttempt(AttemptRecord running, EventRecord started);

  // Records are numbered in the order they are queued. queued_mark(): the
  // number of the last one queued so far; committed_mark(): of the last one
  // committed (everything numbered up to it is). A caller that needs
  // records it queued to be committed before it acts, and finds them
  // committed already, can skip a barrier.
  uint64_t queued_mark() const;
  uint64_t committed_mark() const { return committed_.load(std::memory_order_acquire); }

  // Durability barrier: `done` runs once everything enqueued before this
  // call is committed (Status ok) or has failed (the sticky writer error), on
  // the thread that committed it: the writer thread, or a thread in
  // SyncHere(). It must be quick and must not call SyncHere, SyncBlocking,
  // Close or AppendOutput; posting to an event loop is the intended use.
  // (After Close(), `done` runs at once on the calling thread with an error.)
  void Sync(std::function<void(Status)> done);
  // Sync and wait. REQUIRES: not called on the writer thread.
  Status SyncBlocking();
  // The barrier without the writer thread: when no transaction is in
  // progress, commits everything enqueued on the calling thread and returns
  // the outcome (as Sync would report it); nullopt when the writer is in the
  // middle of one, and then the caller uses Sync(). Commits take about as
  // long as the writer's (a few tens of microseconds for a step's records).
  // REQUIRES: not called from a Sync callback.
  std::optional<Status> SyncHere();

  // While a Hold lives, enqueueing does not wake the writer thread: for
  // records about to be committed by SyncHere() on the same thread (waking
  // the writer only to find the queue taken costs both threads a context
  // switch). Its end wakes the writer if anything is left. Keep it short:
  // the engine's spans one pass of its event loop (SyncJournal yields once
  // before it commits), never a wait for anything else. What others enqueue
  // meanwhile waits for that commit too, except output past
  // max_pending_output_bytes, whose backstop wakes the writer regardless.
  class Hold {
   public:
    explicit Hold(Journal& journal);
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    Journal& journal_;
  };

  // A commit may fail after the engine has gone on (records are committed
  // within the commit window): `on_failure` runs once, with the failure,
  // when a write fails and the journal starts refusing writes; at once, on
  // the calling thread, if it already has. It runs on the thread that
  // committed, under a lock of its own: the rules of a Sync callback apply
  // (quick, post to an event loop; no Watch or Unwatch from inside it).
  // Returns the id UnwatchFailure takes (0: it has run already). After
  // UnwatchFailure returns, the callback is not running and never runs.
  uint64_t WatchFailure(std::function<void(Status)> on_failure);
  void UnwatchFailure(uint64_t id);

  // Bytes of output enqueued but not yet committed. The engine applies
  // backpressure with it: above a high-water mark (say 32 MiB) it stops
  // reading its children's pipes and resumes from a Sync callback.
  size_t pending_bytes() const { return pending_bytes_.load(std::memory_order_relaxed); }
  // Ok, or the first write failure ("journal write failed: PATH: ...").
  Status writer_status() const;
  // Transactions this Journal has committed so far (tests: which records
  // shared a commit).
  uint64_t transactions() const { return transactions_.load(std::memory_order_relaxed); }

  // --- Reads: any thread; committed data only (journal/queries.cc). ---------

  // A full id, a unique prefix of one, or "last" (the latest started run).
  // Errors: "no run matches 'abc'", "run prefix 'a' is ambiguous: a1b2c3d4e5f6,
  // a9f0...", "the journal has no runs" (for "last").
  Result<std::string> ResolveRunRef(std::string_view ref) const;
  // Newest first (started_at, then insertion order).
  Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) const;
  // Error: "no run 'ID' in the journal".
  Result<RunRecord> GetRun(std::string_view run_id) const;
  // In insertion order.
  Result<std::vector<AttemptRecord>> GetAttempts(std::string_view run_id) const;
  // Events of the run with seq > after_seq, in seq order.
  Result<std::vector<EventRecord>> GetEvents(std::string_view run_id, int64_t after_seq = 0) const;
  // Up to `limit` chunks (0 = all) of the run (or of one step) with
  // rowid > after_rowid, in rowid order, which is commit order: poll with the
  // last rowid seen to follow a run's output. Spilled chunks come with their
  // bytes read from the spill file (an error if it is missing or short);
  // with a limit, a page stops early once it holds 8 MiB.
  Result<std::vector<OutputChunk>> GetOutput(std::string_view run_id,
                                             std::optional<std::string> step,
                                             int64_t after_rowid = 0, size_t limit = 0) const;
  // The first `limit` bytes (0 = all) of one stream of one attempt from byte
  // `from` on, wherever they are stored (output_chunks or a spill file).
  Result<std::string> ReadStream(std::string_view run_id, std::string_view step_id, int attempt,
                                 Stream stream, size_t limit = 0, int64_t from = 0) const;
  Result<std::vector<FindingRecord>> GetFindings(std::string_view run_id) const;
  Result<std::vector<ApprovalRecord>> GetApprovals(std::string_view run_id) const;

 private:
  Journal(std::string path, const OpenOptions& options, bool created, bool unsynced_first_commit,
          std::unique_ptr<sqlite::Db> writer_db, WriteStatements statements,
          std::unique_ptr<sqlite::Db> reader_db, std::vector<std::string> interrupted);

  void Enqueue(WriteOp op);
  // Takes everything queued and commits it (CommitOps); then, unless the
  // journal has failed, advances committed_mark() and empties the start log
  // if nothing was appended meanwhile. Returns writer_status(). What every
  // committer does: the writer thread, SyncHere, Close.
  // REQUIRES: commit_mu_ held.
  Status CommitQueue();
  // The commit window ends: a barrier, kBatchRecords records or
  // kOutputBatchBytes of output are queued. REQUIRES: mu_ held.
  bool WindowFullLocked() const;
  // Starts the writer thread if it is not running. REQUIRES: mu_ held.
  void StartWriterLocked();
  void WriterLoop();
  // A commit left the WAL past the auto-checkpoint length (called on the
  // committing thread, inside the commit). The first time, the writer
  // thread is asked for Checkpoint(), and the commit goes on (true). Commits
  // go on while that runs, so it cannot copy the frames they add, and SQLite
  // restarts the WAL only once everything in it is copied; so the first
  // commit after it checkpoints the rest itself (false), which costs a
  // fraction of the whole, and the next commit starts the WAL over.
  bool DeferCheckpoint();
  // A PASSIVE checkpoint through a connection of its own, on the writer
  // thread: the engine's commits (SyncHere) go on meanwhile instead of
  // waiting for the checkpoint's copying and fsyncs. Writer thread only.
  void Checkpoint();
  // Applies `ops` in transactions within the OpenOptions limits and answers
  // the barriers among them. REQUIRES: commit_mu_ held.
  void CommitOps(std::vector<WriteOp>& ops);
  // Applies ops[begin, end) in one transaction; returns its outcome.
  Status CommitSlice(std::vector<WriteOp>& ops, size_t begin, size_t end);

  const std::string path_;
  const OpenOptions options_;
  const std::vector<std::string> interrupted_;
  const bool created_;  // Open gave an empty file its schema (Close syncs the file too)

  // Whoever commits: the writer thread, SyncHere, Close. Taken before mu_,
  // and held from taking ops off the queue until they are committed, so
  // that transactions keep the order of the queue.
  std::mutex commit_mu_;
  // Guarded by commit_mu_ (after construction).
  std::unique_ptr<sqlite::Db> writer_db_;
  WriteStatements statements_;
  // The writer connection runs with synchronous=OFF until its first commit
  // is written: the WAL file is new (Open), and the sync SQLite makes of a
  // new WAL's header only guards against older frames in the file.
  bool unsynced_first_commit_;

  // This process's start log: appended by StartAttempt, emptied by
  // committers once everything in it is committed, removed by Close.
  const std::unique_ptr<StartLogWriter> start_log_;

  // Writer thread only: opened at the first Checkpoint().
  std::unique_ptr<sqlite::Db> checkpoint_db_;

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable wake_writer_;
  std::condition_variable output_drained_;
  std::vector<WriteOp> queue_;
  Status status_;          // sticky first failure
  bool closing_ = false;
  bool closed_ = false;
  int holds_ = 0;          // live Hold objects
  int barriers_ = 0;       // BarrierOps in queue_
  uint64_t queued_ = 0;    // records ever queued (queued_mark)
  std::atomic<uint64_t> committed_{0};  // committed_mark, written under commit_mu_
  // The background checkpoint (DeferCheckpoint, Checkpoint): asked of the
  // writer, running, done. Set to kCheckpointAsked under mu_ (the writer's
  // wait predicate reads it); atomic for DeferCheckpoint's other reads.
  enum CheckpointState { kCheckpointIdle, kCheckpointAsked, kCheckpointRunning, kCheckpointDone };
  std::atomic<int> checkpoint_state_{kCheckpointIdle};
  bool batching_ = false;  // the writer is in its commit window (WriterLoop)
  std::atomic<size_t> pending_bytes_{0};
  std::atomic<uint64_t> transactions_{0};
  std::thread writer_;

  // Guards WatchFailure's callbacks. WatchFailure takes mu_ under it; no
  // one takes it under mu_.
  std::mutex watchers_mu_;
  std::vector<std::pair<uint64_t, std::function<void(Status)>>> watchers_;
  uint64_t last_watch_ = 0;

  mutable std::mutex reader_mu_;  // guards reader_db_
  std::unique_ptr<sqlite::Db> reader_db_;
};

}  // namespace runbook::journal
