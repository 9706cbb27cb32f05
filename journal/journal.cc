#include "journal/journal.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <thread>
#include <utility>

#include "journal/identity.h"
#include "journal/migrations.h"
#include "journal/path.h"
#include "journal/stale.h"
#include "journal/start_log.h"

namespace runbook::journal {

namespace {

// SQLite's default: a commit that leaves the WAL this long checkpoints it.
constexpr int kWalAutoCheckpointPages = 1000;

// A command that wrote and leaves a WAL this long checkpoints and truncates
// it when it closes (Close). Every process that opens the journal after the
// last one closed rebuilds the WAL index from the whole WAL, checksumming
// every frame (about 4,000 instructions a page): a 1,000-page WAL cost each
// later command, `runbook show` included, over a millisecond.
constexpr int kWalTruncateOnClosePages = 256;

// After a busy timeout the writer retries BEGIN this many times before the
// failure becomes sticky (about a minute with the default busy timeout).
constexpr int kBusyRetries = 5;

// The commit window (OpenOptions::commit_window) ends early once this much
// output or this many records are queued.
constexpr size_t kOutputBatchBytes = 1u << 20;
constexpr size_t kBatchRecords = 1024;

// A start log this long is emptied once everything in it is committed.
constexpr int64_t kStartLogTruncateBytes = 64 << 10;

// The per-connection settings. (journal_mode is set once, in Open: it is
// persistent in the file.)
Status Configure(sqlite::Db& db, const OpenOptions& options, bool writer) {
  db.SetBusyTimeout(options.busy_timeout_ms);
  // The last connection to close would checkpoint the WAL into the database
  // (two fsyncs per command); instead the WAL is checkpointed every 1000
  // pages (auto-checkpoint) and Close() syncs what this journal wrote.
  if (Status s = db.DisableCheckpointOnClose(); !s.ok()) return s;
  if (!writer) return db.Exec("PRAGMA query_only = ON; PRAGMA foreign_keys = ON");
  db.SetAutoCheckpoint(kWalAutoCheckpointPages);
  // The CHECK (col IN (...)) constraints guard the file against other
  // writers (a sqlite3 shell); our writer only stores enum spellings from
  // records.cc. SQLite evaluates each IN list through a temporary b-tree
  // per row, which was ~40% of the engine's instructions per step
  // (docs/performance.md), so this connection skips them.
  return db.Exec(
      "PRAGMA ignore_check_constraints = ON; PRAGMA synchronous = NORMAL; "
      "PRAGMA foreign_keys = ON");
}

Status EnableWal(sqlite::Db& db, int busy_timeout_ms) {
  // Switching a new file to WAL needs a lock that SQLite does not wait for
  // (the busy handler is not used for this upgrade), so two processes that
  // create the same journal at once would see "database is locked". Skip the
  // switch when another process already made it, and retry briefly otherwise.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  Result<std::string> mode = db.QueryText("PRAGMA journal_mode");
  while (mode.ok() && *mode != "wal") {
    mode = db.QueryText("PRAGMA journal_mode = WAL");
    if (mode.ok() || db.last_error_code() != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    mode = std::string();  // try again
  }
  if (!mode.ok()) return mode.status();
  if (*mode != "wal")
    return Status::IoError(db.path() + ": cannot use write-ahead logging (journal_mode is " +
                           *mode + ")");
  // Keep the WAL file from staying huge after a burst of output.
  return db.Exec("PRAGMA journal_size_limit = 67108864");
}

// The same code with `prefix` before the message.
Status Prefixed(std::string_view prefix, const Status& s) {
  std::string message = std::string(prefix) + s.message();
  switch (s.code()) {
    case Status::Code::kBusy: return Status::Busy(std::move(message));
    case Status::Code::kIoError: return Status::IoError(std::move(message));
    case Status::Code::kCorruption: return Status::Corruption(std::move(message));
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Status::Code::kNotFound: return Status::NotFound(std::move(message));
    case Status::Code::kFailedPrecondition: return Status::FailedPrecondition(std::move(message));
    default: return Status::Internal(std::move(message));
  }
}

// Opening, configuring and migrating; a file SQLite does not recognise gets
// the message a user understands.
Status ExplainOpenError(const sqlite::Db& db, Status s) {
  if (db.last_error_code() == SQLITE_NOTADB)
    return Status::Corruption(db.path() + " is not a runbook journal (file is not a database)");
  // "PATH: database is locked (...)": other processes kept the write lock.
  if (s.code() == Status::Code::kBusy) return Status::Busy("cannot open journal " + s.message());
  return s;
}

// NOMUTEX: each connection is used by one thread at a time, under the
// Journal's own locks (commit_mu_, reader_mu_), so SQLite's per-connection
// mutex, taken on every API call, is not needed.
Result<std::unique_ptr<sqlite::Db>> OpenConnection(const std::string& path,
                                                   const OpenOptions& options, bool writer) {
  Result<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX);
  if (!db.ok()) return db.status();
  if (Status s = Configure(**db, options, writer); !s.ok()) return ExplainOpenError(**db, s);
  return db;
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path, const OpenOptions& options) {
  bool created_file = false;  // a new, empty journal: the schema, no rows
  if (Status s = CreateJournalFile(path, &created_file); !s.ok()) return s;
  // A new journal whose WAL file the first connection below will create
  // (another process that got to it first makes this false): see below.
  struct stat wal_st;
  const bool unsynced_first_commit =
      created_file && lstat((path + "-wal").c_str(), &wal_st) != 0 && errno == ENOENT;
  Result<std::unique_ptr<sqlite::Db>> writer = OpenConnection(path, options, /*writer=*/true);
  if (!writer.ok()) return writer.status();
  sqlite::Db& db = **writer;
  // Refuse a file that is not ours before changing anything in it. Only
  // reads so far: a journal already current and without stale runs is
  // opened without ever taking the write lock.
  Result<int64_t> version = ReadJournalVersion(db);
  if (!version.ok()) return ExplainOpenError(db, version.status());
  // A new file has nothing to lose yet. CreateJournalFile wrote it complete
  // (its schema and WAL mode); one an older runbook created empty gets them
  // now, without fsyncs. Close() makes the file durable with the first
  // records written to it.
  const bool created = created_file || *version == 0;
  if (*version == 0) {
    if (Status s = db.Exec("PRAGMA synchronous = OFF"); !s.ok()) return ExplainOpenError(db, s);
  }
  if (Status s = EnableWal(db, options.busy_timeout_ms); !s.ok()) return ExplainOpenError(db, s);
  if (*version != kSchemaVersion) {
    if (Status s = MigrateToCurrent(db); !s.ok()) return ExplainOpenError(db, s);
  }
  if (*version == 0) {
    if (Status s = db.Exec("PRAGMA synchronous = NORMAL"); !s.ok()) return ExplainOpenError(db, s);
  }
  // The first commit into a WAL file that did not exist before this Open
  // writes the file's header, and SQLite syncs that header (and then the
  // directory: half a millisecond or more) so that after a power loss no
  // older frame further on in the file can pass for a new one: a new file
  // has none. Until Close() syncs the WAL, the database file and the
  // directory, a new journal's records have no power-loss promise anyway
  // (docs/journal.md). synchronous=NORMAL again after that commit
  // (CommitSlice).
  if (unsynced_first_commit) {
    if (Status s = db.Exec("PRAGMA synchronous = OFF"); !s.ok()) return ExplainOpenError(db, s);
  }

  std::vector<std::string> interrupted;
  if (options.mark_stale_runs && !created) {
    // A write: on a full disk it fails, and then the journal must still open
    // so that `show`, `logs` and `export` work when they are needed most.
    // The runs stay `running` until a later open can mark them.
    Result<std::vector<std::string>> marked = MarkStaleRuns(db, path, HostName(), NowMicros());
    if (marked.ok()) interrupted = std::move(*marked);
  }
  Result<WriteStatements> statements = WriteStatements::Prepare(db);
  if (!statements.ok()) return ExplainOpenError(db, statements.status());
  Result<std::unique_ptr<sqlite::Db>> reader = OpenConnection(path, options, /*writer=*/false);
  if (!reader.ok()) return reader.status();

  return std::unique_ptr<Journal>(new Journal(path, options, created, unsynced_first_commit, std::move(*writer),
                                              std::move(*statements), std::move(*reader),
                                              std::move(interrupted)));
}

Journal::Journal(std::string path, const OpenOptions& options, bool created, bool unsynced_first_commit,
                 std::unique_ptr<sqlite::Db> writer_db, WriteStatements statements,
                 std::unique_ptr<sqlite::Db> reader_db, std::vector<std::string> interrupted)
    : path_(std::move(path)),
      options_(options),
      interrupted_(std::move(interrupted)),
      created_(created),
      writer_db_(std::move(writer_db)),
      statements_(std::move(statements)),
      unsynced_first_commit_(unsynced_first_commit),
      start_log_(std::make_unique<StartLogWriter>(path_)),
      reader_db_(std::move(reader_db)) {
  statements_.EnableSpill(path_, options_.spill_threshold_bytes);
  writer_db_->SetAutoCheckpoint(kWalAutoCheckpointPages, [this] { return DeferCheckpoint(); });
}

Journal::~Journal() { (void)Close(); }

Status Journal::Close() {
  std::thread writer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return status_;
    closing_ = true;
    writer.swap(writer_);
  }
  wake_writer_.notify_one();
  if (writer.joinable()) writer.join();  // it commits the whole queue first
  checkpoint_db_.reset();
  std::lock_guard<std::mutex> commit(commit_mu_);
  {
    // Whatever is still queued (the writer thread, if it ever started,
    // committed everything before it stopped; without it, records no barrier
    // followed may be left), and spill files of attempts that have not ended
    // (a run waiting for an approval), synced now.
    (void)CommitQueue();
    Status s = statements_.CloseSpillFiles();
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    if (!s.ok() && status_.ok()) status_ = Prefixed("journal write failed: ", s);
  }
  // Every start in it is committed. After a failure it stays, and the run
  // stays 'running': the next Open that finds this process gone adds the
  // starts the journal lacks (journal/stale.h).
  if (writer_status().ok()) start_log_->Remove();
  // Durability (docs/journal.md): what this journal committed is in the
  // WAL, written but not synced; one fdatasync of the WAL makes it survive a
  // power loss (of a file created by this Open also the database file, which
  // holds its WAL mode). A journal that wrote nothing syncs nothing.
  if (writer_db_->TotalChanges() > 0) {
    // A long WAL is cut back to zero while nobody else uses the file
    // (kWalTruncateOnClosePages). Otherwise it would only restart at this
    // connection's next commit: the next process's WAL recovery forgets
    // what was checkpointed, so a series of one-transaction commands would
    // grow it (and re-copy all of it) forever.
    if (writer_db_->wal_frames() >= kWalTruncateOnClosePages)
      (void)writer_db_->CheckpointAndTruncateWal();
    if (Status s = writer_db_->SyncToDisk(/*database=*/created_); !s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (status_.ok()) status_ = Prefixed("journal write failed: ", s);
    }
  }
  return writer_status();
}

Status Journal::writer_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

// --- Enqueueing --------------------------------------------------------------

void Journal::Enqueue(WriteOp op) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closing_) {
    // A write after Close() is a caller bug; a barrier still gets an answer.
    lock.unlock();
    if (auto* barrier = std::get_if<BarrierOp>(&op))
      barrier->done(Status::FailedPrecondition("journal " + path_ + " is closed"));
    return;
  }
  bool was_empty = queue_.empty();
  const bool barrier = std::holds_alternative<BarrierOp>(op);
  queue_.push_back(std::move(op));
  ++queued_;
  barriers_ += barrier ? 1 : 0;
  // A writer in its commit window (WriterLoop) is woken when it should end.
  bool cut_batch = batching_ && WindowFullLocked();
  if (holds_ > 0) return;  // the Hold's end wakes the writer if need be
  StartWriterLocked();
  lock.unlock();
  if (was_empty || cut_batch) wake_writer_.notify_one();
}

Status Journal::CommitQueue() {
  // Read before the queue is taken: every line in the file then has its
  // records in what is taken (StartAttempt queues before it appends).
  const int64_t logged = start_log_->size();
  std::vector<WriteOp> ops;
  uint64_t mark;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ops.swap(queue_);
    barriers_ = 0;
    mark = queued_;
  }
  CommitOps(ops);
  Status s = writer_status();
  if (s.ok()) {
    committed_.store(mark, std::memory_order_release);
    start_log_->TruncateIfUnchanged(logged, kStartLogTruncateBytes);
  }
  return s;
}

uint64_t Journal::queued_mark() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
}

bool Journal::WindowFullLocked() const {
  return barriers_ > 0 || queue_.size() >= kBatchRecords ||
         pending_bytes_.load(std::memory_order_relaxed) >= kOutputBatchBytes;
}

void Journal::StartWriterLocked() {
  if (!writer_.joinable()) writer_ = std::thread([this] { WriterLoop(); });
}

Journal::Hold::Hold(Journal& journal) : journal_(journal) {
  std::lock_guard<std::mutex> lock(journal_.mu_);
  ++journal_.holds_;
}

Journal::Hold::~Hold() {
  std::unique_lock<std::mutex> lock(journal_.mu_);
  if (--journal_.holds_ > 0 || journal_.queue_.empty() || journal_.closing_) return;
  journal_.StartWriterLocked();
  lock.unlock();
  journal_.wake_writer_.notify_one();
}

void Journal::CreateRun(RunRecord run) {
  if (run.started_at_us == 0) run.started_at_us = NowMicros();
  Enqueue(std::move(run));
}

void Journal::FinishRun(std::string run_id, RunStatus status, int64_t finished_at_us,
                        std::optional<int> exit_code, std::string outputs_json, std::string error) {
  if (finished_at_us == 0) finished_at_us = NowMicros();
  Enqueue(FinishRunOp{std::move(run_id), status, finished_at_us, exit_code,
                      std::move(outputs_json), std::move(error)});
}

void Journal::SetRunStatus(std::string run_id, RunStatus status) {
  Enqueue(SetRunStatusOp{std::move(run_id), status});
}

void Journal::ResumeRun(std::string run_id, ProcessIdentity owner) {
  Enqueue(ResumeRunOp{std::move(run_id), std::move(owner)});
}

void Journal::PutAttempt(AttemptRecord attempt) { Enqueue(std::move(attempt)); }

void Journal::AppendEvent(EventRecord event) {
  if (event.ts_us == 0) event.ts_us = NowMicros();
  Enqueue(std::move(event));
}

void Journal::AppendOutput(OutputChunk chunk) {
  if (chunk.ts_us == 0) chunk.ts_us = NowMicros();
  size_t n = chunk.data.size();
  {
    // Backstop for a caller that ignores pending_bytes(): wait for the writer
    // to catch up rather than let the queue grow without bound.
    std::unique_lock<std::mutex> lock(mu_);
    // The writer is woken even under a Hold: nothing else would drain the
    // queue while this thread waits.
    if (pending_bytes_.load(std::memory_order_relaxed) + n > options_.max_pending_output_bytes && !closing_) {
      StartWriterLocked();  // normally running already (output wakes it), unless enqueued under a Hold
      wake_writer_.notify_one();
    }
    output_drained_.wait(lock, [&] {
      size_t pending = pending_bytes_.load(std::memory_order_relaxed);
      return closing_ || pending == 0 || pending + n <= options_.max_pending_output_bytes;
    });
  }
  pending_bytes_.fetch_add(n, std::memory_order_relaxed);
  Enqueue(std::move(chunk));
}

void Journal::AddFinding(FindingRecord finding) {
  if (finding.ts_us == 0) finding.ts_us = NowMicros();
  Enqueue(std::move(finding));
}

void Journal::AddApproval(ApprovalRecord approval) {
  if (approval.ts_us == 0) approval.ts_us = NowMicros();
  Enqueue(std::move(approval));
}

Status Journal::StartAttempt(AttemptRecord running, EventRecord started) {
  if (Status s = writer_status(); !s.ok()) return s;
  if (!running.started_at_us || *running.started_at_us == 0) running.started_at_us = NowMicros();
  if (started.ts_us == 0) started.ts_us = *running.started_at_us;
  std::string line = StartLogLine(running, started);
  // Queued first: the records of every line in the file are then queued
  // when a committer reads the file's size (CommitQueue).
  Enqueue(std::move(running));
  Enqueue(std::move(started));
  if (Status s = start_log_->Append(line); !s.ok()) return Prefixed("journal write failed: ", s);
  return Status::Ok();
}

void Journal::Sync(std::function<void(Status)> done) { Enqueue(BarrierOp{std::move(done)}); }

Status Journal::SyncBlocking() {
  if (std::optional<Status> s = SyncHere()) return *s;
  std::promise<Status> promise;
  std::future<Status> result = promise.get_future();
  Sync([&promise](Status s) { promise.set_value(std::move(s)); });
  return result.get();
}

std::optional<Status> Journal::SyncHere() {
  std::unique_lock<std::mutex> commit(commit_mu_, std::try_to_lock);
  if (!commit.owns_lock()) return std::nullopt;  // the writer is committing
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return Status::FailedPrecondition("journal " + path_ + " is closed");
  }
  return CommitQueue();
}

// --- The writer thread -------------------------------------------------------

bool Journal::DeferCheckpoint() {
  int state = checkpoint_state_.load();
  if (state == kCheckpointAsked || state == kCheckpointRunning) return true;
  if (state == kCheckpointDone) {
    checkpoint_state_ = kCheckpointIdle;
    return false;  // the rest, here
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return false;
    checkpoint_state_ = kCheckpointAsked;
    StartWriterLocked();
  }
  wake_writer_.notify_one();
  return true;
}

void Journal::Checkpoint() {
  if (!checkpoint_db_) {
    Result<std::unique_ptr<sqlite::Db>> db =
        sqlite::Db::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX);
    if (db.ok()) {
      (*db)->SetBusyTimeout(options_.busy_timeout_ms);
      if ((*db)->DisableCheckpointOnClose().ok() && (*db)->Exec("PRAGMA synchronous = NORMAL").ok())
        checkpoint_db_ = std::move(*db);
    }
  }
  // Failures are ignored, as by SQLite's own auto-checkpoint: the next
  // commit checkpoints (DeferCheckpoint).
  if (checkpoint_db_) (void)checkpoint_db_->CheckpointPassive();
  checkpoint_state_ = kCheckpointDone;
}

void Journal::WriterLoop() {
  for (;;) {
    bool checkpoint = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto asked = [this] { return checkpoint_state_.load() == kCheckpointAsked; };
      wake_writer_.wait(lock, [&] { return !queue_.empty() || closing_ || asked(); });
      if (asked() && !closing_) {
        checkpoint_state_ = kCheckpointRunning;
        checkpoint = true;
      } else if (queue_.empty()) {
        return;  // closing, and everything is written
      } else if (!closing_ && !WindowFullLocked()) {
        // The commit window: wait for more records before committing, so
        // that the steps of a fanout (whose starts are in the start log)
        // share transactions, and a step printing hundreds of MB (read from
        // its pipe a few KB at a time) costs a few hundred transactions,
        // not one per read. A barrier ends the wait at once.
        batching_ = true;
        wake_writer_.wait_for(lock, options_.commit_window, [&] {
          return closing_ || asked() || WindowFullLocked();
        });
        batching_ = false;
      }
    }
    if (checkpoint) {
      Checkpoint();
      continue;
    }
    // Whatever SyncHere has not taken meanwhile (possibly nothing).
    std::lock_guard<std::mutex> commit(commit_mu_);
    (void)CommitQueue();
  }
}

void Journal::CommitOps(std::vector<WriteOp>& ops) {
  size_t begin = 0;
  while (begin < ops.size()) {
    // One transaction: up to the record and byte limits (at least one op).
    size_t end = begin, bytes = 0;
    while (end < ops.size() && (end == begin ||
                                (end - begin < options_.max_transaction_records &&
                                 bytes + OutputBytes(ops[end]) <=
                                     options_.max_transaction_output_bytes))) {
      bytes += OutputBytes(ops[end]);
      ++end;
    }
    Status outcome = CommitSlice(ops, begin, end);
    // Release the output first, so that a barrier's callback already sees
    // pending_bytes() without it.
    for (size_t i = begin; i < end; ++i) {
      if (auto* chunk = std::get_if<OutputChunk>(&ops[i])) std::string().swap(chunk->data);
    }
    pending_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    {
      // Taking the lock orders the notify after a waiter's predicate check.
      std::lock_guard<std::mutex> lock(mu_);
    }
    output_drained_.notify_all();
    for (size_t i = begin; i < end; ++i) {
      if (auto* barrier = std::get_if<BarrierOp>(&ops[i])) barrier->done(outcome);
    }
    begin = end;
  }
}

Status Journal::CommitSlice(std::vector<WriteOp>& ops, size_t begin, size_t end) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.ok()) return status_;  // refuse every write after a failure
  }
  bool only_barriers = true;
  for (size_t i = begin; i < end && only_barriers; ++i)
    only_barriers = std::holds_alternative<BarrierOp>(ops[i]);
  if (only_barriers) return Status::Ok();  // everything before is committed

  Status s = statements_.Begin();
  for (int retry = 0; !s.ok() && s.code() == Status::Code::kBusy && retry < kBusyRetries; ++retry)
    s = statements_.Begin();
  for (size_t i = begin; s.ok() && i < end; ++i) s = statements_.Apply(ops[i]);
  if (s.ok() && options_.before_commit_for_testing)
    s = options_.before_commit_for_testing(*writer_db_);
  if (s.ok()) s = statements_.Commit();
  if (s.ok() && unsynced_first_commit_) {
    unsynced_first_commit_ = false;
    // Fails only without memory, and then fails the journal like a commit.
    s = writer_db_->Exec("PRAGMA synchronous = NORMAL");
  }
  if (s.ok()) {
    transactions_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }

  if (!sqlite3_get_autocommit(writer_db_->handle())) (void)statements_.Rollback();
  Status failure = Prefixed("journal write failed: ", s);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.ok()) return status_;
    status_ = failure;  // for good: nothing changes it again
  }
  std::lock_guard<std::mutex> lock(watchers_mu_);
  for (auto& [id, watcher] : watchers_) watcher(failure);
  return failure;
}

uint64_t Journal::WatchFailure(std::function<void(Status)> on_failure) {
  std::lock_guard<std::mutex> watchers(watchers_mu_);
  if (Status s = writer_status(); !s.ok()) {
    on_failure(s);
    return 0;
  }
  watchers_.emplace_back(++last_watch_, std::move(on_failure));
  return last_watch_;
}

void Journal::UnwatchFailure(uint64_t id) {
  std::lock_guard<std::mutex> watchers(watchers_mu_);
  std::erase_if(watchers_, [id](const auto& w) { return w.first == id; });
}

}  // namespace runbook::journal
