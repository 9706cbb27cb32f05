// Acceptance (issue #8, real-world faults around the journal): a journal on a
// full file system, a journal whose writes fail (RLIMIT_FSIZE: EFBIG, which
// SQLite reports as an I/O error), a journal locked by another process longer
// than the busy timeout, and a damaged journal file (truncated, header
// overwritten, a page overwritten). In every case the run ends with a clear
// error and a non-zero exit, nothing is started after the journal broke, and
// the file stays a sound journal that later commands and `journal verify`
// handle — or, when damaged, is refused with a clear message and left as it
// was.
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "journal/sha256.h"
#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

// The runbook that meets the broken journal: `big` prints 3 MB (more than the
// journal can take), `after` would run whatever happened to `big`, and the
// `finally` step would run at the end of any run. Neither may start once the
// journal cannot record them.
std::string FaultRunbook(const CliSandbox& box) {
  return "name: fault\n"
         "steps:\n"
         "  - id: big\n"
         "    run: yes 0123456789abcdef0123456789abcdef | head -c 3000000\n"
         "  - id: after\n"
         "    needs: [big]\n"
         "    if: ${{ always() }}\n"
         "    run: touch " + box.Path("after.ran") + "\n"
         "finally:\n"
         "  - id: fin\n"
         "    run: touch " + box.Path("fin.ran") + "\n";
}

// The ids of the runs in the journal at `journal` (fails the test when
// `runs` does not work).
std::vector<std::string> RunIds(CliSandbox& box, const std::string& journal) {
  Outcome o = box.Run({"--journal", journal, "--json", "runs"});
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  std::vector<std::string> ids;
  auto list = ParseJson(o.out, "runs --json");
  if (list && list->is_array())
    for (const auto& r : list->as_array()) ids.push_back(JsonString(r, "id"));
  return ids;
}

// After the fault: the run is in the journal, ended (failed or interrupted,
// never left 'running'), `big` did not succeed without its output, and the
// file passes `journal verify`.
void ExpectRunRecordedAsBrokenAndJournalVerifies(CliSandbox& box, const std::string& journal) {
  EXPECT_EQ(IntegrityCheck(journal), "ok");
  std::vector<std::string> ids = RunIds(box, journal);
  ASSERT_EQ(ids.size(), 1u) << "the run is not in the journal";
  Outcome show = box.Run({"--journal", journal, "--json", "show", ids[0]});
  ASSERT_EQ(show.exit_code, 0) << show.Describe();
  auto run = ParseJson(show.out, "show --json");
  ASSERT_TRUE(run);
  std::string status = JsonString(*run, "status");
  EXPECT_TRUE(status == "failed" || status == "interrupted") << show.out;
  EXPECT_FALSE(JsonString(*run, "error").empty()) << show.out;
  for (const char* step : {"after", "fin"}) {
    const boost::json::object* s = FindStep(*run, step);
    if (s) {
      EXPECT_NE(JsonString(*s, "status"), "succeeded") << step << " is recorded as run: " << show.out;
    }
  }
  Outcome verify = box.Run({"--journal", journal, "journal", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

// A tmpfs of `bytes` mounted in the sandbox for the test (needs root and
// CAP_SYS_ADMIN; mounted() is false when that is not available).
class SmallFilesystem {
 public:
  SmallFilesystem(const std::string& dir, size_t bytes) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  size_t FreeBytes() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) return 0;
    return static_cast<size_t>(st.f_bavail) * st.f_frsize;
  }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

TEST(CliJournalFaults, FullFilesystemEndsTheRunWithTheReasonAndStartsNothingAfter) {
  CliSandbox box;
  SmallFilesystem fs(box.Path("fs"), 2 << 20);
  if (!fs.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs here (" << fs.error() << "); the RLIMIT_FSIZE test covers it";
  std::string journal = box.Path("fs/journal.db");
  ASSERT_EQ(box.Run({"--journal", journal, "runs"}).exit_code, 0);
  // Ballast leaves the journal ~600 KB: enough to start the run, not enough
  // for the 3 MB of output.
  size_t free = fs.FreeBytes();
  ASSERT_GT(free, 700u << 10);
  {
    std::ofstream ballast(box.Path("fs/ballast"), std::ios::binary);
    std::string mb(1 << 20, 'b');
    for (size_t left = free - (600 << 10); left > 0;) {
      size_t n = std::min(left, mb.size());
      ballast.write(mb.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
  }
  std::string rb = box.WriteRunbook("fault", FaultRunbook(box));

  Outcome o = box.Run({"--journal", journal, "run", rb});
  EXPECT_NE(o.exit_code, 0) << o.Describe();
  // Output past 1 MiB goes to a spill file beside the journal (journal/spill.h):
  // the disk fills up there or in SQLite, whichever needs space first.
  EXPECT_TRUE(o.err.find("database or disk is full") != std::string::npos ||
              (o.err.find(journal + ".blobs/") != std::string::npos &&
               o.err.find("No space left on device") != std::string::npos))
      << o.Describe();
  EXPECT_NE(o.err.find("journal write failed"), std::string::npos) << o.Describe();
  EXPECT_FALSE(FileExists(box.Path("after.ran"))) << "a step started after the journal broke";
  EXPECT_FALSE(FileExists(box.Path("fin.ran"))) << "a finally step started after the journal broke";
  EXPECT_EQ(IntegrityCheck(journal), "ok") << "the journal is damaged while the disk is still full";
  // Reading the journal works while the disk is still full (the dead
  // engine's run cannot be marked yet; that waits for space).
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--journal", journal, "runs"},
                                               {"--journal", journal, "show", "last"},
                                               {"--journal", journal, "logs", "last", "big"}}) {
    Outcome read = box.Run(args);
    EXPECT_EQ(read.exit_code, 0) << args[2] << ": " << read.Describe();
  }

  // Space comes back (the operator cleans up): the next command records the
  // run's end, and the journal verifies.
  std::filesystem::remove(box.Path("fs/ballast"));
  ExpectRunRecordedAsBrokenAndJournalVerifies(box, journal);
}

TEST(CliJournalFaults, WriteErrorsFromAFileSizeLimitEndTheRunWithTheReasonAndStartNothingAfter) {
  CliSandbox box;
  ASSERT_EQ(box.Run({"runs"}).exit_code, 0);  // a fresh journal, well under the limit
  std::string rb = box.WriteRunbook("fault", FaultRunbook(box));

  // The engine (and its children) may not grow any file beyond 1 MiB. The
  // test's spawn gives the binary default signal dispositions, so this also
  // checks that the engine ignores SIGXFSZ itself: a write past the limit
  // must fail with EFBIG (SQLite: disk I/O error), not kill it. The limit is
  // inherited by the spawned binary and restored here at once.
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit limited = old;
  limited.rlim_cur = 1 << 20;
  if (old.rlim_max != RLIM_INFINITY && old.rlim_max < limited.rlim_cur) GTEST_SKIP() << "hard RLIMIT_FSIZE too low";
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  auto run = box.Start({"run", rb});
  ::setrlimit(RLIMIT_FSIZE, &old);

  Outcome o = run->Wait(seconds(60));
  EXPECT_EQ(o.term_signal, 0) << "killed by a signal (SIGXFSZ is 25): " << o.Describe();
  EXPECT_NE(o.exit_code, 0) << o.Describe();
  EXPECT_NE(o.err.find("journal write failed"), std::string::npos) << o.Describe();
  // SQLite's file or the spill file beside it (output past 1 MiB) reaches
  // the limit first, depending on how the output was batched.
  EXPECT_TRUE(o.err.find("disk I/O error") != std::string::npos ||
              (o.err.find(box.journal_path() + ".blobs/") != std::string::npos &&
               o.err.find("File too large") != std::string::npos))
      << o.Describe();
  EXPECT_FALSE(FileExists(box.Path("after.ran"))) << "a step started after the journal broke";
  EXPECT_FALSE(FileExists(box.Path("fin.ran"))) << "a finally step started after the journal broke";
  ExpectRunRecordedAsBrokenAndJournalVerifies(box, box.journal_path());
}

// Another process (here: this test, through SQLite) holding the journal's
// write lock.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) return;
    locked_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~WriteLockHolder() { Release(); }
  bool locked() const { return locked_; }
  void Release() {
    if (db_) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(db_);
      db_ = nullptr;
    }
  }

 private:
  sqlite3* db_ = nullptr;
  bool locked_ = false;
};

TEST(CliJournalFaults, JournalLockedLongerThanTheBusyTimeoutFailsClearlyAndRecordsNothing) {
  CliSandbox box;
  ASSERT_EQ(box.Run({"runs"}).exit_code, 0);
  std::string rb = box.WriteRunbook("quick", "name: quick\nsteps:\n  - id: a\n    run: touch " +
                                                 box.Path("a.ran") + "\n");
  WriteLockHolder lock(box.journal_path());
  ASSERT_TRUE(lock.locked());

  Outcome o = box.Run({"run", rb}, seconds(120));  // the busy timeout is 10 s
  EXPECT_FALSE(o.timed_out) << o.Describe();
  EXPECT_NE(o.exit_code, 0) << o.Describe();
  EXPECT_NE(o.err.find(box.journal_path()), std::string::npos) << o.Describe();
  EXPECT_NE(o.err.find("database is locked"), std::string::npos) << o.Describe();
  EXPECT_FALSE(FileExists(box.Path("a.ran"))) << "the step ran without being journaled";

  lock.Release();
  EXPECT_TRUE(RunIds(box, box.journal_path()).empty()) << "a half-recorded run was left behind";
  Outcome again = box.Run({"run", rb});
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_EQ(IntegrityCheck(box.journal_path()), "ok");
}

TEST(CliJournalFaults, JournalLockedBrieflyIsWaitedForAndTheRunSucceeds) {
  CliSandbox box;
  ASSERT_EQ(box.Run({"runs"}).exit_code, 0);
  std::string rb = box.WriteRunbook("quick", "name: quick\nsteps:\n  - id: a\n    run: echo a\n");
  auto lock = std::make_unique<WriteLockHolder>(box.journal_path());
  ASSERT_TRUE(lock->locked());
  auto run = box.Start({"run", rb});
  std::this_thread::sleep_for(seconds(2));  // well under the 10 s busy timeout
  lock.reset();
  Outcome o = run->Wait(seconds(60));
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(RunIds(box, box.journal_path()).size(), 1u);
}

// A journal with three finished runs and some output, for damaging: all of
// it in the database file (a closing runbook leaves its records in the WAL,
// which is checkpointed only every 1000 pages; these tests damage the file).
std::string MakeJournal(CliSandbox& box) {
  std::string rb = box.WriteRunbook("many", "name: many\nsteps:\n  - id: a\n    run: seq 1 20000\n"
                                            "  - id: b\n    run: echo b\n");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(box.Run({"run", rb}).exit_code, 0);
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(box.journal_path().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  return rb;
}

std::string FileDigest(const std::string& path) { return journal::Sha256Hex(ReadFile(path)); }

// Every command refuses the damaged journal with `message`, and none of them
// changes the file.
void ExpectRefusedUnchanged(CliSandbox& box, const std::string& rb, const std::string& message) {
  std::string before = FileDigest(box.journal_path());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"runs"}, {"show", "last"}, {"run", rb}, {"logs", "last", "a"}}) {
    SCOPED_TRACE(args[0]);
    Outcome o = box.Run(args);
    EXPECT_NE(o.exit_code, 0) << o.Describe();
    EXPECT_NE(o.err.find(box.journal_path()), std::string::npos) << o.Describe();
    EXPECT_NE(o.err.find(message), std::string::npos) << o.Describe();
  }
  EXPECT_EQ(FileDigest(box.journal_path()), before) << "a refused journal was changed";
  EXPECT_FALSE(FileExists(box.Path("a.ran")));
}

TEST(CliJournalFaults, TruncatedJournalIsRefusedWithAClearMessageAndVerifyReportsIt) {
  CliSandbox box;
  std::string rb = MakeJournal(box);
  auto size = std::filesystem::file_size(box.journal_path());
  ASSERT_GT(size, 64u << 10);
  std::filesystem::resize_file(box.journal_path(), size / 2);

  ExpectRefusedUnchanged(box, rb, "database disk image is malformed");
  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_NE(verify.exit_code, 0) << verify.Describe();
  EXPECT_NE((verify.out + verify.err).find("damaged or truncated"), std::string::npos) << verify.Describe();
}

TEST(CliJournalFaults, OverwrittenHeaderIsRefusedAsNotAJournal) {
  CliSandbox box;
  std::string rb = MakeJournal(box);
  {
    std::fstream f(box.journal_path(), std::ios::in | std::ios::out | std::ios::binary);
    f.write("this is not SQL!", 16);
  }
  ExpectRefusedUnchanged(box, rb, "is not a runbook journal (file is not a database)");
  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_NE(verify.exit_code, 0) << verify.Describe();
  EXPECT_NE((verify.out + verify.err).find("not a"), std::string::npos) << verify.Describe();
}

TEST(CliJournalFaults, OverwrittenPageIsReportedByJournalVerify) {
  CliSandbox box;
  MakeJournal(box);
  auto size = std::filesystem::file_size(box.journal_path());
  ASSERT_GT(size, 64u << 10);
  {
    // A page in the middle of the file (output chunks): 4 KiB of 0xA5.
    std::fstream f(box.journal_path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    std::string junk(4096, '\xa5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_NE(verify.exit_code, 0) << verify.Describe();
  std::string said = verify.out + verify.err;
  EXPECT_TRUE(said.find("damaged") != std::string::npos || said.find("integrity") != std::string::npos)
      << verify.Describe();
}

}  // namespace
}  // namespace runbook::clitest
