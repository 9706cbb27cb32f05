#include "journal/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "journal/path.h"
#include "journal/spill.h"
#include "journal/spill_internal.h"
#include "journal/sqlite.h"

namespace runbook::journal {
namespace {

using spill_internal::Errno;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// What a failed backup leaves: the temporary database (and its -wal/-shm)
// and the temporary spill directory with the runs' directories in it.
class PartialCopy {
 public:
  explicit PartialCopy(std::string path) : path_(std::move(path)) {}
  ~PartialCopy() {
    if (kept_) return;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) unlink((path_ + suffix).c_str());
    for (const std::string& run : runs_) {
      int64_t files = 0;
      (void)RemoveRunSpillDir(path_, run, &files);
    }
    rmdir(SpillDirFor(path_).c_str());
  }
  PartialCopy(const PartialCopy&) = delete;
  PartialCopy& operator=(const PartialCopy&) = delete;
  void AddRun(const std::string& run) { runs_.push_back(run); }
  void Keep() { kept_ = true; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> runs_;
  bool kept_ = false;
};

Status SyncPath(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + path + ": " + Errno());
  int rc = fsync(fd);
  close(fd);
  return rc == 0 ? Status::Ok() : Status::IoError("cannot sync " + path + ": " + Errno());
}

// Gives `from` the name `to` without replacing anything there.
Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return Status::Ok();
  if (errno == EEXIST) return Status::FailedPrecondition(to + " exists; a backup never replaces a file");
  return Status::IoError("cannot rename " + from + " to " + to + ": " + Errno());
}

}  // namespace

Result<BackupReport> BackupJournal(const std::string& from, const std::string& to) {
  if (Status s = CheckExistingJournalFile(from); !s.ok()) return s;
  const std::string to_blobs = SpillDirFor(to);
  for (const std::string& p : {to, to_blobs})
    if (Exists(p)) return Status::FailedPrecondition(p + " exists; a backup never replaces a file");

  auto src = sqlite::Db::Open(from, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW);
  if (!src.ok()) return src.status();
  (*src)->SetBusyTimeout(10000);

  // Created 0600 by us (SQLite would use the umask), under a name of its own.
  PartialCopy partial(to + ".partial-" + std::to_string(getpid()));
  {
    int fd = open(partial.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IoError("cannot create " + to + ": " + Errno());
    close(fd);
  }
  BackupReport report;
  std::map<std::string, std::vector<std::string>> spills;  // run -> its spill names
  {
    auto dst = sqlite::Db::Open(partial.path(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW);
    if (!dst.ok()) return dst.status();
    // One step over all pages: one read transaction on the source, so the
    // copy is a snapshot; writers go on meanwhile (WAL).
    sqlite3_backup* b = sqlite3_backup_init((*dst)->handle(), "main", (*src)->handle(), "main");
    if (!b) return (*dst)->Error(sqlite3_errcode((*dst)->handle()));
    int rc = sqlite3_backup_step(b, -1);
    int finish = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) return (*src)->Error(rc == SQLITE_OK ? finish : rc);
    if (finish != SQLITE_OK) return (*dst)->Error(finish);

    auto runs = (*dst)->QueryInt("SELECT COUNT(*) FROM runs");
    if (!runs.ok()) return runs.status();
    auto events = (*dst)->QueryInt("SELECT COUNT(*) FROM events");
    if (!events.ok()) return events.status();
    report.runs = *runs;
    report.events = *events;
    auto has_spill = HasSpillColumns(**dst);
    if (!has_spill.ok()) return has_spill.status();
    if (*has_spill) {
      auto st = (*dst)->Prepare("SELECT DISTINCT run_id, spill FROM output_chunks WHERE spill IS NOT NULL");
      if (!st.ok()) return st.status();
      while (true) {
        auto row = st->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        spills[st->Text(0)].push_back(st->Text(1));
      }
    }
    // The copy as one file, in rollback-journal mode, so that reading it
    // (journal verify, sqlite3) leaves no -wal and -shm beside it; any other
    // runbook command that opens it switches it to WAL, as for any journal.
    auto mode = (*dst)->QueryText("PRAGMA journal_mode = DELETE");
    if (!mode.ok()) return mode.status();
    if (*mode != "delete") return Status::Internal(partial.path() + ": journal_mode stays " + *mode);
  }
  for (const auto& [run, names] : spills) {
    partial.AddRun(run);
    if (Status s = CopyRunSpillFiles(from, partial.path(), run, names, &report.warnings); !s.ok()) return s;
    report.spill_files += static_cast<int64_t>(names.size());
  }
  if (Status s = SyncPath(partial.path(), O_RDONLY); !s.ok()) return s;

  // The spill directory first: a database under its name always has its files.
  if (!spills.empty()) {
    if (Status s = RenameNoReplace(SpillDirFor(partial.path()), to_blobs); !s.ok()) return s;
  }
  if (link(partial.path().c_str(), to.c_str()) != 0) {
    Status s = errno == EEXIST ? Status::FailedPrecondition(to + " exists; a backup never replaces a file")
                               : Status::IoError("cannot create " + to + ": " + Errno());
    if (!spills.empty()) (void)rename(to_blobs.c_str(), SpillDirFor(partial.path()).c_str());  // cleaned up below
    return s;
  }
  unlink(partial.path().c_str());
  partial.Keep();
  if (Status s = SyncPath(spill_internal::ParentDir(to), O_RDONLY | O_DIRECTORY); !s.ok()) return s;
  return report;
}

}  // namespace runbook::journal
