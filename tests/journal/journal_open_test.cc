// Opening a journal: file creation and modes, migrations, refusals (newer
// schema, not a database, another application's database, symbolic links),
// connection settings, the default path, and schema.sql matching the
// migrations.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "journal/migrations.h"
#include "journal/path.h"
#include "journal_test_util.h"

namespace runbook::journal {
namespace {

using JournalOpenTest = JournalTest;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

TEST_F(JournalOpenTest, CreatesMissingDirectoriesPrivateAndTheFileOwnerOnly) {
  path_ = dir_ + "/state/runbook/journal.db";
  auto j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(ModeOf(dir_ + "/state"), 0700u);
  EXPECT_EQ(ModeOf(dir_ + "/state/runbook"), 0700u);
  EXPECT_EQ(ModeOf(path_), 0600u);
  j->CreateRun(MakeRun("aaaaaaaaaaaa"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  // SQLite gives the write-ahead log the database file's permissions.
  EXPECT_EQ(ModeOf(path_ + "-wal"), 0600u);
}

TEST_F(JournalOpenTest, FreshJournalIsMigratedToTheCurrentVersionInWalMode) {
  ASSERT_TRUE(OpenJournal());
  auto db = RawDb();
  EXPECT_EQ(*db->QueryInt("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(*db->QueryInt("PRAGMA application_id"), kApplicationId);
  EXPECT_EQ(*db->QueryText("PRAGMA journal_mode"), "wal");
  for (const char* table : {"runs", "step_attempts", "events", "output_chunks", "findings",
                            "approvals"}) {
    auto st = db->Prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1");
    ASSERT_TRUE(st.ok());
    st->BindText(1, table);
    ASSERT_TRUE(*st->Step());
    EXPECT_EQ(st->Int(0), 1) << table;
  }
}

TEST_F(JournalOpenTest, ANewJournalIsWrittenWholeAndLeavesNoTemporaryFile) {
  bool created = false;
  ASSERT_TRUE(CreateJournalFile(path_, &created).ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(ModeOf(path_), 0600u);
  {
    // Complete before anyone opened it: the image of the current schema.
    auto raw = sqlite::Db::Open(path_, SQLITE_OPEN_READONLY);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*(*raw)->QueryInt("PRAGMA user_version"), kSchemaVersion);
    EXPECT_EQ(*(*raw)->QueryInt("PRAGMA application_id"), kApplicationId);
    EXPECT_EQ(*(*raw)->QueryText("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(*(*raw)->QueryInt("SELECT count(*) FROM runs"), 0);
  }
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "journal.db" || name == "journal.db-wal" || name == "journal.db-shm") << name;
  }
  // A second call finds it and creates nothing.
  ASSERT_TRUE(CreateJournalFile(path_, &created).ok());
  EXPECT_FALSE(created);
  auto j = OpenJournal();
  ASSERT_TRUE(j);
  j->CreateRun(MakeRun("aaaaaaaaaaaa"));
  ASSERT_TRUE(j->Close().ok());
  EXPECT_EQ(j->ListRuns({})->size(), 1u);
}

TEST_F(JournalOpenTest, ThreadsCreatingOneJournalAtOnceAgreeOnOneFile) {
  for (int round = 0; round < 20; ++round) {
    const std::string path = dir_ + "/race-" + std::to_string(round) + ".db";
    std::vector<std::thread> threads;
    std::atomic<int> creators{0}, failures{0};
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&] {
        bool created = false;
        if (!CreateJournalFile(path, &created).ok()) ++failures;
        if (created) ++creators;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0) << round;
    EXPECT_EQ(creators.load(), 1) << round;
    auto j = Journal::Open(path);
    ASSERT_TRUE(j.ok()) << j.status().message();
  }
  // Only the journals: no temporary file was left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().rfind("race-", 0), 0u) << e.path();
}

TEST_F(JournalOpenTest, ReopeningKeepsEverythingAndMigratesNothing) {
  {
    auto j = OpenJournal();
    j->CreateRun(MakeRun("aaaaaaaaaaaa"));
  }
  auto j = OpenJournal();
  ASSERT_TRUE(j);
  auto runs = j->ListRuns({});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->front().id, "aaaaaaaaaaaa");
}

TEST_F(JournalOpenTest, RefusesANewerSchemaVersionAndLeavesTheFileAlone) {
  ASSERT_TRUE(OpenJournal());
  ASSERT_TRUE(RawDb()->Exec("PRAGMA user_version = 7").ok());
  auto j = Journal::Open(path_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(),
            "journal schema version 7 is newer than this runbook (supports " + std::to_string(kSchemaVersion) +
                "); upgrade runbook");
  EXPECT_EQ(*RawDb()->QueryInt("PRAGMA user_version"), 7);
  EXPECT_EQ(*RawDb()->QueryInt("SELECT count(*) FROM sqlite_schema WHERE name = 'runs'"), 1);
}

TEST_F(JournalOpenTest, RefusesAFileThatIsNotADatabaseWithoutTouchingIt) {
  std::string text = "these are my notes, not a database\n";
  for (int i = 0; i < 6; ++i) text += text;  // well past SQLite's 100-byte header
  WriteFile(path_, text);
  auto j = Journal::Open(path_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(), path_ + " is not a runbook journal (file is not a database)");
  EXPECT_EQ(ReadFile(path_), text);
  check_integrity_ = false;
}

TEST_F(JournalOpenTest, RefusesAnotherApplicationsDatabase) {
  ASSERT_TRUE(RawDb()->Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)").ok());
  auto j = Journal::Open(path_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(),
            path_ + " is not a runbook journal (it is another application's SQLite database)");
  auto db = RawDb();
  EXPECT_EQ(*db->QueryInt("PRAGMA user_version"), 0);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM sqlite_schema"), 1);
  EXPECT_EQ(*db->QueryText("PRAGMA journal_mode"), "delete");  // not even switched to WAL
}

TEST_F(JournalOpenTest, RefusesADatabaseWithAForeignApplicationId) {
  ASSERT_TRUE(RawDb()->Exec("PRAGMA application_id = 42").ok());
  auto j = Journal::Open(path_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(),
            path_ + " is not a runbook journal (it is another application's SQLite database)");
}

TEST_F(JournalOpenTest, RefusesASymbolicLink) {
  std::string target = dir_ + "/elsewhere.db";
  ASSERT_TRUE(OpenJournal());  // a real journal behind the link
  ASSERT_EQ(rename(path_.c_str(), target.c_str()), 0);
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  auto j = Journal::Open(path_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(), "journal path is a symbolic link: " + path_);
  check_integrity_ = false;
}

TEST_F(JournalOpenTest, RefusesADanglingSymbolicLinkWithoutCreatingItsTarget) {
  std::string target = dir_ + "/target.db";
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  auto j = Journal::Open(path_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(), "journal path is a symbolic link: " + path_);
  EXPECT_NE(access(target.c_str(), F_OK), 0);
  check_integrity_ = false;
}

TEST_F(JournalOpenTest, RefusesADirectory) {
  ASSERT_EQ(mkdir(path_.c_str(), 0700), 0);
  auto j = Journal::Open(path_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(), path_ + " is not a runbook journal (not a regular file)");
  check_integrity_ = false;
}

TEST_F(JournalOpenTest, ReportsAParentThatIsNotADirectory) {
  WriteFile(dir_ + "/file", "x");
  path_ = dir_ + "/file/sub/journal.db";
  auto j = Journal::Open(path_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(), "cannot create directory " + dir_ + "/file: Not a directory");
}

TEST_F(JournalOpenTest, WriterConnectionUsesNormalSyncForeignKeysAndBusyTimeout) {
  OpenOptions options;
  std::vector<int64_t> sync;
  int64_t fks = -1, busy = -1;
  options.before_commit_for_testing = [&](sqlite::Db& db) {
    sync.push_back(*db.QueryInt("PRAGMA synchronous"));
    fks = *db.QueryInt("PRAGMA foreign_keys");
    busy = *db.QueryInt("PRAGMA busy_timeout");
    return Status::Ok();
  };
  {
    auto j = OpenJournal(options);
    j->CreateRun(MakeRun("aaaaaaaaaaaa"));
    ASSERT_TRUE(j->SyncBlocking().ok());
    j->AppendEvent(MakeEvent("aaaaaaaaaaaa", "note"));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }
  // A new journal's first commit, which writes the new WAL's header, does
  // not sync it (OFF); NORMAL from then on.
  EXPECT_EQ(sync, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(fks, 1);
  EXPECT_EQ(busy, 10000);
  // An existing journal: NORMAL from the first commit.
  sync.clear();
  auto j = OpenJournal(options);
  j->AppendEvent(MakeEvent("aaaaaaaaaaaa", "note"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(sync, (std::vector<int64_t>{1}));
}

TEST_F(JournalOpenTest, ANewDatabaseFileBesideAnOldWalSyncsTheWalHeaderAsUsual) {
  // The database file was deleted without its WAL: the first commit may
  // write over older frames, so SQLite's header sync stays.
  {
    auto j = OpenJournal();
    j->CreateRun(MakeRun("aaaaaaaaaaaa"));
    ASSERT_TRUE(j->Close().ok());
  }
  ASSERT_EQ(unlink(path_.c_str()), 0);
  OpenOptions options;
  int64_t sync = -1;
  options.before_commit_for_testing = [&](sqlite::Db& db) {
    sync = *db.QueryInt("PRAGMA synchronous");
    return Status::Ok();
  };
  auto j = OpenJournal(options);
  j->CreateRun(MakeRun("bbbbbbbbbbbb"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(sync, 1);
}

TEST_F(JournalOpenTest, SqliteErrorsCarryThePathAndSqlitesMessage) {
  auto db = RawDb();
  auto st = db->Prepare("SELEC 1");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().message(), path_ + ": near \"SELEC\": syntax error");
}

// Comments and whitespace do not matter; everything else in the stored
// CREATE statements does (columns, types, defaults, CHECKs, keys, indexes).
std::string NormalizedSchema(sqlite::Db& db) {
  auto st = db.Prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name");
  EXPECT_TRUE(st.ok());
  std::string out;
  while (*st->Step()) {
    std::string sql = std::regex_replace(st->Text(3), std::regex("--[^\n]*"), "");
    sql = std::regex_replace(sql, std::regex("\\s+"), " ");
    sql = std::regex_replace(sql, std::regex(" ?([(),]) ?"), "$1");
    out += st->Text(0) + " " + st->Text(1) + " " + st->Text(2) + ": " + sql + "\n";
  }
  out += "user_version " + std::to_string(*db.QueryInt("PRAGMA user_version")) + "\n";
  out += "application_id " + std::to_string(*db.QueryInt("PRAGMA application_id")) + "\n";
  return out;
}

TEST_F(JournalOpenTest, SchemaSqlIsExactlyWhatTheMigrationsBuild) {
  // A new journal gets schema.sql in one script; a journal an older runbook
  // created gets the migrations one by one. Both must end up the same.
  ASSERT_TRUE(OpenJournal());
  std::string schema = ReadFile(std::string(RUNBOOK_SOURCE_DIR) + "/journal/schema.sql");
  ASSERT_FALSE(schema.empty());
  std::string reference_path = dir_ + "/reference.db";
  auto reference = sqlite::Db::Open(reference_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(reference.ok());
  for (const Migration& m : Migrations()) {
    ASSERT_TRUE((*reference)->Exec(m.sql).ok()) << m.version;
    ASSERT_TRUE((*reference)->Exec("PRAGMA user_version = " + std::to_string(m.version)).ok());
  }
  ASSERT_TRUE((*reference)->Exec("PRAGMA application_id = " + std::to_string(kApplicationId)).ok());
  std::string expected = NormalizedSchema(**reference);
  EXPECT_NE(expected.find("table runs runs: CREATE TABLE runs(id TEXT PRIMARY KEY NOT NULL,"),
            std::string::npos)
      << expected;
  EXPECT_NE(expected.find("user_version " + std::to_string(kSchemaVersion)), std::string::npos) << expected;
  EXPECT_EQ(NormalizedSchema(*RawDb()), expected);  // the new journal

  // And the file itself, as a reader of the format would run it.
  std::string from_file_path = dir_ + "/from_file.db";
  auto from_file = sqlite::Db::Open(from_file_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(from_file.ok());
  ASSERT_TRUE((*from_file)->Exec(schema).ok());
  EXPECT_EQ(NormalizedSchema(**from_file), expected);
}

void WriteVersion1Journal(const std::string& path);  // below

TEST_F(JournalOpenTest, AVersion1JournalIsMigratedToTheSchemaOfANewOne) {
  std::string old_path = dir_ + "/old.db";
  WriteVersion1Journal(old_path);
  auto old_journal = Journal::Open(old_path);
  ASSERT_TRUE(old_journal.ok()) << old_journal.status().message();
  (*old_journal)->CreateRun(MakeRun("a1b2c3d4e5f6"));
  ASSERT_TRUE((*old_journal)->Close().ok());
  ASSERT_TRUE(OpenJournal());
  auto migrated = sqlite::Db::Open(old_path, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(migrated.ok());
  EXPECT_EQ(NormalizedSchema(**migrated), NormalizedSchema(*RawDb()));
}

TEST_F(JournalOpenTest, MigrationsAreNumberedInOrder) {
  auto migrations = Migrations();
  ASSERT_EQ(migrations.size(), static_cast<size_t>(kSchemaVersion));
  for (size_t i = 0; i < migrations.size(); ++i) EXPECT_EQ(migrations[i].version, int(i + 1));
}

// --- Opening while other processes hold the write lock (issue #8) ----------

// A journal at schema version 1, as an older runbook left it: opening it
// needs the write lock, to migrate.
void WriteVersion1Journal(const std::string& path) {
  auto db = sqlite::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_EQ(*(*db)->QueryText("PRAGMA journal_mode = WAL"), "wal");
  ASSERT_TRUE((*db)->Exec(Migrations()[0].sql).ok());
  ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 1").ok());
  ASSERT_TRUE((*db)->Exec("PRAGMA application_id = " + std::to_string(kApplicationId)).ok());
}

TEST_F(JournalOpenTest, CurrentJournalWithLiveRunsOpensWhileAnotherProcessHoldsTheWriteLock) {
  {
    auto j = OpenJournal();
    ASSERT_TRUE(j);
    j->CreateRun(MakeRun("aaaaaaaaaaaa"));  // 'running', by this live process
    ASSERT_TRUE(j->Close().ok());
  }
  auto holder = RawDb();
  ASSERT_TRUE(holder->Exec("BEGIN IMMEDIATE").ok());
  // Neither the schema check nor the stale-run check needs the lock: Open
  // does not wait for it at all (it would wait 20 s per attempt).
  OpenOptions options;
  options.busy_timeout_ms = 20000;
  auto start = std::chrono::steady_clock::now();
  auto j = Journal::Open(path_, options);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_TRUE((*j)->interrupted_on_open().empty());
  EXPECT_EQ((*j)->GetRun("aaaaaaaaaaaa")->status, RunStatus::kRunning);
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
}

// Journal::Open with a 300 ms busy timeout while `holder` (another process)
// keeps the write lock for 700 ms: longer than one busy timeout, well within
// the retries (six attempts of 300 ms).
Result<std::unique_ptr<Journal>> OpenWhileLockedFor700Ms(const std::string& path, sqlite::Db& holder) {
  EXPECT_TRUE(holder.Exec("BEGIN IMMEDIATE").ok());
  std::thread release([&holder] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    EXPECT_TRUE(holder.Exec("ROLLBACK").ok());
  });
  OpenOptions options;
  options.busy_timeout_ms = 300;
  auto j = Journal::Open(path, options);
  release.join();
  return j;
}

TEST_F(JournalOpenTest, MigratingRetriesTheWriteLockPastOneBusyTimeout) {
  WriteVersion1Journal(path_);
  auto holder = RawDb();
  auto j = OpenWhileLockedFor700Ms(path_, *holder);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(*RawDb()->QueryInt("PRAGMA user_version"), kSchemaVersion);
}

TEST_F(JournalOpenTest, WriteLockThatNeverFreesUpFailsTheOpenNamingTheJournal) {
  WriteVersion1Journal(path_);
  auto holder = RawDb();
  ASSERT_TRUE(holder->Exec("BEGIN IMMEDIATE").ok());
  OpenOptions options;
  options.busy_timeout_ms = 20;
  auto j = Journal::Open(path_, options);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), Status::Code::kBusy);
  EXPECT_EQ(j.status().message().rfind("cannot open journal " + path_ +
                                           ": database is locked (other processes held the write "
                                           "lock for ",
                                       0),
            0u)
      << j.status().message();
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  EXPECT_EQ(*RawDb()->QueryInt("PRAGMA user_version"), 1);  // untouched
}

TEST_F(JournalOpenTest, StaleRunIsMarkedOnceTheWriteLockFreesUp) {
  {
    auto j = OpenJournal();
    RunRecord r = MakeRun("deaddeaddead");
    r.process.pid = 0x7ffffff0;  // no such process
    j->CreateRun(r);
    ASSERT_TRUE(j->Close().ok());
  }
  auto holder = RawDb();
  auto j = OpenWhileLockedFor700Ms(path_, *holder);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ((*j)->interrupted_on_open(), std::vector<std::string>{"deaddeaddead"});
  EXPECT_EQ((*j)->GetRun("deaddeaddead")->status, RunStatus::kInterrupted);
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(DefaultJournalPathTest, FollowsRunbookJournalThenXdgStateHomeThenHome) {
  ScopedEnv home("HOME", "/home/alice");
  {
    ScopedEnv journal("RUNBOOK_JOURNAL", "/srv/journal.db");
    ScopedEnv xdg("XDG_STATE_HOME", "/xdg");
    EXPECT_EQ(DefaultJournalPath(), "/srv/journal.db");
  }
  ScopedEnv journal("RUNBOOK_JOURNAL", nullptr);
  {
    ScopedEnv xdg("XDG_STATE_HOME", "/xdg");
    EXPECT_EQ(DefaultJournalPath(), "/xdg/runbook/journal.db");
  }
  {
    ScopedEnv xdg("XDG_STATE_HOME", "relative/ignored");
    EXPECT_EQ(DefaultJournalPath(), "/home/alice/.local/state/runbook/journal.db");
  }
  ScopedEnv xdg("XDG_STATE_HOME", nullptr);
  EXPECT_EQ(DefaultJournalPath(), "/home/alice/.local/state/runbook/journal.db");
}

}  // namespace
}  // namespace runbook::journal
