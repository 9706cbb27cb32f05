// The write-ahead log's life across Journal sessions (docs/journal.md,
// durability): closing a Journal leaves its WAL to auto-checkpoint instead
// of checkpointing (and fsyncing) on every close, Close syncs the WAL (and
// once its directory) when the journal wrote something, and a long series of
// short sessions, as many short `runbook run`s make, keeps the WAL bounded.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "journal/sha256.h"
#include "journal_test_util.h"

namespace runbook::journal {
namespace {

using JournalWalTest = JournalTest;

int64_t SizeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// One short session, as `runbook approve` or `cancel` make: open, one
// transaction (a run with ~40 KB of source text: ten pages), close.
void ShortSession(const std::string& path, int n) {
  auto j = Journal::Open(path);
  ASSERT_TRUE(j.ok()) << j.status().message();
  char id[13];
  std::snprintf(id, sizeof id, "%012d", n);
  RunRecord r = JournalTest::MakeRun(id);
  r.source_text = "name: big\n# " + std::string(40000, static_cast<char>('a' + n % 26)) + "\n";
  r.content_hash = Sha256Hex(r.source_text);
  (*j)->CreateRun(r);
  EXPECT_TRUE((*j)->Close().ok());
}

TEST_F(JournalWalTest, ClosingLeavesTheWalUncheckpointedAndTheNextOpenSeesEverything) {
  {
    auto j = OpenJournal();
    ASSERT_TRUE(j);
    j->CreateRun(MakeRun("aaaaaaaaaaaa"));
    ASSERT_TRUE(j->Close().ok());
  }
  // The last connection closed without a checkpoint: the records are in the
  // WAL, not yet in the database file.
  EXPECT_GT(SizeOf(path_ + "-wal"), 0);
  auto j = OpenJournal();
  ASSERT_TRUE(j);
  auto run = j->GetRun("aaaaaaaaaaaa");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->runbook, "daily-health-check");
}

TEST_F(JournalWalTest, CloseSyncsTheWalAndItsDirectoryOnceSomethingWasWritten) {
  // Observable through the mark SyncToDisk leaves on the WAL file after it
  // fsynced the directory (an extended attribute).
  const std::string wal = path_ + "-wal";
  auto marked = [&wal] {
    return ::getxattr(wal.c_str(), "user.runbook.dir_synced", nullptr, 0) >= 0;
  };
  {
    auto j = OpenJournal();
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->Close().ok());
  }
  ASSERT_GE(SizeOf(wal), 0);
  if (::getxattr(wal.c_str(), "user.runbook.dir_synced", nullptr, 0) < 0 && errno == ENOTSUP)
    GTEST_SKIP() << "no extended attributes on " << dir_;
  EXPECT_FALSE(marked()) << "a journal that wrote nothing synced";
  {
    auto j = OpenJournal();
    ASSERT_TRUE(j);
    j->CreateRun(MakeRun("aaaaaaaaaaaa"));
    ASSERT_TRUE(j->SyncBlocking().ok());
    EXPECT_FALSE(marked()) << "synced before Close";
    ASSERT_TRUE(j->Close().ok());
  }
  EXPECT_TRUE(marked());
}

TEST_F(JournalWalTest, OpeningAndClosingANewJournalKeepsThisProcesssLocksOnIt) {
  // Closing any descriptor of a file drops every POSIX lock the process
  // holds on it, SQLite's too; with its shared lock gone, another process's
  // connection can believe itself the last one and checkpoint and delete the
  // WAL under this one (a scheduler daemon lost its writes that way when a
  // sync of the new file went through a descriptor of its own). Whatever
  // Open and Close do to the files, they do through SQLite or leave the
  // database file alone.
  auto j = OpenJournal();  // creates the file
  ASSERT_TRUE(j);
  j->CreateRun(MakeRun("aaaaaaaaaaaa"));
  ASSERT_TRUE(j->Close().ok());  // the new file synced
  // An open file description lock conflicts with the POSIX locks of this
  // process too: SQLite's shared lock bytes on the database file.
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock probe = {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0x40000002;  // SQLite's SHARED_FIRST
  probe.l_len = 510;
  ASSERT_EQ(::fcntl(fd, F_OFD_GETLK, &probe), 0) << std::strerror(errno);
  EXPECT_NE(probe.l_type, F_UNLCK) << "the journal's connections lost their shared lock";
  j.reset();
  ::close(fd);  // after the connections: no lock of theirs left to drop
}

TEST_F(JournalWalTest, ManyShortSessionsKeepTheWalShort) {
  // 250 sessions of about ten pages each: ten times the 256 pages past which
  // Close checkpoints the WAL and cuts it back to zero. (SQLite would start
  // the WAL over at the same connection's next commit, which a
  // one-transaction session never makes; the next process's WAL recovery
  // forgets the checkpoint; and every process that opens the journal first
  // re-reads the whole WAL.)
  constexpr int kSessions = 250;
  constexpr int64_t kPage = 4096, kFrame = kPage + 24;
  int64_t largest_wal = 0;
  for (int n = 0; n < kSessions; ++n) {
    ShortSession(path_, n);
    if (HasFatalFailure()) return;
    largest_wal = std::max(largest_wal, SizeOf(path_ + "-wal"));
  }
  // Bounded: the threshold plus one session's frames.
  EXPECT_LE(largest_wal, 32 + (256 + 100) * kFrame);
  // And the data went somewhere: the database file holds most of it.
  EXPECT_GE(SizeOf(path_), int64_t{kSessions} * 40000 / 2);
  auto j = OpenJournal();
  ASSERT_TRUE(j);
  auto runs = j->ListRuns({});
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), static_cast<size_t>(kSessions));
}

TEST_F(JournalWalTest, CommitsOnTheCallersThreadStillGetTheWalCheckpointed) {
  // The engine commits on its own thread (SyncHere); the auto-checkpoint is
  // then run by the writer thread on a connection of its own. 3,000 commits
  // of an event with a 3 KB message write some 10,000 pages: without the
  // checkpoint the WAL would grow to all of them.
  auto j = OpenJournal();
  ASSERT_TRUE(j);
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  constexpr int64_t kFrame = 4096 + 24;
  for (int i = 0; i < 3000; ++i) {
    std::optional<Status> s;
    {
      Journal::Hold hold(*j);
      j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "note", std::string(3000, static_cast<char>('a' + i % 26))));
      s = j->SyncHere();
    }
    if (!s) s = j->SyncBlocking();
    ASSERT_TRUE(s->ok()) << s->message();
  }
  EXPECT_LT(SizeOf(path_ + "-wal"), 32 + 4000 * kFrame);
  ASSERT_TRUE(j->Close().ok());
  auto db = RawDb();
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM events"), 3000);
}

}  // namespace
}  // namespace runbook::journal
