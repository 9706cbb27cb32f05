// The hash chain of the events table (docs/journal.md): every row links to
// the one before it, across runs, across Journal objects and processes that
// share the file, and its hash is the documented function of its columns.
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "evidence_test_util.h"

namespace runbook::journal {
namespace {

using JournalChainTest = JournalTest;

struct Row {
  int64_t seq;
  std::string prev_hash, hash;
  bool prev_null, hash_null;
};

std::vector<Row> Rows(sqlite::Db& db) {
  auto st = db.Prepare("SELECT seq, prev_hash, hash FROM events ORDER BY seq");
  EXPECT_TRUE(st.ok());
  std::vector<Row> rows;
  while (*st->Step()) rows.push_back({st->Int(0), st->Text(1), st->Text(2), st->IsNull(1), st->IsNull(2)});
  return rows;
}

TEST_F(JournalChainTest, EveryEventLinksToThePreviousOneAcrossRuns) {
  auto j = OpenJournal();
  WriteSampleRun(*j, "aaaaaaaaaaaa");
  WriteSampleRun(*j, "bbbbbbbbbbbb", SampleRunOptions::At(9'000'000));
  j->AppendEvent(MakeEvent("", "scheduler_started"));
  ASSERT_TRUE(j->SyncBlocking().ok());

  auto rows = Rows(*RawDb());
  ASSERT_GT(rows.size(), 10u);
  EXPECT_EQ(rows[0].prev_hash, kGenesisHash);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].seq, static_cast<int64_t>(i) + 1);
    EXPECT_FALSE(rows[i].hash_null);
    EXPECT_EQ(rows[i].hash.size(), 64u);
    if (i > 0) {
      EXPECT_EQ(rows[i].prev_hash, rows[i - 1].hash) << "seq " << rows[i].seq;
    }
  }
  // What GetEvents returns carries the chain too.
  auto events = j->GetEvents("bbbbbbbbbbbb");
  ASSERT_TRUE(events.ok());
  ASSERT_TRUE(events->front().hash.has_value());
  EXPECT_EQ(*events->front().prev_hash, rows[static_cast<size_t>(events->front().seq) - 2].hash);
}

TEST_F(JournalChainTest, HashIsSha256OfTheDocumentedNetstringEncoding) {
  ChainFields f;
  f.seq = 7;
  f.run_id = "a1b2c3d4e5f6";
  f.attempt = 2;
  f.ts = 1700000000000000;
  f.kind = "note";
  f.actor = "alice@box";
  f.message = "héllo";
  f.data_json = "{}";
  f.prev_hash = kGenesisHash;
  std::string expected = "13:rbkj-event-v1,1:7,12:a1b2c3d4e5f6,-,1:2,16:1700000000000000,4:note,9:alice@box,"
                         "6:h\xc3\xa9llo,2:{},64:" + std::string(kGenesisHash) + ",";
  EXPECT_EQ(CanonicalEventBytes(f), expected);
  EXPECT_EQ(EventHash(f), Sha256Hex(expected));
}

TEST_F(JournalChainTest, EncodingTellsApartWhatConcatenationWouldNot) {
  ChainFields a;
  a.kind = "note";
  a.message = "ab";
  a.data_json = "c";
  ChainFields b = a;
  b.message = "a";
  b.data_json = "bc";
  EXPECT_NE(EventHash(a), EventHash(b));
  ChainFields null_step = a, empty_step = a;
  empty_step.step_id = "";
  EXPECT_NE(EventHash(null_step), EventHash(empty_step));
  ChainFields no_attempt = a, attempt_zero = a;
  attempt_zero.attempt = 0;
  EXPECT_NE(EventHash(no_attempt), EventHash(attempt_zero));
}

TEST_F(JournalChainTest, TwoJournalsOnOneFileWritingAtOnceKeepOneValidChain) {
  auto first = OpenJournal();
  auto second = OpenJournal();
  auto writer = [](Journal* j, const std::string& run) {
    j->CreateRun(MakeRun(run));
    for (int i = 0; i < 400; ++i) {
      j->AppendEvent(MakeEvent(run, "note", std::to_string(i)));
      if (i % 25 == 0) {
        ASSERT_TRUE(j->SyncBlocking().ok());
      }
    }
    ASSERT_TRUE(j->SyncBlocking().ok());
  };
  std::thread t1(writer, first.get(), "111111111111");
  std::thread t2(writer, second.get(), "222222222222");
  t1.join();
  t2.join();
  auto report = VerifyJournal(path_);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->ok) << Problems(*report);
  EXPECT_EQ(report->events_checked, 800);
  EXPECT_EQ(report->last_seq, 800);
}

TEST_F(JournalChainTest, TwoProcessesWritingAtOnceKeepOneValidChain) {
  { OpenJournal(); }  // create the file before forking
  std::vector<pid_t> children;
  for (const char* run : {"333333333333", "444444444444"}) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto j = Journal::Open(path_);
      if (!j.ok()) _exit(2);
      (*j)->CreateRun(MakeRun(run));
      for (int i = 0; i < 300; ++i) {
        (*j)->AppendEvent(MakeEvent(run, "note", std::to_string(i)));
        if (i % 10 == 0 && !(*j)->SyncBlocking().ok()) _exit(3);
      }
      _exit((*j)->Close().ok() ? 0 : 4);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto report = VerifyJournal(path_);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->ok) << Problems(*report);
  EXPECT_EQ(report->events_checked, 600);
}

TEST_F(JournalChainTest, SeqIsNeverReusedAfterTheLastRowsWereDeleted) {
  auto j = OpenJournal();
  j->CreateRun(MakeRun("555555555555"));
  for (int i = 0; i < 5; ++i) j->AppendEvent(MakeEvent("555555555555", "note"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  ASSERT_TRUE(RawDb()->Exec("DELETE FROM events WHERE seq >= 4").ok());
  j->AppendEvent(MakeEvent("555555555555", "note", "after"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  auto rows = Rows(*RawDb());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows.back().seq, 6);  // not 4: the gap stays visible
  auto report = VerifyJournal(path_);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 6);
}

TEST_F(JournalChainTest, StaleRunMarkingAppendsAChainedEvent) {
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  {
    auto j = OpenJournal();
    WriteSampleRun(*j, "666666666666", SampleRunOptions().Unfinished());
    RunRecord r = MakeRun("777777777777");
    r.process.pid = dead;
    j->CreateRun(r);
    j->AppendEvent(MakeEvent("777777777777", "run_started"));
  }
  auto j = OpenJournal();
  ASSERT_EQ(j->interrupted_on_open(), std::vector<std::string>{"777777777777"});
  auto events = j->GetEvents("777777777777");
  ASSERT_EQ(events->back().kind, "interrupted");
  EXPECT_TRUE(events->back().hash.has_value());
  auto report = VerifyJournal(path_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << Problems(*report);
}

TEST_F(JournalChainTest, EventsFromBeforeTheChainAreALeadingUnverifiablePrefix) {
  {
    auto j = OpenJournal();
    j->CreateRun(MakeRun("888888888888"));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }
  // As a version-1 binary wrote them: no hashes.
  ASSERT_TRUE(RawDb()->Exec("INSERT INTO events (run_id, ts, kind, actor) VALUES "
                            "('888888888888', 1, 'run_started', 'old@box'), "
                            "('888888888888', 2, 'note', 'old@box')")
                  .ok());
  auto j = OpenJournal();
  j->AppendEvent(MakeEvent("888888888888", "note", "chained"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  auto rows = Rows(*RawDb());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].prev_hash, kGenesisHash);
  auto report = VerifyJournal(path_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << Problems(*report);
  EXPECT_EQ(report->legacy_events, 2);

  // An unhashed row after the chain began is not "legacy".
  ASSERT_TRUE(RawDb()->Exec("INSERT INTO events (run_id, ts, kind, actor) VALUES "
                            "('888888888888', 3, 'note', 'mallory@box')")
                  .ok());
  report = VerifyJournal(path_);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 4);
}

}  // namespace
}  // namespace runbook::journal
