// Many writers on one file (SPEC §6): two Journals in one process and
// several forked processes writing at the same time lose nothing; large
// output volumes are stored exactly and the output queue stays bounded.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <random>
#include <thread>

#include "journal/sha256.h"
#include "journal/verify.h"
#include "journal_test_util.h"

namespace runbook::journal {
namespace {

using JournalConcurrencyTest = JournalTest;

constexpr int kEventsPerWriter = 3000;
constexpr int kChunksPerWriter = 50;

// One writer's workload: its own run, events with a Sync now and then (as the
// engine does at state transitions), and some output.
Status WriteWorkload(Journal& j, const std::string& run_id) {
  j.CreateRun(JournalTest::MakeRun(run_id));
  for (int i = 0; i < kEventsPerWriter; ++i) {
    EventRecord e = JournalTest::MakeEvent(run_id, "note", std::to_string(i));
    j.AppendEvent(std::move(e));
    if (i % kChunksPerWriter == 0) {
      OutputChunk c;
      c.run_id = run_id;
      c.step_id = "s";
      c.seq = i / kChunksPerWriter;
      c.data = std::string(4096, static_cast<char>('a' + c.seq % 26));
      j.AppendOutput(std::move(c));
    }
    if (i % 100 == 99) {
      if (Status s = j.SyncBlocking(); !s.ok()) return s;
    }
  }
  j.FinishRun(run_id, RunStatus::kSucceeded, 0, 0, "{}", "");
  return j.SyncBlocking();
}

void ExpectComplete(Journal& j, const std::string& run_id) {
  auto run = j.GetRun(run_id);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, RunStatus::kSucceeded) << run_id;
  auto events = j.GetEvents(run_id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), size_t(kEventsPerWriter)) << run_id;
  for (int i = 0; i < kEventsPerWriter; ++i)  // in order, none missing
    ASSERT_EQ((*events)[i].message, std::to_string(i)) << run_id;
  EXPECT_EQ(j.GetOutput(run_id, std::nullopt)->size(), size_t(kEventsPerWriter / kChunksPerWriter));
}

TEST_F(JournalConcurrencyTest, TwoJournalsOnOneFileWritingAtOnceLoseNothing) {
  auto first = OpenJournal();
  auto second = OpenJournal();
  ASSERT_TRUE(first && second);
  Status s1, s2;
  std::thread t1([&] { s1 = WriteWorkload(*first, "111111111111"); });
  std::thread t2([&] { s2 = WriteWorkload(*second, "222222222222"); });
  t1.join();
  t2.join();
  EXPECT_TRUE(s1.ok()) << s1.message();
  EXPECT_TRUE(s2.ok()) << s2.message();
  ExpectComplete(*first, "111111111111");
  ExpectComplete(*first, "222222222222");
  EXPECT_EQ(second->GetEvents("111111111111")->size(), size_t(kEventsPerWriter));
}

TEST_F(JournalConcurrencyTest, ThreadsCommittingThemselvesAndThroughTheWriterKeepOrderAndChain) {
  // Four threads on one Journal: each SyncBlocking commits on its own thread
  // when the writer is idle (SyncHere) and waits for the writer otherwise, so
  // both paths interleave with each other's queued records.
  auto j = OpenJournal();
  ASSERT_TRUE(j);
  const std::vector<std::string> runs = {"111111111111", "222222222222", "333333333333", "444444444444"};
  std::vector<Status> results(runs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < runs.size(); ++i)
    threads.emplace_back([&, i] { results[i] = WriteWorkload(*j, runs[i]); });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_TRUE(results[i].ok()) << results[i].message();
    ExpectComplete(*j, runs[i]);
  }
  ASSERT_TRUE(j->Close().ok());
  // The hash chain is one unbroken line through all four runs' events. (Only
  // the chain: the workload's made-up output chunks carry no offsets that
  // verify could check.)
  auto report = VerifyJournal(path_);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->first_bad_seq, 0) << (report->problems.empty() ? "" : report->problems[0].message);
  EXPECT_EQ(report->events_checked, int64_t(runs.size() * kEventsPerWriter));
  EXPECT_EQ(report->last_seq, int64_t(runs.size() * kEventsPerWriter));
}

TEST_F(JournalConcurrencyTest, SeveralProcessesCreatingAndWritingAtOnceLoseNothing) {
  path_ = dir_ + "/new/journal.db";  // all of them race to create it, too
  constexpr int kChildren = 3;
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  std::vector<pid_t> children;
  for (int c = 0; c < kChildren; ++c) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: no gtest assertions here; the exit code is the verdict.
      close(gate[1]);
      char byte;
      if (read(gate[0], &byte, 1) < 0) _exit(2);
      auto j = Journal::Open(path_);
      if (!j.ok()) _exit(3);
      Status s = WriteWorkload(**j, std::string(12, static_cast<char>('a' + c)));
      Status closed = (*j)->Close();
      _exit(s.ok() && closed.ok() ? 0 : 1);
    }
    children.push_back(pid);
  }
  close(gate[0]);
  close(gate[1]);  // EOF: every child starts now
  auto parent = OpenJournal();
  ASSERT_TRUE(parent);
  Status s = WriteWorkload(*parent, "ffffffffffff");
  EXPECT_TRUE(s.ok()) << s.message();
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  for (int c = 0; c < kChildren; ++c)
    ExpectComplete(*parent, std::string(12, static_cast<char>('a' + c)));
  ExpectComplete(*parent, "ffffffffffff");
}

TEST_F(JournalConcurrencyTest, TheOutputBackstopWakesTheWriterEvenUnderAHold) {
  // A thread that holds the writer back (Journal::Hold) and then passes the
  // pending-output limit waits for the writer to drain: it must wake it,
  // or it waits forever.
  OpenOptions options;
  options.max_pending_output_bytes = 64 << 10;
  options.spill_threshold_bytes = -1;
  auto j = OpenJournal(options);
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  auto appended = std::async(std::launch::async, [&j] {
    Journal::Hold hold(*j);
    for (int i = 0; i < 4; ++i) {
      OutputChunk c;
      c.run_id = "a1b2c3d4e5f6";
      c.step_id = "dump";
      c.seq = i;
      c.offset = int64_t{i} * (48 << 10);
      c.data.assign(48 << 10, static_cast<char>('a' + i));
      j->AppendOutput(std::move(c));
    }
  });
  const bool done = appended.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  EXPECT_TRUE(done) << "AppendOutput under a Hold waited for a writer nobody woke";
  if (!done) (void)j->Close();  // wakes the writer, which lets the thread go
  appended.wait();
  ASSERT_TRUE(j->SyncBlocking().ok() || !done);
  if (done) {
    auto page = j->GetOutput("a1b2c3d4e5f6", "dump", 0, 10);
    ASSERT_TRUE(page.ok()) << page.status().message();
    EXPECT_EQ(page->size(), 4u);
  }
}

TEST_F(JournalConcurrencyTest, ManyMegabytesOfOutputAreStoredExactlyWithABoundedQueue) {
  OpenOptions options;
  options.max_pending_output_bytes = 1 << 20;  // the engine would throttle much earlier
  options.spill_threshold_bytes = -1;          // all of it through SQLite (journal_spill_test: files)
  auto j = OpenJournal(options);
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  std::mt19937_64 rng(7);
  Sha256 sent;
  int64_t offset = 0;
  size_t max_pending = 0;
  constexpr int kChunks = 320;  // 20 MiB in 64 KiB chunks
  for (int i = 0; i < kChunks; ++i) {
    OutputChunk c;
    c.run_id = "a1b2c3d4e5f6";
    c.step_id = "dump";
    c.seq = i;
    c.offset = offset;
    c.data.resize(64 << 10);
    for (char& ch : c.data) ch = static_cast<char>(rng());
    sent.Update(c.data);
    offset += c.data.size();
    j->AppendOutput(std::move(c));
    max_pending = std::max(max_pending, j->pending_bytes());
  }
  EXPECT_LE(max_pending, options.max_pending_output_bytes);
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(j->pending_bytes(), 0u);

  Sha256 stored;
  int64_t after = 0, bytes = 0;
  int chunks = 0;
  for (;;) {  // paged the way `logs --follow` reads
    auto page = j->GetOutput("a1b2c3d4e5f6", "dump", after, 50);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const OutputChunk& c : *page) {
      EXPECT_EQ(c.offset, bytes);
      stored.Update(c.data);
      bytes += c.data.size();
      after = c.rowid;
      ++chunks;
    }
  }
  EXPECT_EQ(chunks, kChunks);
  EXPECT_EQ(bytes, offset);
  EXPECT_EQ(stored.HexDigest(), sent.HexDigest());
}

TEST_F(JournalConcurrencyTest, AStepShapedWorkloadOfManyThousandEventsCommits) {
  auto j = OpenJournal();
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  constexpr int kSteps = 4000;
  for (int s = 0; s < kSteps; ++s) {
    std::string step = "step-" + std::to_string(s);
    AttemptRecord a;
    a.run_id = "a1b2c3d4e5f6";
    a.step_id = step;
    a.status = AttemptStatus::kRunning;
    a.started_at_us = NowMicros();
    j->PutAttempt(a);
    EventRecord e = MakeEvent("a1b2c3d4e5f6", "step_started");
    e.step_id = step;
    j->AppendEvent(e);
    e.kind = "step_finished";
    j->AppendEvent(e);
    a.status = AttemptStatus::kSucceeded;
    a.finished_at_us = NowMicros();
    j->PutAttempt(a);
    OutputChunk c;
    c.run_id = "a1b2c3d4e5f6";
    c.step_id = step;
    c.data = "ok\n";
    j->AppendOutput(std::move(c));
  }
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(j->GetAttempts("a1b2c3d4e5f6")->size(), size_t(kSteps));
  EXPECT_EQ(j->GetEvents("a1b2c3d4e5f6")->size(), size_t(2 * kSteps));
  EXPECT_EQ(j->GetOutput("a1b2c3d4e5f6", std::nullopt)->size(), size_t(kSteps));
}

}  // namespace
}  // namespace runbook::journal
