// VerifyJournal (SPEC §6, issue 6): an untouched journal verifies; editing
// any column of an event, an output chunk or a run row, or deleting a row,
// with plain SQL behind runbook's back is found and the place named; a file
// that is not a journal, or is damaged, is a clear error.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "evidence_test_util.h"

namespace runbook::journal {
namespace {

class JournalVerifyTest : public JournalTest {
 protected:
  // Two finished runs, interleaving nothing: seqs 1..N. All of it in the
  // database file, which some tests copy to restore it (a closed Journal
  // leaves its records in the WAL until an auto-checkpoint).
  void WriteTwoRuns() {
    auto j = OpenJournal();
    WriteSampleRun(*j, "aaaaaaaaaaaa");
    WriteSampleRun(*j, "bbbbbbbbbbbb", SampleRunOptions::At(9'000'000).Status(RunStatus::kFailed));
    ASSERT_TRUE(j->Close().ok());
    ASSERT_TRUE(RawDb()->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }

  VerifyReport Verify(const std::string& head = "") {
    auto r = VerifyJournal(path_, std::nullopt, head);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : VerifyReport{};
  }

  void Sql(const std::string& sql) {
    auto db = RawDb();
    ASSERT_TRUE(db->Exec(sql).ok()) << sql;
  }

  int64_t SeqOf(const std::string& where) {
    return *RawDb()->QueryInt("SELECT seq FROM events WHERE " + where + " ORDER BY seq LIMIT 1");
  }

  // A broken report that names `needle` in one of its problems.
  static void ExpectNamed(const VerifyReport& r, const std::string& needle) {
    EXPECT_FALSE(r.ok);
    EXPECT_NE(Problems(r).find(needle), std::string::npos) << "wanted: " << needle << "\ngot:\n" << Problems(r);
  }
};

TEST_F(JournalVerifyTest, UntouchedJournalVerifiesAndReportsItsHead) {
  WriteTwoRuns();
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << Problems(r);
  EXPECT_EQ(r.first_bad_seq, 0);
  EXPECT_EQ(r.events_checked, *RawDb()->QueryInt("SELECT count(*) FROM events"));
  EXPECT_EQ(r.runs_checked, 2);
  EXPECT_EQ(r.attempts_checked, 4);
  EXPECT_EQ(r.last_seq, r.events_checked);
  EXPECT_EQ(r.head_hash, *RawDb()->QueryText("SELECT hash FROM events ORDER BY seq DESC LIMIT 1"));
  EXPECT_TRUE(Verify(std::to_string(r.last_seq) + ":" + r.head_hash).ok);
}

TEST_F(JournalVerifyTest, EditedMessageIsNamedAsTheFirstBrokenRow) {
  WriteTwoRuns();
  int64_t seq = SeqOf("run_id = 'bbbbbbbbbbbb' AND kind = 'step_finished'");
  Sql("UPDATE events SET message = 'all good' WHERE seq = " + std::to_string(seq));
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_seq, seq);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].message, "event seq " + std::to_string(seq) +
                                       " (run bbbbbbbbbbbb, step step-0): hash mismatch — the row was edited");
  EXPECT_EQ(r.problems[0].run_id, "bbbbbbbbbbbb");
  EXPECT_EQ(r.problems[0].step_id, "step-0");
}

TEST_F(JournalVerifyTest, EditingAnySingleColumnOfAnEventIsFound) {
  WriteTwoRuns();
  int64_t seq = SeqOf("run_id = 'aaaaaaaaaaaa' AND kind = 'step_started'");
  const char* edits[] = {"run_id = 'bbbbbbbbbbbb'", "step_id = 'other'", "step_id = NULL", "attempt = 2",
                         "attempt = NULL", "ts = ts + 1", "kind = 'note'", "actor = 'mallory@box'",
                         "message = message || ' '", "data_json = '{\"x\":1}'", "prev_hash = hash",
                         "hash = prev_hash", "seq = 100000"};
  std::string backup = path_ + ".orig";
  std::filesystem::copy_file(path_, backup);
  for (const char* edit : edits) {
    std::filesystem::copy_file(backup, path_, std::filesystem::copy_options::overwrite_existing);
    Sql("UPDATE events SET " + std::string(edit) + " WHERE seq = " + std::to_string(seq));
    VerifyReport r = Verify();
    EXPECT_FALSE(r.ok) << edit;
    EXPECT_GT(r.first_bad_seq, 0) << edit;
  }
}

TEST_F(JournalVerifyTest, EditedRowWithItsHashRecomputedIsCaughtByTheNextLink) {
  WriteTwoRuns();
  int64_t seq = SeqOf("run_id = 'aaaaaaaaaaaa' AND kind = 'run_finished'");
  // Recompute the edited row's hash the way a careful forger would.
  auto db = RawDb();
  auto st = db->Prepare("SELECT run_id, ts, kind, actor, data_json, prev_hash FROM events WHERE seq = ?1");
  st->BindInt(1, seq);
  ASSERT_TRUE(*st->Step());
  std::string run = st->Text(0), kind = st->Text(2), actor = st->Text(3), data = st->Text(4), prev = st->Text(5);
  ChainFields f;
  f.seq = seq;
  f.run_id = run;
  f.ts = st->Int(1);
  f.kind = kind;
  f.actor = actor;
  f.message = "run succeeded, nothing to see";
  f.data_json = data;
  f.prev_hash = prev;
  st->Reset();
  auto up = db->Prepare("UPDATE events SET message = ?1, hash = ?2 WHERE seq = ?3");
  up->BindText(1, f.message);
  std::string hash = EventHash(f);
  up->BindText(2, hash);
  up->BindInt(3, seq);
  ASSERT_TRUE(up->Run().ok());

  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_seq, seq);
  ExpectNamed(r, "event seq " + std::to_string(seq) + " (run aaaaaaaaaaaa): does not match the hash recorded by "
                 "the next row (seq " + std::to_string(seq + 1) + ") — the row was edited and its hash recomputed");
}

TEST_F(JournalVerifyTest, DeletedMiddleRowIsNamed) {
  WriteTwoRuns();
  int64_t seq = SeqOf("run_id = 'aaaaaaaaaaaa' AND kind = 'step_finished'");
  Sql("DELETE FROM events WHERE seq = " + std::to_string(seq));
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_seq, seq + 1);
  ExpectNamed(r, "event seq " + std::to_string(seq) + " before it is missing — deleted without a prune anchor");
}

TEST_F(JournalVerifyTest, DeletedLastRowIsFoundThroughTheSequenceCounter) {
  WriteTwoRuns();
  int64_t last = *RawDb()->QueryInt("SELECT max(seq) FROM events");
  Sql("DELETE FROM events WHERE seq = " + std::to_string(last));
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_seq, last);
  ExpectNamed(r, "event seq " + std::to_string(last) + ": missing — the last events were deleted");
}

TEST_F(JournalVerifyTest, TruncatedTailWithTheCounterResetIsFoundOnlyAgainstAKeptHead) {
  WriteTwoRuns();
  {
    auto j = OpenJournal();
    for (int i = 0; i < 3; ++i) j->AppendEvent(MakeEvent("", "scheduler_heartbeat"));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }
  VerifyReport before = Verify();
  ASSERT_TRUE(before.ok);
  std::string head = std::to_string(before.last_seq) + ":" + before.head_hash;
  Sql("DELETE FROM events WHERE seq >= " + std::to_string(before.last_seq - 2) +
      "; UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM events) WHERE name = 'events'");
  // The documented limit: without the head kept elsewhere this is invisible.
  EXPECT_TRUE(Verify().ok);
  VerifyReport r = Verify(head);
  ExpectNamed(r, "the recorded head " + head + " is not in the chain");
}

TEST_F(JournalVerifyTest, InsertedRowIsFound) {
  WriteTwoRuns();
  Sql("INSERT INTO events (run_id, ts, kind, actor, message, data_json, prev_hash, hash) "
      "SELECT 'aaaaaaaaaaaa', 5, 'note', 'mallory@box', 'approved by bob', '{}', hash, hash "
      "FROM events ORDER BY seq DESC LIMIT 1");
  VerifyReport r = Verify();
  ExpectNamed(r, "hash mismatch — the row was edited");
}

TEST_F(JournalVerifyTest, RunRowEditsAreFound) {
  WriteTwoRuns();
  std::string backup = path_ + ".orig";
  std::filesystem::copy_file(path_, backup);
  struct Case {
    const char* edit;
    const char* named;
  } cases[] = {
      {"source_text = source_text || '# harmless'", "run aaaaaaaaaaaa: content_hash does not match source_text"},
      {"content_hash = '00'", "run aaaaaaaaaaaa: content_hash does not match source_text"},
      {"status = 'failed'", "run aaaaaaaaaaaa: status is 'failed' but event seq"},
      {"exit_code = 7", "run aaaaaaaaaaaa: exit_code is 7 but event seq"},
      {"trigger_kind = 'cron'", "run aaaaaaaaaaaa: trigger is 'cron' but event seq"},
  };
  for (const Case& c : cases) {
    std::filesystem::copy_file(backup, path_, std::filesystem::copy_options::overwrite_existing);
    Sql("UPDATE runs SET " + std::string(c.edit) + " WHERE id = 'aaaaaaaaaaaa'");
    ExpectNamed(Verify(), c.named);
  }
  std::filesystem::copy_file(backup, path_, std::filesystem::copy_options::overwrite_existing);
  Sql("PRAGMA foreign_keys = OFF; DELETE FROM runs WHERE id = 'aaaaaaaaaaaa'");
  ExpectNamed(Verify(), "run aaaaaaaaaaaa: the run's row is missing but");
}

TEST_F(JournalVerifyTest, OutputChunkEditsAndDeletionsAreFound) {
  WriteTwoRuns();
  std::string backup = path_ + ".orig";
  std::filesystem::copy_file(path_, backup);
  const std::string chunk = "run_id = 'aaaaaaaaaaaa' AND step_id = 'step-1' AND stream = 'stdout' AND seq = 1";
  struct Case {
    std::string sql;
    std::string named;
  } cases[] = {
      {"UPDATE output_chunks SET data = CAST('line X of step-1\n' AS BLOB) WHERE " + chunk,
       "run aaaaaaaaaaaa, step step-1, attempt 1: stdout: SHA-256 of output_chunks differs"},
      {"UPDATE output_chunks SET data = CAST('short' AS BLOB) WHERE " + chunk,
       "run aaaaaaaaaaaa, step step-1, attempt 1: stdout chunk seq 2 starts at byte"},
      {"UPDATE output_chunks SET data = CAST('longer line 2 of step-1\n' AS BLOB) WHERE run_id = 'aaaaaaaaaaaa' "
       "AND step_id = 'step-1' AND stream = 'stdout' AND seq = 2",
       "run aaaaaaaaaaaa, step step-1, attempt 1: stdout is"},
      {"UPDATE output_chunks SET byte_offset = 0 WHERE " + chunk, "stdout chunk seq 1 starts at byte 0"},
      {"UPDATE output_chunks SET seq = 7 WHERE " + chunk, "stdout chunk seq 2 follows seq 0 — a chunk was deleted"},
      {"DELETE FROM output_chunks WHERE " + chunk, "stdout chunk seq 2 follows seq 0"},
      {"DELETE FROM output_chunks WHERE run_id = 'aaaaaaaaaaaa' AND step_id = 'step-1' AND stream = 'stderr'",
       "stderr recorded 9 bytes but output_chunks has none"},
      {"UPDATE output_chunks SET step_id = 'step-9' WHERE run_id = 'aaaaaaaaaaaa' AND step_id = 'step-1'",
       "step step-9, attempt 1: stdout output exists but the attempt's row is missing"},
      {"UPDATE step_attempts SET stdout_sha256 = '" + Sha256Hex("x") + "' WHERE run_id = 'aaaaaaaaaaaa'",
       "SHA-256 of output_chunks differs from the recorded digest"},
      {"UPDATE step_attempts SET status = 'failed' WHERE run_id = 'aaaaaaaaaaaa' AND step_id = 'step-1'",
       "attempt 1 of step step-1: status is 'failed' but event seq"},
      {"DELETE FROM step_attempts WHERE run_id = 'bbbbbbbbbbbb' AND step_id = 'step-0'",
       "run bbbbbbbbbbbb, step step-0, attempt 1: missing, but event seq"},
  };
  for (const Case& c : cases) {
    std::filesystem::copy_file(backup, path_, std::filesystem::copy_options::overwrite_existing);
    Sql(c.sql);
    ExpectNamed(Verify(), c.named);
  }
}

TEST_F(JournalVerifyTest, FindingEditsAndDeletionsAreFound) {
  WriteTwoRuns();
  std::string backup = path_ + ".orig";
  std::filesystem::copy_file(path_, backup);
  Sql("UPDATE findings SET level = 'info' WHERE run_id = 'aaaaaaaaaaaa'");
  ExpectNamed(Verify(), "finding 1 ('disk 91% full') differs from event seq");
  std::filesystem::copy_file(backup, path_, std::filesystem::copy_options::overwrite_existing);
  Sql("DELETE FROM findings WHERE run_id = 'bbbbbbbbbbbb'");
  ExpectNamed(Verify(), "records a finding that is not in the findings table");
}

TEST_F(JournalVerifyTest, RunFilterNarrowsThePerRunChecksButNotTheChain) {
  WriteTwoRuns();
  Sql("UPDATE runs SET source_text = 'x' WHERE id = 'aaaaaaaaaaaa'");
  auto only_b = VerifyJournal(path_, std::vector<std::string>{"bbbbbbbbbbbb"});
  ASSERT_TRUE(only_b.ok());
  EXPECT_TRUE(only_b->ok) << Problems(*only_b);
  EXPECT_EQ(only_b->runs_checked, 1);
  auto only_a = VerifyJournal(path_, std::vector<std::string>{"aaaaaaaaaaaa", "cccccccccccc"});
  ASSERT_TRUE(only_a.ok());
  ExpectNamed(*only_a, "run cccccccccccc: not in the journal");
  ExpectNamed(*only_a, "content_hash does not match source_text");
}

TEST_F(JournalVerifyTest, SpillDirectoriesOfRunsNotInTheJournalAreNotedNotFailed) {
  WriteTwoRuns();
  namespace fs = std::filesystem;
  const std::string blobs = path_ + ".blobs";
  fs::create_directories(blobs + "/aaaaaaaaaaaa");  // a run of the journal
  fs::create_directories(blobs + "/0123456789ab");  // a run that is not
  std::ofstream(blobs + "/0123456789ab/step.1.stdout") << "left behind";
  fs::create_directories(blobs + "/ffffffffffff");
  fs::create_symlink(blobs + "/ffffffffffff", blobs + "/eeeeeeeeeeee");  // a link is not a run directory
  std::ofstream(blobs + "/dddddddddddd") << "a file, not a directory";
  std::ofstream(blobs + "/.hidden") << "";
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << Problems(r);
  EXPECT_EQ(r.stray_spill_dirs, (std::vector<std::string>{blobs + "/0123456789ab", blobs + "/ffffffffffff"}));
  // Narrowed to some runs, the journal's other files are not looked at.
  auto narrowed = VerifyJournal(path_, std::vector<std::string>{"aaaaaaaaaaaa"});
  ASSERT_TRUE(narrowed.ok());
  EXPECT_TRUE(narrowed->stray_spill_dirs.empty());
  fs::remove_all(blobs);
  EXPECT_TRUE(Verify().stray_spill_dirs.empty());
}

TEST_F(JournalVerifyTest, MissingForeignAndDamagedFilesAreClearErrors) {
  check_integrity_ = false;
  auto missing = VerifyJournal(dir_ + "/nope.db");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "no journal at " + dir_ + "/nope.db");

  std::ofstream(path_) << "just text, not a database at all";
  auto text = VerifyJournal(path_);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(), path_ + " is not a runbook journal (file is not a database)");

  std::filesystem::remove(path_);
  WriteTwoRuns();
  {
    auto j = OpenJournal();
    for (int i = 0; i < 2000; ++i) j->AppendEvent(MakeEvent("aaaaaaaaaaaa", "note", std::string(200, 'x')));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }
  // Fold the WAL into the file, then cut the file in half.
  ASSERT_TRUE(RawDb()->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  std::filesystem::resize_file(path_, std::filesystem::file_size(path_) / 2);
  auto cut = VerifyJournal(path_);
  if (cut.ok()) {
    EXPECT_FALSE(cut->ok);
    ExpectNamed(*cut, "integrity_check");
  } else {
    EXPECT_NE(cut.status().message().find("is damaged or truncated"), std::string::npos) << cut.status().message();
  }
}

TEST_F(JournalVerifyTest, VerifiesConsistentlyWhileAnotherWriterAppends) {
  WriteTwoRuns();
  auto j = OpenJournal();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int n = 0;
    while (!stop) {
      WriteSampleRun(*j, "w" + std::to_string(10000000000 + n++).substr(0, 11), SampleRunOptions().Steps(1));
      (void)j->SyncBlocking();
    }
  });
  for (int i = 0; i < 10; ++i) {
    VerifyReport r = Verify();
    EXPECT_TRUE(r.ok) << Problems(r);
  }
  stop = true;
  writer.join();
}

}  // namespace
}  // namespace runbook::journal
