#include "journal/sqlite.h"

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "journal/wal_vfs.h"

namespace runbook::journal::sqlite {

namespace {

// Set on a write-ahead log file once its directory was fsynced after the
// file was created (SyncToDisk): later syncs of that file need no directory
// sync. A new log file (a new inode) does not have it.
constexpr char kDirectorySyncedXattr[] = "user.runbook.dir_synced";

Status MakeStatus(int primary, std::string message) {
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(std::move(message));
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::Corruption(std::move(message));
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status::IoError(std::move(message));
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return Status::InvalidArgument(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

}  // namespace

// --- Statement ---------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Statement::BindOptInt(int index, std::optional<int64_t> value) {
  if (value)
    BindInt(index, *value);
  else
    BindNull(index);
}

void Statement::BindText(int index, std::string_view value) {
  // A non-null pointer even for "" so that the value is '' and not NULL.
  sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(),
                      SQLITE_STATIC, SQLITE_UTF8);
}

void Statement::BindTextOrNull(int index, std::string_view value) {
  if (value.empty())
    BindNull(index);
  else
    BindText(index, value);
}

void Statement::BindBlob(int index, std::string_view bytes) {
  if (bytes.empty())
    sqlite3_bind_zeroblob(stmt_, index, 0);
  else
    sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC);
}

void Statement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = db_->Error(rc);
  sqlite3_reset(stmt_);
  return s;
}

Status Statement::Run() {
  Result<bool> r = Step();
  while (r.ok() && *r) r = Step();
  Reset();
  return r.ok() ? Status::Ok() : r.status();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::optional<int64_t> Statement::OptInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

std::string Statement::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

std::string Statement::Blob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

// --- Db ----------------------------------------------------------------------

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, int flags) {
  // Before SQLite initialises (the first open of the process): no memory
  // statistics, which nothing reads and which cost a global mutex on every
  // allocation (docs/performance.md). Later calls change nothing.
  static const bool configured = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, CoalescingWalVfsName());
  if (rc != SQLITE_OK) {
    std::string message = path + ": " +
                          (handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_close_v2(handle);
    return MakeStatus(rc & 0xff, std::move(message));
  }
  sqlite3_extended_result_codes(handle, 1);
  return std::unique_ptr<Db>(new Db(handle, path));
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::Error(int rc) {
  last_error_code_ = rc & 0xff;
  // sqlite3_errmsg describes the most recent failing call on this connection;
  // fall back to the generic text for the code when it does not match.
  const char* msg = sqlite3_extended_errcode(db_) == rc ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return MakeStatus(last_error_code_, path_ + ": " + msg);
}

Status Db::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  last_error_code_ = rc & 0xff;
  std::string message = path_ + ": " + (err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return MakeStatus(last_error_code_, std::move(message));
}

Result<Statement> Db::Prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc);
  return Statement(stmt, this);
}

Result<int64_t> Db::QueryInt(std::string_view sql) {
  Result<Statement> st = Prepare(sql);
  if (!st.ok()) return st.status();
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal(path_ + ": no result for " + std::string(sql));
  return st->Int(0);
}

Result<std::string> Db::QueryText(std::string_view sql) {
  Result<Statement> st = Prepare(sql);
  if (!st.ok()) return st.status();
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal(path_ + ": no result for " + std::string(sql));
  return st->Text(0);
}

int64_t Db::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

int Db::Changes() const { return sqlite3_changes(db_); }

int64_t Db::TotalChanges() const { return sqlite3_total_changes64(db_); }

void Db::SetBusyTimeout(int ms) {
  busy_timeout_ms_ = ms;
  sqlite3_busy_timeout(db_, ms);
}

Status Db::BeginImmediate(int retries) {
  auto start = std::chrono::steady_clock::now();
  Status s = Exec("BEGIN IMMEDIATE");
  for (int i = 0; i < retries && s.code() == Status::Code::kBusy; ++i) s = Exec("BEGIN IMMEDIATE");
  if (s.code() != Status::Code::kBusy) return s;
  auto waited =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
  return Status::Busy(path_ + ": database is locked (other processes held the write lock for " +
                      std::to_string(waited.count()) + " s)");
}

void Db::SetAutoCheckpoint(int pages, std::function<bool()> defer) {
  autocheckpoint_pages_ = pages;
  defer_checkpoint_ = std::move(defer);
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3* db, const char* name, int frames) {
        Db* d = static_cast<Db*>(self);
        d->wal_frames_ = frames;
        if (d->autocheckpoint_pages_ > 0 && frames >= d->autocheckpoint_pages_ &&
            !(d->defer_checkpoint_ && d->defer_checkpoint_())) {
          // What sqlite3_wal_autocheckpoint's own hook does; its errors are
          // ignored there too (the next commit tries again).
          (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        }
        return SQLITE_OK;
      },
      this);
}

Status Db::CheckpointPassive() {
  int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : Error(rc);
}

Status Db::CheckpointAndTruncateWal() {
  // No busy handler: a checkpoint that has to wait for other processes is
  // left to a later one.
  sqlite3_busy_handler(db_, nullptr, nullptr);
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
  sqlite3_busy_timeout(db_, busy_timeout_ms_);
  if (rc != SQLITE_OK) return Error(rc);
  wal_frames_ = 0;
  return Status::Ok();
}

Status Db::DisableCheckpointOnClose() {
  int rc = sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : Error(rc);
}

Status Db::SyncToDisk(bool database) {
  auto failed = [this](const char* what) {
    return Status::IoError(path_ + ": cannot sync the " + what + ": " + std::strerror(errno));
  };
  if (database) {
    // SQLite's own file object: its xSync is the fdatasync of a checkpoint.
    sqlite3_file* file = nullptr;
    int rc = sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file);
    if (rc != SQLITE_OK) return Error(rc);
    if (file != nullptr && file->pMethods != nullptr) {
      rc = file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
      if (rc != SQLITE_OK) {
        last_error_code_ = rc & 0xff;
        return Status::IoError(path_ + ": cannot sync the database file: " + sqlite3_errstr(rc));
      }
    }
  }
  // The log through a descriptor of our own: SQLite's xSync would also fsync
  // the directory on every connection's first sync (it cannot know whether
  // it created the file), a device flush per command.
  const char* main_file = sqlite3_db_filename(db_, "main");
  if (main_file == nullptr || *main_file == '\0') return Status::Ok();  // in-memory
  std::string wal = sqlite3_filename_wal(main_file);
  int fd = ::open(wal.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::Ok() : failed("write-ahead log");
  Status s;
  if (::fdatasync(fd) != 0) {
    s = failed("write-ahead log");
  } else if (database || ::fgetxattr(fd, kDirectorySyncedXattr, nullptr, 0) < 0) {
    // A log (or database) file that may be new: its name must survive too.
    size_t slash = wal.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : wal.substr(0, slash);
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || ::fsync(dir_fd) != 0) s = failed("journal's directory");
    if (dir_fd >= 0) ::close(dir_fd);
    // Best effort: without it (no xattr support) the next sync asks again.
    if (s.ok()) (void)::fsetxattr(fd, kDirectorySyncedXattr, "1", 1, 0);
  }
  ::close(fd);
  return s;
}

}  // namespace runbook::journal::sqlite
