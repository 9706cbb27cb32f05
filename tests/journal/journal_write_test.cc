// The write path: every record type round-trips field for field, output is
// byte-exact, Sync is a real durability barrier, Close commits everything,
// and a failed write is sticky and reported (never silent loss).
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "journal_test_util.h"

namespace runbook::journal {
namespace {

using JournalWriteTest = JournalTest;

TEST_F(JournalWriteTest, RunRoundTripsFieldForField) {
  auto j = OpenJournal();
  RunRecord parent = MakeRun("0123456789ab", 1'700'000'000'000'000);
  RunRecord r = MakeRun("a1b2c3d4e5f6", 1'700'000'000'123'456);
  r.trigger = Trigger::kChild;
  r.incident = "INC-42";
  r.parent_run = parent.id;
  r.process = {"db-1.example", 4242, 987654, "1b2c-boot"};
  r.status = RunStatus::kWaiting;
  j->CreateRun(parent);
  j->CreateRun(r);
  ASSERT_TRUE(j->SyncBlocking().ok());

  auto got = j->GetRun(r.id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->id, r.id);
  EXPECT_EQ(got->runbook, r.runbook);
  EXPECT_EQ(got->title, r.title);
  EXPECT_EQ(got->source_path, r.source_path);
  EXPECT_EQ(got->content_hash, Sha256Hex("name: daily-health-check\nsteps: []\n"));
  EXPECT_EQ(got->source_text, r.source_text);
  EXPECT_EQ(got->params_json, r.params_json);
  EXPECT_EQ(got->trigger, Trigger::kChild);
  EXPECT_EQ(got->actor, "alice@box");
  EXPECT_EQ(got->process.host, "db-1.example");
  EXPECT_EQ(got->process.pid, 4242);
  EXPECT_EQ(got->process.start_time, 987654);
  EXPECT_EQ(got->process.boot_id, "1b2c-boot");
  EXPECT_EQ(got->incident, "INC-42");
  EXPECT_EQ(got->parent_run, parent.id);
  EXPECT_EQ(got->status, RunStatus::kWaiting);
  EXPECT_EQ(got->started_at_us, 1'700'000'000'123'456);
  EXPECT_EQ(got->finished_at_us, std::nullopt);
  EXPECT_EQ(got->exit_code, std::nullopt);
  EXPECT_EQ(got->outputs_json, "{}");
  EXPECT_EQ(got->error, "");

  // "" is stored as NULL for the optional links.
  auto db = RawDb();
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM runs WHERE incident_id IS NULL "
                          "AND parent_run_id IS NULL AND id = '0123456789ab'"),
            1);
}

TEST_F(JournalWriteTest, FinishRunRecordsTheOutcome) {
  auto j = OpenJournal();
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  j->FinishRun("a1b2c3d4e5f6", RunStatus::kFailed, 5'000'000, 1, R"({"isolated":false})",
               "step 'block-attacker' failed");
  ASSERT_TRUE(j->SyncBlocking().ok());
  auto got = j->GetRun("a1b2c3d4e5f6");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, RunStatus::kFailed);
  EXPECT_EQ(got->finished_at_us, 5'000'000);
  EXPECT_EQ(got->exit_code, 1);
  EXPECT_EQ(got->outputs_json, R"({"isolated":false})");
  EXPECT_EQ(got->error, "step 'block-attacker' failed");
}

TEST_F(JournalWriteTest, ResumeRunMakesItRunningAgainUnderTheNewOwner) {
  auto j = OpenJournal();
  RunRecord r = MakeRun("a1b2c3d4e5f6");
  r.process = {"old-host", 1, 2, "old-boot"};
  j->CreateRun(r);
  j->SetRunStatus(r.id, RunStatus::kWaiting);
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(j->GetRun(r.id)->status, RunStatus::kWaiting);

  j->FinishRun(r.id, RunStatus::kInterrupted, 7, std::nullopt, "{}", "engine died");
  j->ResumeRun(r.id, {"new-host", 77, 88, "new-boot"});
  ASSERT_TRUE(j->SyncBlocking().ok());
  auto got = j->GetRun(r.id);
  EXPECT_EQ(got->status, RunStatus::kRunning);
  EXPECT_EQ(got->finished_at_us, std::nullopt);
  EXPECT_EQ(got->error, "");
  EXPECT_EQ(got->process.host, "new-host");
  EXPECT_EQ(got->process.pid, 77);
  EXPECT_EQ(got->process.start_time, 88);
  EXPECT_EQ(got->process.boot_id, "new-boot");
}

TEST_F(JournalWriteTest, PutAttemptInsertsThenUpdatesTheSameAttempt) {
  auto j = OpenJournal();
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  AttemptRecord a;
  a.run_id = "a1b2c3d4e5f6";
  a.step_id = "check-disk";
  a.block = Block::kFinally;
  a.status = AttemptStatus::kRunning;
  a.started_at_us = 100;
  j->PutAttempt(a);
  a.status = AttemptStatus::kTimedOut;
  a.finished_at_us = 200;
  a.exit_code = -15;
  a.outputs_json = R"({"stdout":"x"})";
  a.error = "timed out after 5m";
  a.stdout_digest = {1234, std::string(64, 'a')};
  a.stderr_digest = {0, Sha256Hex("")};
  j->PutAttempt(a);
  AttemptRecord second = a;
  second.attempt = 2;
  second.status = AttemptStatus::kPending;
  second.started_at_us.reset();
  second.finished_at_us.reset();
  second.exit_code.reset();
  j->PutAttempt(second);
  ASSERT_TRUE(j->SyncBlocking().ok());

  auto got = j->GetAttempts("a1b2c3d4e5f6");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  const AttemptRecord& first = (*got)[0];
  EXPECT_EQ(first.step_id, "check-disk");
  EXPECT_EQ(first.block, Block::kFinally);
  EXPECT_EQ(first.attempt, 1);
  EXPECT_EQ(first.status, AttemptStatus::kTimedOut);
  EXPECT_EQ(first.started_at_us, 100);
  EXPECT_EQ(first.finished_at_us, 200);
  EXPECT_EQ(first.exit_code, -15);
  EXPECT_EQ(first.outputs_json, R"({"stdout":"x"})");
  EXPECT_EQ(first.error, "timed out after 5m");
  EXPECT_EQ(first.stdout_digest.bytes, 1234);
  EXPECT_EQ(first.stdout_digest.sha256, std::string(64, 'a'));
  EXPECT_EQ(first.stderr_digest.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ((*got)[1].attempt, 2);
  EXPECT_EQ((*got)[1].status, AttemptStatus::kPending);
  EXPECT_EQ((*got)[1].started_at_us, std::nullopt);
  EXPECT_EQ((*got)[1].exit_code, std::nullopt);
}

TEST_F(JournalWriteTest, EventsGetIncreasingSeqAndKeepEveryField) {
  auto j = OpenJournal();
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  EventRecord started = MakeEvent("a1b2c3d4e5f6", "run_started", "started by alice");
  started.ts_us = 42;
  EventRecord step = MakeEvent("a1b2c3d4e5f6", "step_finished", "exit 0");
  step.step_id = "check-disk";
  step.attempt = 3;
  step.data_json = R"({"exit_code":0})";
  j->AppendEvent(started);
  j->AppendEvent(step);
  j->AppendEvent(MakeEvent("", "scheduler_started"));  // journal-level: no run
  ASSERT_TRUE(j->SyncBlocking().ok());

  auto got = j->GetEvents("a1b2c3d4e5f6");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_GT((*got)[0].seq, 0);
  EXPECT_GT((*got)[1].seq, (*got)[0].seq);
  EXPECT_EQ((*got)[0].ts_us, 42);
  EXPECT_EQ((*got)[0].kind, "run_started");
  EXPECT_EQ((*got)[0].actor, "alice@box");
  EXPECT_EQ((*got)[0].message, "started by alice");
  EXPECT_EQ((*got)[0].step_id, "");
  EXPECT_EQ((*got)[0].attempt, std::nullopt);
  // The hash chain (journal_chain_test.cc has the details).
  ASSERT_TRUE((*got)[0].prev_hash.has_value());
  ASSERT_TRUE((*got)[0].hash.has_value());
  EXPECT_EQ((*got)[1].prev_hash, (*got)[0].hash);
  EXPECT_EQ((*got)[1].step_id, "check-disk");
  EXPECT_EQ((*got)[1].attempt, 3);
  EXPECT_EQ((*got)[1].data_json, R"({"exit_code":0})");
  EXPECT_EQ(j->GetEvents("a1b2c3d4e5f6", (*got)[0].seq)->size(), 1u);

  auto db = RawDb();
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM events WHERE run_id IS NULL "
                          "AND kind = 'scheduler_started'"),
            1);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM events WHERE step_id IS NULL "
                          "AND attempt IS NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL"),
            2);
}

TEST_F(JournalWriteTest, ZeroTimestampsAreStampedWhenEnqueued) {
  auto j = OpenJournal();
  int64_t before = NowMicros();
  j->CreateRun(MakeRun("a1b2c3d4e5f6", 0));
  j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "note"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  int64_t after = NowMicros();
  int64_t started = j->GetRun("a1b2c3d4e5f6")->started_at_us;
  int64_t ts = j->GetEvents("a1b2c3d4e5f6")->front().ts_us;
  EXPECT_GE(started, before);
  EXPECT_LE(started, after);
  EXPECT_GE(ts, started);
  EXPECT_LE(ts, after);
}

TEST_F(JournalWriteTest, OutputChunksAreByteExactIncludingNulAndInvalidUtf8) {
  auto j = OpenJournal();
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  const std::string weird("a\0b\xff\xfe\xc3(\x80\n\0", 10);
  std::vector<OutputChunk> sent;
  auto chunk = [&](std::string step, Stream stream, int64_t seq, std::string data) {
    OutputChunk c;
    c.run_id = "a1b2c3d4e5f6";
    c.step_id = std::move(step);
    c.stream = stream;
    c.seq = seq;
    c.ts_us = 1000 + seq;
    c.offset = seq * 10;
    c.data = std::move(data);
    sent.push_back(c);
    j->AppendOutput(std::move(c));
  };
  chunk("one", Stream::kStdout, 0, weird);
  chunk("two", Stream::kStderr, 0, std::string(1, '\0'));
  chunk("one", Stream::kStdout, 1, "");
  chunk("one", Stream::kStderr, 0, std::string(70000, '\xff'));
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(j->pending_bytes(), 0u);

  auto all = j->GetOutput("a1b2c3d4e5f6", std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ((*all)[i].data, sent[i].data) << i;
    EXPECT_EQ((*all)[i].step_id, sent[i].step_id);
    EXPECT_EQ((*all)[i].stream, sent[i].stream);
    EXPECT_EQ((*all)[i].seq, sent[i].seq);
    EXPECT_EQ((*all)[i].ts_us, sent[i].ts_us);
    EXPECT_EQ((*all)[i].offset, sent[i].offset);
    EXPECT_EQ((*all)[i].attempt, 1);
    if (i > 0) {
      EXPECT_GT((*all)[i].rowid, (*all)[i - 1].rowid);
    }
  }
  EXPECT_EQ((*all)[0].data.size(), 10u);

  auto one = j->GetOutput("a1b2c3d4e5f6", "one");
  ASSERT_EQ(one->size(), 3u);
  auto after = j->GetOutput("a1b2c3d4e5f6", std::nullopt, (*all)[0].rowid, 2);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].rowid, (*all)[1].rowid);
  EXPECT_EQ((*after)[1].rowid, (*all)[2].rowid);
  EXPECT_TRUE(j->GetOutput("a1b2c3d4e5f6", std::nullopt, (*all)[3].rowid)->empty());

  // Stored as BLOBs, so SQLite itself sees the exact bytes.
  EXPECT_EQ(*RawDb()->QueryInt("SELECT count(*) FROM output_chunks WHERE typeof(data) = 'blob'"),
            4);
}

TEST_F(JournalWriteTest, FindingsAndApprovalsRoundTrip) {
  auto j = OpenJournal();
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  FindingRecord f;
  f.run_id = "a1b2c3d4e5f6";
  f.step_id = "disk";
  f.level = FindingLevel::kCritical;
  f.message = "disk above 90%";
  f.value = "93.5";
  f.threshold = "> 90";
  f.ts_us = 11;
  j->AddFinding(f);
  ApprovalRecord a;
  a.run_id = "a1b2c3d4e5f6";
  a.step_id = "block-attacker";
  a.decision = Decision::kRejected;
  a.approver = "bob";
  a.os_user = "root@bastion";
  a.inputs_json = R"({"ticket":"SEC-1"})";
  a.comment = "wrong IP";
  a.ts_us = 12;
  j->AddApproval(a);
  ASSERT_TRUE(j->SyncBlocking().ok());

  auto findings = j->GetFindings("a1b2c3d4e5f6");
  ASSERT_EQ(findings->size(), 1u);
  const FindingRecord& gf = findings->front();
  EXPECT_GT(gf.id, 0);
  EXPECT_EQ(gf.step_id, "disk");
  EXPECT_EQ(gf.level, FindingLevel::kCritical);
  EXPECT_EQ(gf.message, "disk above 90%");
  EXPECT_EQ(gf.value, "93.5");
  EXPECT_EQ(gf.threshold, "> 90");
  EXPECT_EQ(gf.ts_us, 11);
  auto approvals = j->GetApprovals("a1b2c3d4e5f6");
  ASSERT_EQ(approvals->size(), 1u);
  const ApprovalRecord& ga = approvals->front();
  EXPECT_EQ(ga.step_id, "block-attacker");
  EXPECT_EQ(ga.decision, Decision::kRejected);
  EXPECT_EQ(ga.approver, "bob");
  EXPECT_EQ(ga.os_user, "root@bastion");
  EXPECT_EQ(ga.inputs_json, R"({"ticket":"SEC-1"})");
  EXPECT_EQ(ga.comment, "wrong IP");
  EXPECT_EQ(ga.ts_us, 12);
}

TEST_F(JournalWriteTest, SyncFiresOnlyAfterEarlierWritesAreVisibleToAReader) {
  OpenOptions options;
  options.max_transaction_records = 100;  // many transactions, barriers in between
  auto j = OpenJournal(options);
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  std::mutex mu;
  std::vector<std::pair<int, size_t>> seen;  // (barrier, events visible when it fired)
  for (int b = 1; b <= 10; ++b) {
    for (int i = 0; i < 250; ++i) j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "note"));
    j->Sync([&, b](Status s) {
      EXPECT_TRUE(s.ok()) << s.message();
      auto events = j->GetEvents("a1b2c3d4e5f6");  // the read connection, from the writer thread
      std::lock_guard<std::mutex> lock(mu);
      seen.emplace_back(b, events.ok() ? events->size() : 0);
    });
  }
  ASSERT_TRUE(j->SyncBlocking().ok());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 10u);
  for (int b = 1; b <= 10; ++b) {
    EXPECT_EQ(seen[b - 1].first, b);                       // barriers fire in order
    EXPECT_GE(seen[b - 1].second, size_t(250 * b)) << b;   // after their writes
  }
}

TEST_F(JournalWriteTest, SyncHereCommitsOnTheCallingThreadAndAnswersQueuedBarriers) {
  auto j = OpenJournal();
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id answered_on;
  Status answer = Status::Internal("not answered");
  {
    Journal::Hold hold(*j);  // the writer stays asleep: SyncHere cannot find it busy
    j->CreateRun(MakeRun("a1b2c3d4e5f6"));
    j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "run_started"));
    j->Sync([&](Status s) {
      answered_on = std::this_thread::get_id();
      answer = std::move(s);
    });
    j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "after_barrier"));
    std::optional<Status> s = j->SyncHere();
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->ok()) << s->message();
  }
  EXPECT_TRUE(answer.ok()) << answer.message();
  EXPECT_EQ(answered_on, caller);
  auto events = j->GetEvents("a1b2c3d4e5f6");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].kind, "after_barrier");
  EXPECT_TRUE(j->Close().ok());
  EXPECT_EQ(j->SyncHere()->code(), Status::Code::kFailedPrecondition);
}

TEST_F(JournalWriteTest, TheEndOfAHoldWakesTheWriterForWhatIsLeft) {
  auto j = OpenJournal();
  {
    Journal::Hold hold(*j);
    j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  }
  // No barrier: the writer thread commits it on its own.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!j->GetRun("a1b2c3d4e5f6").ok() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(j->GetRun("a1b2c3d4e5f6").ok());
}

TEST_F(JournalWriteTest, SyncHereGivesWayToTheWriterInTheMiddleOfATransaction) {
  const std::thread::id test_thread = std::this_thread::get_id();
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> blocked_once{false};
  OpenOptions options;
  options.before_commit_for_testing = [&](sqlite::Db&) {
    if (std::this_thread::get_id() != test_thread && !blocked_once.exchange(true)) {
      entered.set_value();
      released.wait();
    }
    return Status::Ok();
  };
  auto j = OpenJournal(options);
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));  // wakes the writer, which stops before COMMIT
  entered.get_future().wait();
  j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "queued"));
  EXPECT_FALSE(j->SyncHere().has_value());
  release.set_value();
  EXPECT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(j->GetEvents("a1b2c3d4e5f6")->size(), 1u);
}

TEST_F(JournalWriteTest, CloseCommitsEverythingStillQueued) {
  {
    auto j = OpenJournal();
    j->CreateRun(MakeRun("a1b2c3d4e5f6"));
    for (int i = 0; i < 5000; ++i) j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "note"));
    EXPECT_TRUE(j->Close().ok());
    j->Sync([](Status s) { EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition); });
  }
  EXPECT_EQ(*RawDb()->QueryInt("SELECT count(*) FROM events"), 5000);
}

TEST_F(JournalWriteTest, InjectedCommitFailureIsStickyAndEverySyncReportsIt) {
  std::atomic<bool> fail{false};
  OpenOptions options;
  options.before_commit_for_testing = [&](sqlite::Db&) {
    return fail ? Status::IoError("injected fault") : Status::Ok();
  };
  auto j = OpenJournal(options);
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "run_started"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_TRUE(j->writer_status().ok());

  fail = true;
  j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "lost"));
  Status s = j->SyncBlocking();
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_EQ(s.message(), "journal write failed: injected fault");
  EXPECT_EQ(j->writer_status().message(), s.message());

  fail = false;  // the fault is gone, but the journal stays refused
  j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "refused"));
  EXPECT_EQ(j->SyncBlocking().message(), "journal write failed: injected fault");
  EXPECT_EQ(j->Close().message(), "journal write failed: injected fault");
  auto db = RawDb();
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM events WHERE kind = 'run_started'"), 1);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM events WHERE kind <> 'run_started'"), 0);
}

TEST_F(JournalWriteTest, DiskFullIsStickyAndCarriesSqlitesMessage) {
  std::atomic<bool> cap{false};
  OpenOptions options;
  options.before_commit_for_testing = [&](sqlite::Db& db) {
    // The database may not grow past its current size from now on.
    if (cap) return db.Exec("PRAGMA max_page_count = 1");
    return Status::Ok();
  };
  auto j = OpenJournal(options);
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  cap = true;
  j->AppendEvent(MakeEvent("a1b2c3d4e5f6", "cap"));
  ASSERT_TRUE(j->SyncBlocking().ok());

  OutputChunk big;
  big.run_id = "a1b2c3d4e5f6";
  big.step_id = "s";
  big.data = std::string(1 << 20, 'x');
  j->AppendOutput(big);
  Status s = j->SyncBlocking();
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_EQ(s.message(), "journal write failed: " + path_ + ": database or disk is full");
  EXPECT_EQ(j->writer_status().message(), s.message());
  EXPECT_EQ(j->pending_bytes(), 0u);
  j.reset();
  EXPECT_EQ(*RawDb()->QueryInt("SELECT count(*) FROM output_chunks"), 0);
}

TEST_F(JournalWriteTest, WaitsForAnotherWritersLockAndThenCommits) {
  OpenOptions options;
  options.busy_timeout_ms = 1000;  // with the retries: several seconds of patience
  auto j = OpenJournal(options);
  auto other = RawDb();
  ASSERT_TRUE(other->Exec("BEGIN IMMEDIATE").ok());  // another process's write transaction
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_TRUE(other->Exec("COMMIT").ok());
  });
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  Status s = j->SyncBlocking();
  release.join();
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(j->GetRun("a1b2c3d4e5f6").ok());
}

TEST_F(JournalWriteTest, ALockHeldForeverBecomesAStickyBusyError) {
  OpenOptions options;
  options.busy_timeout_ms = 20;
  auto j = OpenJournal(options);
  auto other = RawDb();
  ASSERT_TRUE(other->Exec("BEGIN IMMEDIATE").ok());
  j->CreateRun(MakeRun("a1b2c3d4e5f6"));
  Status s = j->SyncBlocking();
  EXPECT_EQ(s.code(), Status::Code::kBusy);
  EXPECT_EQ(s.message(), "journal write failed: " + path_ + ": database is locked");
  ASSERT_TRUE(other->Exec("ROLLBACK").ok());
}

TEST_F(JournalWriteTest, UpdatingAnUnknownRunIsAFailureNotASilentNoOp) {
  auto j = OpenJournal();
  j->FinishRun("nosuchrun000", RunStatus::kSucceeded, 1, 0, "{}", "");
  Status s = j->SyncBlocking();
  EXPECT_EQ(s.message(), "journal write failed: " + path_ + ": no run 'nosuchrun000' to update");
}

TEST_F(JournalWriteTest, AnEventForAnUnknownRunViolatesTheForeignKey) {
  auto j = OpenJournal();
  j->AppendEvent(MakeEvent("nosuchrun000", "note"));
  Status s = j->SyncBlocking();
  EXPECT_EQ(s.message(), "journal write failed: " + path_ + ": FOREIGN KEY constraint failed");
}

}  // namespace
}  // namespace runbook::journal
