// Small RAII wrappers over the SQLite C API: Db owns a connection, Statement
// owns a prepared statement. Every sqlite3 error becomes a runbook::Status
// carrying the SQLite message and the database path ("PATH: message"), so no
// caller ever sees a raw result code. Values reach SQL only through bound
// parameters (STYLE.md rule 9); Exec() is for fixed schema and pragma text.
// Db also has the few connection-level operations the journal's locking and
// durability need (docs/journal.md): BEGIN IMMEDIATE with retries, control
// of checkpoints, and syncing the write-ahead log.
//
// Thread-compatible: a Db and its Statements belong to one thread at a time
// (the journal's writer thread, or a reader guarded by a mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace runbook::journal::sqlite {

class Db;

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based. Text and blob bindings do NOT copy: the bytes must
  // stay alive until the statement is stepped to completion or Reset().
  void BindInt(int index, int64_t value);
  void BindOptInt(int index, std::optional<int64_t> value);
  void BindText(int index, std::string_view value);
  // Binds NULL when `value` is empty (nullable text columns).
  void BindTextOrNull(int index, std::string_view value);
  void BindBlob(int index, std::string_view bytes);
  void BindNull(int index);

  // Advances one row: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows), then resets.
  Status Run();
  // Resets for reuse and clears the bindings.
  void Reset();

  // Columns are 0-based; valid after Step() returned true.
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::optional<int64_t> OptInt(int column) const;
  std::string Text(int column) const;  // "" for NULL
  std::string Blob(int column) const;  // byte-exact

 private:
  friend class Db;
  Statement(sqlite3_stmt* stmt, Db* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  Db* db_ = nullptr;  // borrowed: the connection outlives its statements
};

class Db {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` (SQLITE_OPEN_*). Extended result
  // codes are enabled.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int flags);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs fixed SQL text (one or more statements, no parameters).
  Status Exec(std::string_view sql);
  // `persistent` hints SQLite that the statement is kept and reused.
  Result<Statement> Prepare(std::string_view sql, bool persistent = false);
  // The single integer a statement like "PRAGMA user_version" returns.
  Result<int64_t> QueryInt(std::string_view sql);
  // The single text value a statement like "PRAGMA journal_mode=WAL" returns.
  Result<std::string> QueryText(std::string_view sql);

  int64_t LastInsertRowid() const;
  int Changes() const;
  // Rows inserted, updated or deleted through this connection since it was
  // opened (sqlite3_total_changes64).
  int64_t TotalChanges() const;
  void SetBusyTimeout(int ms);

  // BEGIN IMMEDIATE: takes the file's write lock. Each attempt waits up to
  // the busy timeout for other processes' write transactions; an attempt
  // that still finds the lock busy is repeated up to `retries` times, so the
  // whole wait is bounded by (retries + 1) x the busy timeout (a minute with
  // the journal's 10 s). Error then: "PATH: database is locked (other
  // processes held the write lock for 60 s)".
  Status BeginImmediate(int retries = 5);

  // When this connection closes, leave the write-ahead log alone instead of
  // checkpointing it into the database (two fsyncs) as the file's last
  // connection would (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE). The log is still
  // checkpointed when it passes wal_autocheckpoint pages.
  Status DisableCheckpointOnClose();

  // SQLite's auto-checkpoint (a PASSIVE checkpoint once a commit leaves the
  // write-ahead log at `pages` frames or more), through a hook that also
  // remembers the log's length after each commit of this connection:
  // wal_frames(). With `defer`, the hook first asks it: true means the
  // checkpoint is taken care of elsewhere (another connection, another
  // thread), false that the hook should checkpoint now. It runs inside the
  // commit and must be quick. Replaces any wal hook.
  void SetAutoCheckpoint(int pages, std::function<bool()> defer = {});
  // A PASSIVE checkpoint of whatever the log holds (what the auto-checkpoint
  // does): copies what no reader still needs into the database, syncing
  // both; never waits for other connections. Errors: the checkpoint's.
  Status CheckpointPassive();
  // Frames in the write-ahead log after this connection's latest commit, as
  // counted since SetAutoCheckpoint (0 before any commit).
  int64_t wal_frames() const { return wal_frames_; }
  // Copies the whole write-ahead log into the database (syncing both, like
  // every checkpoint) and truncates it to zero bytes, unless another
  // connection reads or writes the file: then Busy at once (no waiting).
  Status CheckpointAndTruncateWal();

  // Everything committed so far survives a power loss: fdatasync of the
  // write-ahead log, and with `database` first of the database file. The
  // directory is fsynced too when `database` is set or the log file may be
  // new: unless an earlier sync recorded, in an extended attribute of the log
  // file (user.runbook.dir_synced), that it fsynced the directory after the
  // file was created. (Without xattr support: every time.) Nothing to do
  // without a log file.
  Status SyncToDisk(bool database);

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // The Status for result code `rc` of the last call: "PATH: message".
  // Remembers `rc` for last_error_code().
  Status Error(int rc);
  // The primary result code (SQLITE_BUSY, SQLITE_NOTADB, ...) of the last
  // error reported through Error(), for callers that must tell them apart.
  int last_error_code() const { return last_error_code_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  int last_error_code_ = 0;
  int busy_timeout_ms_ = 0;
  int autocheckpoint_pages_ = 0;
  std::function<bool()> defer_checkpoint_;
  int64_t wal_frames_ = 0;
};

}  // namespace runbook::journal::sqlite
