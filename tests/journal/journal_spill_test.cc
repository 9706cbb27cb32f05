// Spill files (journal/spill.h, docs/journal.md "Spill files"): output of a
// stream past the threshold goes to a private file beside the journal and
// reads back byte-exact through every reader; verify re-hashes it and names
// a truncated, edited, deleted or appended file; prune deletes the files and
// the archive gets them; a journal from before spill files still reads.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>

#include "evidence_test_util.h"
#include "journal/migrations.h"
#include "journal/prune.h"
#include "journal/spill.h"

namespace runbook::journal {
namespace {

constexpr int64_t kThreshold = 1000;
constexpr int64_t kDay = 86'400'000'000;
const std::string kRun = "aaaaaaaaaaaa";

// `n` bytes with NULs, invalid UTF-8 (0xff, lone continuation bytes) and
// newlines, different for each seed.
std::string Bytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int ModeOf(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

class JournalSpillTest : public JournalTest {
 protected:
  static OpenOptions Spilling(int64_t threshold = kThreshold) {
    OpenOptions o;
    o.spill_threshold_bytes = threshold;
    return o;
  }

  // `out` as stdout of step "big", attempt 1, of run `id`, in chunks of
  // `chunk` bytes (as the engine reads a pipe).
  static void AppendStdout(Journal& j, const std::string& out, size_t chunk, const std::string& id = kRun) {
    int64_t seq = 0;
    for (size_t at_byte = 0; at_byte < out.size(); at_byte += chunk) {
      OutputChunk c;
      c.run_id = id;
      c.step_id = "big";
      c.seq = seq++;
      c.offset = static_cast<int64_t>(at_byte);
      c.data = out.substr(at_byte, chunk);
      j.AppendOutput(std::move(c));
    }
  }

  std::string RunDir() const { return path_ + ".blobs/" + kRun; }
  std::string SpillFile() const { return RunDir() + "/big.1.stdout"; }

  // Run kRun (finished at `at` + 1 s, with its events as the engine writes
  // them) with one step "big": `out` on stdout in chunks of `chunk` bytes,
  // "warn\n" on stderr; the attempt ends with its digests.
  void WriteBigRun(Journal& j, const std::string& out, size_t chunk, int64_t at = 1'000'000,
                   const std::string& id = kRun) {
    RunRecord r = MakeRun(id, at);
    j.CreateRun(r);
    EventRecord started = MakeEvent(id, "run_started");
    started.data_json = R"({"trigger":"manual"})";
    j.AppendEvent(started);
    AttemptRecord a;
    a.run_id = id;
    a.step_id = "big";
    a.status = AttemptStatus::kRunning;
    a.started_at_us = at;
    j.PutAttempt(a);
    ASSERT_TRUE(j.SyncBlocking().ok());
    AppendStdout(j, out, chunk, id);
    OutputChunk err;
    err.run_id = id;
    err.step_id = "big";
    err.stream = Stream::kStderr;
    err.data = "warn\n";
    j.AppendOutput(err);
    a.status = AttemptStatus::kSucceeded;
    a.finished_at_us = at + 500'000;
    a.exit_code = 0;
    a.stdout_digest = {static_cast<int64_t>(out.size()), Sha256Hex(out)};
    a.stderr_digest = {5, Sha256Hex("warn\n")};
    j.PutAttempt(a);
    EventRecord finished = MakeEvent(id, "run_finished");
    finished.data_json = R"({"status":"succeeded","exit_code":0})";
    j.AppendEvent(finished);
    j.FinishRun(id, RunStatus::kSucceeded, at + 1'000'000, 0, "{}", "");
    ASSERT_TRUE(j.SyncBlocking().ok());
  }

  std::string Concat(Journal& j, Stream stream) {
    auto chunks = j.GetOutput(kRun, std::string("big"));
    EXPECT_TRUE(chunks.ok()) << chunks.status().message();
    std::string all;
    if (chunks.ok())
      for (const auto& c : *chunks)
        if (c.stream == stream) all += c.data;
    return all;
  }

  VerifyReport Verify(const std::string& path) {
    auto r = VerifyJournal(path);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : VerifyReport{};
  }

  int64_t Count(const std::string& sql) { return *RawDb()->QueryInt(sql); }
};

TEST_F(JournalSpillTest, OutputPastTheThresholdGoesToAPrivateFileAndReadsBackByteExact) {
  const std::string out = Bytes(5000, 1);
  auto j = OpenJournal(Spilling());
  WriteBigRun(*j, out, 100);

  EXPECT_EQ(Concat(*j, Stream::kStdout), out);
  EXPECT_EQ(Concat(*j, Stream::kStderr), "warn\n");
  EXPECT_EQ(*j->ReadStream(kRun, "big", 1, Stream::kStdout), out);
  EXPECT_EQ(*j->ReadStream(kRun, "big", 1, Stream::kStdout, 1500), out.substr(0, 1500));
  EXPECT_EQ(*j->ReadStream(kRun, "big", 1, Stream::kStderr), "warn\n");

  // The first 1000 bytes (ten chunks ending at or before the threshold) are
  // inline; everything after is in the file, and only there.
  EXPECT_EQ(Count("SELECT count(*) FROM output_chunks WHERE spill IS NULL AND stream = 'stdout'"), 10);
  EXPECT_EQ(Count("SELECT COALESCE(sum(length(data)), 0) FROM output_chunks WHERE spill IS NOT NULL"), 0);
  EXPECT_EQ(Count("SELECT sum(spill_bytes) FROM output_chunks WHERE spill IS NOT NULL"), 4000);
  EXPECT_EQ(Count("SELECT count(*) FROM output_chunks WHERE spill IS NOT NULL AND spill <> '" + kRun +
                  "/big.1.stdout'"),
            0);
  EXPECT_EQ(ReadFile(SpillFile()), out.substr(1000));
  // seq stays consecutive within the stream.
  EXPECT_EQ(Count("SELECT max(seq) + 1 - count(*) FROM output_chunks WHERE stream = 'stdout'"), 0);

  EXPECT_EQ(ModeOf(path_ + ".blobs"), 0700);
  EXPECT_EQ(ModeOf(RunDir()), 0700);
  EXPECT_EQ(ModeOf(SpillFile()), 0600);

  VerifyReport v = Verify(path_);
  EXPECT_TRUE(v.ok) << Problems(v);
  EXPECT_EQ(v.attempts_checked, 1);
}

TEST_F(JournalSpillTest, AStreamReadsFromAnyByteOnInlineAndSpilled) {
  const std::string out = Bytes(5000, 3);  // 1000 bytes inline in chunks of 100, the rest spilled
  auto j = OpenJournal(Spilling());
  WriteBigRun(*j, out, 100);
  for (int64_t from : {0, 1, 99, 100, 950, 999, 1000, 1001, 2500, 4999, 5000, 6000}) {
    auto got = j->ReadStream(kRun, "big", 1, Stream::kStdout, 0, from);
    ASSERT_TRUE(got.ok()) << from << ": " << got.status().message();
    EXPECT_EQ(*got, out.substr(std::min<size_t>(static_cast<size_t>(from), out.size()))) << "from " << from;
    auto limited = j->ReadStream(kRun, "big", 1, Stream::kStdout, 700, from);
    ASSERT_TRUE(limited.ok());
    EXPECT_EQ(*limited, out.substr(std::min<size_t>(static_cast<size_t>(from), out.size()), 700)) << "from " << from;
  }
}

TEST_F(JournalSpillTest, ConsecutiveChunksOfOneTransactionShareARowAndOtherStreamsKeepTheirOrder) {
  auto j = OpenJournal(Spilling());
  j->CreateRun(MakeRun(kRun));
  ASSERT_TRUE(j->SyncBlocking().ok());
  // Hold the writer in a barrier's callback while the chunks are queued, so
  // that it takes them all in one transaction.
  std::promise<void> entered, release;
  std::shared_future<void> go = release.get_future().share();
  j->Sync([&entered, go](Status) {
    entered.set_value();
    go.wait();
  });
  entered.get_future().wait();
  std::string out = Bytes(6000, 2), expected_order;
  auto chunk = [&](Stream stream, int64_t seq, int64_t offset, std::string data) {
    OutputChunk c;
    c.run_id = kRun;
    c.step_id = "big";
    c.stream = stream;
    c.seq = seq;
    c.offset = offset;
    c.data = std::move(data);
    expected_order += c.data;
    j->AppendOutput(std::move(c));
  };
  for (int i = 0; i < 30; ++i) chunk(Stream::kStdout, i, i * 100, out.substr(i * 100, 100));
  chunk(Stream::kStderr, 0, 0, "in between\n");
  for (int i = 30; i < 60; ++i) chunk(Stream::kStdout, i, i * 100, out.substr(i * 100, 100));
  release.set_value();
  ASSERT_TRUE(j->SyncBlocking().ok());

  // 10 inline chunks, one spilled row for 10..29, the stderr chunk, one
  // spilled row for 30..59 (numbered on: 10, then 11).
  auto db = RawDb();
  auto st = db->Prepare("SELECT stream, seq, byte_offset, spill IS NOT NULL, COALESCE(spill_bytes, length(data)) "
                        "FROM output_chunks ORDER BY id");
  std::string rows;
  while (*st->Step())
    rows += st->Text(0) + " " + std::to_string(st->Int(1)) + " @" + std::to_string(st->Int(2)) +
            (st->Int(3) ? " spill " : " inline ") + std::to_string(st->Int(4)) + "\n";
  std::string expected;
  for (int i = 0; i < 10; ++i) expected += "stdout " + std::to_string(i) + " @" + std::to_string(i * 100) + " inline 100\n";
  expected += "stdout 10 @1000 spill 2000\nstderr 0 @0 inline 11\nstdout 11 @3000 spill 3000\n";
  EXPECT_EQ(rows, expected);

  // Commit order is kept: following the run's output sees what was written, in order.
  std::string followed;
  int64_t cursor = 0;
  for (;;) {
    auto page = j->GetOutput(kRun, std::nullopt, cursor, 2);
    ASSERT_TRUE(page.ok()) << page.status().message();
    if (page->empty()) break;
    for (const auto& c : *page) {
      followed += c.data;
      cursor = c.rowid;
    }
  }
  EXPECT_EQ(followed, expected_order);
}

TEST_F(JournalSpillTest, RowsStayBelowTheMaximumRowSize) {
  const std::string out = Bytes(3 << 20, 3);
  auto j = OpenJournal(Spilling(0));
  WriteBigRun(*j, out, 64 << 10);
  EXPECT_EQ(*j->ReadStream(kRun, "big", 1, Stream::kStdout), out);
  EXPECT_LE(Count("SELECT max(spill_bytes) FROM output_chunks"), kMaxSpillRowBytes);
  EXPECT_GE(Count("SELECT count(*) FROM output_chunks WHERE stream = 'stdout'"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM output_chunks WHERE spill IS NULL AND stream = 'stdout'"), 0);
  VerifyReport v = Verify(path_);
  EXPECT_TRUE(v.ok) << Problems(v);
}

TEST_F(JournalSpillTest, VerifyNamesATruncatedEditedDeletedOrAppendedSpillFile) {
  const std::string out = Bytes(5000, 4);
  struct Case {
    std::string name;
    std::function<void(const std::string& file)> tamper;
    std::vector<std::string> expected;  // substrings of one problem
  };
  auto sql = [this](const std::string& s) { ASSERT_TRUE(RawDb()->Exec(s).ok()) << s; };
  const std::vector<Case> cases = {
      {"truncated", [](const std::string& f) { ASSERT_EQ(truncate(f.c_str(), 3000), 0); },
       {"run aaaaaaaaaaaa, step big, attempt 1: stdout chunk seq ", ": spill file ", "/big.1.stdout holds 3000 bytes, but the journal refers to bytes ",
        " — the file was truncated"}},
      {"edited",
       [](const std::string& f) {
         std::fstream file(f, std::ios::in | std::ios::out | std::ios::binary);
         file.seekg(1234);
         char c = static_cast<char>(file.get());
         file.seekp(1234);
         file.put(static_cast<char>(c ^ 1));
       },
       {"run aaaaaaaaaaaa, step big, attempt 1: stdout: SHA-256 of output_chunks and spill file ",
        "/big.1.stdout differs from the recorded digest — output was edited"}},
      {"deleted", [](const std::string& f) { ASSERT_EQ(unlink(f.c_str()), 0); },
       {"stdout chunk seq 10: spill file ", "/big.1.stdout is missing — output was deleted"}},
      {"appended", [](const std::string& f) { std::ofstream(f, std::ios::app | std::ios::binary) << "0123456789"; },
       {"stdout: spill file ", "/big.1.stdout holds 4010 bytes, 10 more than output_chunks refers to — the file was appended to"}},
      {"a symbolic link",
       [](const std::string& f) {
         std::filesystem::rename(f, f + ".moved");
         std::filesystem::create_symlink(f + ".moved", f);
       },
       {"stdout chunk seq 10: spill file ", "/big.1.stdout is not a regular file"}},
      {"row pointing elsewhere",
       [&sql](const std::string&) {
         sql("UPDATE output_chunks SET spill = 'aaaaaaaaaaaa/../../x' WHERE seq = 10 AND stream = 'stdout'");
       },
       {"stdout chunk seq 10: output_chunks names 'aaaaaaaaaaaa/../../x' as a spill file of run aaaaaaaaaaaa, "
        "which it cannot be — the row was edited"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    path_ = dir_ + "/j" + std::to_string(i) + ".db";
    {
      auto j = OpenJournal(Spilling());
      WriteBigRun(*j, out, 100);
    }
    ASSERT_TRUE(Verify(path_).ok);
    cases[i].tamper(SpillFile());
    VerifyReport v = Verify(path_);
    EXPECT_FALSE(v.ok);
    std::string all = Problems(v);
    bool found = false;
    for (const auto& p : v.problems) {
      bool all_there = true;
      for (const auto& part : cases[i].expected) all_there = all_there && p.message.find(part) != std::string::npos;
      found = found || all_there;
    }
    EXPECT_TRUE(found) << all;
  }
}

TEST_F(JournalSpillTest, ReadingAMissingSpillFileIsAnErrorThatNamesIt) {
  {
    auto j = OpenJournal(Spilling());
    WriteBigRun(*j, Bytes(3000, 5), 100);
  }
  ASSERT_EQ(unlink(SpillFile().c_str()), 0);
  auto j = OpenJournal(Spilling());
  auto chunks = j->GetOutput(kRun, std::string("big"));
  ASSERT_FALSE(chunks.ok());
  EXPECT_EQ(chunks.status().message(), "spill file " + SpillFile() + " is missing");
  auto text = j->ReadStream(kRun, "big", 1, Stream::kStdout);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(), "spill file " + SpillFile() + " is missing");
  // The inline part is still there for whoever reads only that much.
  EXPECT_EQ(j->ReadStream(kRun, "big", 1, Stream::kStdout, 1000)->size(), 1000u);
}

TEST_F(JournalSpillTest, PruneDeletesTheSpillFilesAndTheArchiveGetsThem) {
  const std::string out = Bytes(4000, 6);
  {
    auto j = OpenJournal(Spilling());
    WriteBigRun(*j, out, 100, 1 * kDay);
    WriteSampleRun(*j, "bbbbbbbbbbbb", SampleRunOptions::At(100 * kDay));
  }
  ASSERT_TRUE(std::filesystem::exists(SpillFile()));
  const std::string archive = dir_ + "/archive/old.db";
  PruneOptions o;
  o.finished_before_us = 50 * kDay;
  o.archive_path = archive;
  o.actor = "ops@box";
  auto r = PruneJournal(path_, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->run_ids, std::vector<std::string>{kRun});
  EXPECT_EQ(r->output_bytes, 4005);
  EXPECT_EQ(r->spill_files, 1);
  EXPECT_TRUE(r->warnings.empty());
  EXPECT_FALSE(std::filesystem::exists(RunDir()));
  EXPECT_TRUE(Verify(path_).ok);

  const std::string archived = archive + ".blobs/" + kRun + "/big.1.stdout";
  EXPECT_EQ(ReadFile(archived), out.substr(1000));
  EXPECT_EQ(ModeOf(archived), 0600);
  EXPECT_EQ(ModeOf(archive + ".blobs/" + kRun), 0700);
  OpenOptions no_stale;
  no_stale.mark_stale_runs = false;
  auto a = Journal::Open(archive, no_stale);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(*(*a)->ReadStream(kRun, "big", 1, Stream::kStdout), out);
  a->reset();
  // The archive's output verifies; only the chain's links to rows that
  // stayed behind are reported.
  for (const auto& p : Verify(archive).problems)
    EXPECT_NE(p.message.find("missing — deleted without a prune anchor"), std::string::npos) << p.message;
}

TEST_F(JournalSpillTest, AnExistingFileOfTheSameNameIsNeverReusedOrTruncated) {
  std::filesystem::create_directories(RunDir());
  std::ofstream(SpillFile()) << "planted";
  auto j = OpenJournal(Spilling());
  const std::string out = Bytes(3000, 7);
  WriteBigRun(*j, out, 100);
  EXPECT_EQ(ReadFile(SpillFile()), "planted");
  EXPECT_EQ(ReadFile(SpillFile() + ".2"), out.substr(1000));
  EXPECT_EQ(Concat(*j, Stream::kStdout), out);
  EXPECT_TRUE(Verify(path_).ok);
}

TEST_F(JournalSpillTest, ASpillDirectoryThatIsASymbolicLinkIsRefused) {
  const std::string elsewhere = dir_ + "/elsewhere";
  std::filesystem::create_directory(elsewhere);
  std::filesystem::create_directory_symlink(elsewhere, path_ + ".blobs");
  auto j = OpenJournal(Spilling());
  j->CreateRun(MakeRun(kRun));
  OutputChunk c;
  c.run_id = kRun;
  c.step_id = "big";
  c.data = Bytes(2000, 8);
  j->AppendOutput(c);
  Status s = j->SyncBlocking();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "journal write failed: spill directory " + path_ +
                             ".blobs is a symbolic link or not a directory");
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere));
}

TEST_F(JournalSpillTest, AnAttemptNotEndedAtCloseKeepsItsSpilledBytes) {
  const std::string out = Bytes(3000, 9);
  {
    auto j = OpenJournal(Spilling());
    j->CreateRun(MakeRun(kRun));
    AppendStdout(*j, out, 100);  // 30 chunks
    ASSERT_TRUE(j->Close().ok());
  }
  auto j = OpenJournal(Spilling());
  EXPECT_EQ(*j->ReadStream(kRun, "big", 1, Stream::kStdout), out);
}

TEST_F(JournalSpillTest, ARunIdThatCannotNameAFileKeepsItsOutputInline) {
  auto j = OpenJournal(Spilling(0));
  RunRecord r = MakeRun("../escape");
  j->CreateRun(r);
  OutputChunk c;
  c.run_id = "../escape";
  c.step_id = "big";
  c.data = Bytes(2000, 10);
  j->AppendOutput(c);
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(Count("SELECT count(*) FROM output_chunks WHERE spill IS NULL AND length(data) = 2000"), 1);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".blobs"));
}

TEST_F(JournalSpillTest, OutputAloneIsGatheredIntoFewTransactions) {
  OpenOptions o = Spilling();
  std::atomic<int> commits{0};
  o.before_commit_for_testing = [&commits](sqlite::Db&) {
    ++commits;
    return Status::Ok();
  };
  auto j = OpenJournal(o);
  j->CreateRun(MakeRun(kRun));
  ASSERT_TRUE(j->SyncBlocking().ok());
  commits = 0;
  const std::string out = Bytes(200 * 1000, 12);
  AppendStdout(*j, out, 1000);  // 200 chunks
  ASSERT_TRUE(j->SyncBlocking().ok());
  // One per pipe read would be 200; the writer waits for more output instead.
  EXPECT_LT(commits.load(), 50);
  EXPECT_EQ(*j->ReadStream(kRun, "big", 1, Stream::kStdout), out);
}

TEST_F(JournalSpillTest, AVersionTwoJournalVerifiesAsItIsAndReadsAfterItsMigration) {
  const std::string out = Bytes(3000, 11);
  {
    auto db = RawDb();
    ASSERT_TRUE(db->Exec(Migrations()[0].sql).ok());
    ASSERT_TRUE(db->Exec(Migrations()[1].sql).ok());
    ASSERT_TRUE(db->Exec("PRAGMA user_version = 2; PRAGMA application_id = " + std::to_string(kApplicationId)).ok());
    RunRecord r = MakeRun(kRun);
    auto run = db->Prepare(
        "INSERT INTO runs (id, runbook, content_hash, source_text, trigger_kind, actor, host, pid, process_start, "
        "status, started_at, finished_at) VALUES (?1, 'old', ?2, ?3, 'manual', 'a@b', 'gone-host', 1, 1, "
        "'succeeded', 1, 2)");
    run->BindText(1, kRun);
    run->BindText(2, r.content_hash);
    run->BindText(3, r.source_text);
    ASSERT_TRUE(run->Run().ok());
    auto attempt = db->Prepare(
        "INSERT INTO step_attempts (run_id, step_id, block, attempt, status, stdout_bytes, stdout_sha256) "
        "VALUES (?1, 'big', 'main', 1, 'succeeded', 3000, ?2)");
    attempt->BindText(1, kRun);
    std::string sha = Sha256Hex(out);
    attempt->BindText(2, sha);
    ASSERT_TRUE(attempt->Run().ok());
    auto chunk = db->Prepare(
        "INSERT INTO output_chunks (run_id, step_id, attempt, stream, seq, ts, byte_offset, data) "
        "VALUES (?1, 'big', 1, 'stdout', 0, 1, 0, ?2)");
    chunk->BindText(1, kRun);
    chunk->BindBlob(2, out);
    ASSERT_TRUE(chunk->Run().ok());
  }
  VerifyReport v = Verify(path_);
  EXPECT_TRUE(v.ok) << Problems(v);
  EXPECT_EQ(v.attempts_checked, 1);

  auto j = OpenJournal(Spilling());
  EXPECT_EQ(Count("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(*j->ReadStream(kRun, "big", 1, Stream::kStdout), out);
  EXPECT_EQ(Concat(*j, Stream::kStdout), out);
}

}  // namespace
}  // namespace runbook::journal
