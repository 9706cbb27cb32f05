// The coalescing WAL VFS (journal/wal_vfs.h): one write per transaction's
// frames, committed frames in the file before any other connection can see
// them, a failed write failing the commit, and transactions bigger than its
// buffer, spilled mid-transaction or rolled back, read back whole. A
// recording VFS sits underneath and sees exactly what reaches the files.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "journal/wal_vfs.h"

namespace runbook::journal::sqlite {
namespace {

// --- The recorder: the default VFS, noting each write to a WAL file --------

struct WalWrite {
  sqlite3_int64 offset;
  int amount;
};

struct Recorder {
  std::vector<WalWrite> writes;
  int fail_writes = 0;  // the next this many WAL writes fail with SQLITE_FULL
};
Recorder recorder;

struct RecFile {
  sqlite3_file base;
  sqlite3_file* real;
};
constexpr size_t kRecOffset = (sizeof(RecFile) + 15) / 16 * 16;

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<RecFile*>(f)->real; }

int RecWrite(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  if (recorder.fail_writes > 0) {
    --recorder.fail_writes;
    return SQLITE_FULL;
  }
  recorder.writes.push_back({offset, amount});
  return Real(f)->pMethods->xWrite(Real(f), data, amount, offset);
}
int RecClose(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int RecRead(sqlite3_file* f, void* out, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), out, n, off);
}
int RecTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int RecSync(sqlite3_file* f, int flags) { return Real(f)->pMethods->xSync(Real(f), flags); }
int RecFileSize(sqlite3_file* f, sqlite3_int64* out) {
  return Real(f)->pMethods->xFileSize(Real(f), out);
}
int RecLock(sqlite3_file* f, int l) { return Real(f)->pMethods->xLock(Real(f), l); }
int RecUnlock(sqlite3_file* f, int l) { return Real(f)->pMethods->xUnlock(Real(f), l); }
int RecCheck(sqlite3_file* f, int* out) { return Real(f)->pMethods->xCheckReservedLock(Real(f), out); }
int RecControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int RecSector(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int RecDevice(sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); }

const sqlite3_io_methods kRecMethods = {
    1, RecClose, RecRead, RecWrite, RecTruncate, RecSync, RecFileSize, RecLock, RecUnlock,
    RecCheck, RecControl, RecSector, RecDevice,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
};

sqlite3_vfs* Default() { return static_cast<sqlite3_vfs*>(sqlite3_vfs_find("unix")); }

int RecOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out) {
  if ((flags & SQLITE_OPEN_WAL) == 0) return Default()->xOpen(Default(), name, file, flags, out);
  auto* r = reinterpret_cast<RecFile*>(file);
  r->base.pMethods = nullptr;
  r->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRecOffset);
  int rc = Default()->xOpen(Default(), name, r->real, flags, out);
  if (rc == SQLITE_OK) r->base.pMethods = &kRecMethods;
  return rc;
}

// The coalescing VFS over the recorder, registered once per process.
const char* Coalescing() {
  static const char* const name = [] {
    static sqlite3_vfs rec = *Default();
    rec.zName = "test-recorder";
    rec.szOsFile = static_cast<int>(kRecOffset) + Default()->szOsFile;
    rec.xOpen = RecOpen;
    // The default VFS's other methods ignore their VFS argument except
    // xOpen, which is ours.
    if (sqlite3_vfs_register(&rec, 0) != SQLITE_OK) return static_cast<const char*>(nullptr);
    return RegisterCoalescingWalVfs(&rec, "test-coalescing");
  }();
  return name;
}

// The first column of the first row of `sql`, as text ("" when none).
std::string Text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
  std::string out;
  if (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* p = sqlite3_column_text(st, 0);
    out = p ? reinterpret_cast<const char*>(p) : "";
  }
  sqlite3_finalize(st);
  return out;
}

// --- Fixture --------------------------------------------------------------

class WalVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(Coalescing(), nullptr);
    dir_ = std::filesystem::temp_directory_path() /
           ("runbook-wal-vfs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    recorder = Recorder{};
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                              Coalescing()),
              SQLITE_OK);
    Exec(db_,
         "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
         "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v BLOB)");
    // The plain default VFS, as another process (or `runbook show`) reads.
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &other_, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
    recorder.writes.clear();
  }
  void TearDown() override {
    sqlite3_close(other_);
    sqlite3_close(db_);
    std::filesystem::remove_all(dir_);
  }

  static void Exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : sqlite3_errstr(rc));
  }
  static int ExecRc(sqlite3* db, const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  void Insert(int id, size_t blob_bytes = 100) {
    Exec(db_, "INSERT INTO t VALUES (" + std::to_string(id) + ", 'key-" + std::to_string(id) +
                  "', zeroblob(" + std::to_string(blob_bytes) + "))");
  }

  std::filesystem::path dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3* other_ = nullptr;
};

TEST_F(WalVfsTest, EachCommitReachesTheWalInOneWrite) {
  // Each insert changes the table's and the unique index's pages: at least
  // two frames, four writes from SQLite, one write to the file.
  for (int i = 1; i <= 20; ++i) {
    size_t before = recorder.writes.size();
    Insert(i);
    ASSERT_EQ(recorder.writes.size(), before + 1) << "commit " << i;
    const WalWrite& w = recorder.writes.back();
    // Whole frames of 24 + 4096 bytes (and the WAL's 32-byte header in front
    // of the first commit), at least two of them.
    int frames_bytes = w.offset == 0 ? w.amount - 32 : w.amount;
    EXPECT_EQ(frames_bytes % (24 + 4096), 0) << w.amount;
    EXPECT_GE(frames_bytes / (24 + 4096), 2);
  }
  // Contiguous: each commit starts where the previous one ended.
  for (size_t i = 1; i < recorder.writes.size(); ++i)
    EXPECT_EQ(recorder.writes[i].offset, recorder.writes[i - 1].offset + recorder.writes[i - 1].amount);
  EXPECT_EQ(Text(db_, "PRAGMA integrity_check"), "ok");
}

TEST_F(WalVfsTest, ACommittedRowIsVisibleToAnotherConnectionAtOnce) {
  for (int i = 1; i <= 50; ++i) {
    Insert(i);
    ASSERT_EQ(Text(other_, "SELECT count(*) FROM t"), std::to_string(i));
    ASSERT_EQ(Text(other_, "SELECT k FROM t WHERE id = " + std::to_string(i)),
              "key-" + std::to_string(i));
  }
}

TEST_F(WalVfsTest, AFailedWriteFailsTheCommitAndNothingOfItIsSeen) {
  Insert(1);
  recorder.fail_writes = 1;
  EXPECT_EQ(ExecRc(db_, "INSERT INTO t VALUES (2, 'key-2', zeroblob(10))") & 0xff, SQLITE_FULL);
  EXPECT_EQ(recorder.fail_writes, 0) << "the commit's write was never attempted";
  EXPECT_EQ(Text(other_, "SELECT count(*) FROM t"), "1");
  EXPECT_EQ(Text(db_, "SELECT count(*) FROM t"), "1");
  // The connection goes on; the next commit lands whole.
  Insert(3);
  EXPECT_EQ(Text(other_, "SELECT group_concat(id) FROM t"), "1,3");
  EXPECT_EQ(Text(db_, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Text(other_, "PRAGMA integrity_check"), "ok");
}

TEST_F(WalVfsTest, ATransactionBiggerThanTheBufferSpilledAndRewrittenIsReadBackWhole) {
  // A small page cache makes SQLite write frames before the commit, and
  // change some of them again (a frame rewritten in place, then the
  // checksums re-read and rewritten at commit).
  Exec(db_, "PRAGMA cache_size = 5");
  Exec(db_, "BEGIN");
  for (int i = 1; i <= 200; ++i) {
    Insert(i, 3000);
    // A row written a few inserts ago: its page was spilled into the log
    // (still in the VFS's buffer) and is read back from there.
    if (i > 4) Exec(db_, "UPDATE t SET v = randomblob(3000) WHERE id = " + std::to_string(i - 4));
  }
  for (int i = 1; i <= 200; i += 7)
    Exec(db_, "UPDATE t SET v = randomblob(3000) WHERE id = " + std::to_string(i));
  EXPECT_EQ(Text(other_, "SELECT count(*) FROM t"), "0") << "seen before the commit";
  Exec(db_, "COMMIT");
  EXPECT_GT(recorder.writes.size(), 1u);
  EXPECT_EQ(Text(other_, "SELECT count(*) FROM t"), "200");
  EXPECT_EQ(Text(other_, "SELECT sum(length(v)) FROM t"), "600000");
  EXPECT_EQ(Text(other_, "SELECT max(id) FROM t"), Text(db_, "SELECT max(id) FROM t"));
  // Every page the other connection reads checks out.
  EXPECT_EQ(Text(other_, "PRAGMA integrity_check"), "ok");
  // The same contents, byte for byte, through both connections.
  EXPECT_EQ(Text(other_, "SELECT group_concat(hex(substr(v, 1, 8)), '') FROM t"),
            Text(db_, "SELECT group_concat(hex(substr(v, 1, 8)), '') FROM t"));
}

TEST_F(WalVfsTest, ARolledBackSpilledTransactionLeavesNothingAndTheNextCommitLands) {
  Insert(1);
  Exec(db_, "PRAGMA cache_size = 5");
  Exec(db_, "BEGIN");
  for (int i = 2; i <= 200; ++i) Insert(i, 3000);
  Exec(db_, "ROLLBACK");
  EXPECT_EQ(Text(other_, "SELECT count(*) FROM t"), "1");
  Insert(500);
  EXPECT_EQ(Text(other_, "SELECT group_concat(id) FROM t"), "1,500");
  EXPECT_EQ(Text(other_, "PRAGMA integrity_check"), "ok");
}

TEST_F(WalVfsTest, CheckpointsAndWalRestartsKeepEveryRow) {
  // A checkpoint every few pages: the log restarts from its beginning many
  // times (a new header at offset 0, then frames over the old ones).
  Exec(db_, "PRAGMA wal_autocheckpoint = 8");
  int restarts = 0;
  for (int i = 1; i <= 300; ++i) {
    size_t before = recorder.writes.size();
    Insert(i, 500);
    for (size_t w = before; w < recorder.writes.size(); ++w)
      if (recorder.writes[w].offset == 0) ++restarts;
    if (i % 50 == 0) {
      ASSERT_EQ(Text(other_, "SELECT count(*) FROM t"), std::to_string(i));
    }
  }
  EXPECT_GT(restarts, 5);
  EXPECT_EQ(Text(other_, "SELECT count(*) FROM t"), "300");
  EXPECT_EQ(Text(db_, "PRAGMA integrity_check"), "ok");
  sqlite3_close(db_);
  db_ = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
  EXPECT_EQ(Text(db_, "SELECT count(*) FROM t"), "300");
}

TEST(WalVfsCrash, AProcessKilledMidCommitLosesNothingItHadCommitted) {
  // A child commits rows through the VFS and reports each id on a pipe once
  // its COMMIT has returned; it is killed (SIGKILL) at a random moment, with
  // bytes perhaps in the VFS's buffer. Every reported row must be in the
  // file, and the file sound, as read through the default VFS.
  ASSERT_NE(CoalescingWalVfsName(), nullptr);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("runbook-wal-vfs-crash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.db").string();
  for (int round = 0; round < 5; ++round) {
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      sqlite3* db = nullptr;
      if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          CoalescingWalVfsName()) != SQLITE_OK)
        ::_exit(2);
      if (sqlite3_exec(db,
                       "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 50; "
                       "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v BLOB)",
                       nullptr, nullptr, nullptr) != SQLITE_OK)
        ::_exit(3);
      for (int i = 1;; ++i) {
        std::string sql = "INSERT INTO t VALUES (" + std::to_string(i) + ", 'key-" + std::to_string(i) +
                          "', randomblob(" + std::to_string(100 + (i * 997) % 9000) + "))";
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) ::_exit(4);
        if (::write(fds[1], &i, sizeof i) != static_cast<ssize_t>(sizeof i)) ::_exit(5);
      }
    }
    ::close(fds[1]);
    ::usleep(static_cast<useconds_t>(20000 + round * 15000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped on its own: " << status;
    int last = 0, id = 0;
    while (::read(fds[0], &id, sizeof id) == static_cast<ssize_t>(sizeof id)) last = id;
    ::close(fds[0]);
    ASSERT_GT(last, 0) << "round " << round << ": nothing was committed before the kill";

    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, "unix"), SQLITE_OK);
    EXPECT_EQ(Text(db, "PRAGMA integrity_check"), "ok") << "round " << round;
    // Every row reported as committed, and the rows form an unbroken run 1..n
    // (n may be one more: committed, killed before it was reported).
    const int count = std::stoi(Text(db, "SELECT count(*) FROM t"));
    EXPECT_GE(count, last) << "round " << round;
    EXPECT_LE(count, last + 1) << "round " << round;
    EXPECT_EQ(Text(db, "SELECT max(id) FROM t"), std::to_string(count)) << "round " << round;
    sqlite3_close(db);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace runbook::journal::sqlite
