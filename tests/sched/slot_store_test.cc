// SlotStore against a real journal file: insert-first claims across two
// connections, the last decided slot per trigger, finishing a slot, the
// approved-waiting-run query, and migration 2 on a version-1 journal.
#include "sched/slot_store.h"

#include <gtest/gtest.h>

#include "journal/identity.h"
#include "journal/migrations.h"
#include "journal/sha256.h"
#include "tests/sched/sched_test_util.h"

namespace runbook::sched {
namespace {

using test::At;
using test::Us;
using std::chrono::sys_seconds;

class SlotStoreTest : public test::SchedTest {
 protected:
  SlotRow Row(const std::string& key, sys_seconds slot, SlotOutcome o = SlotOutcome::kFired) {
    return SlotRow{"nightly", key, Us(slot), 0, "host:1", o, "", "on time"};
  }

  journal::RunRecord Run(const std::string& id, journal::RunStatus status) {
    journal::RunRecord r;
    r.id = id;
    r.runbook = "needs-approval";
    r.source_text = "name: needs-approval\n";
    r.content_hash = journal::Sha256Hex(r.source_text);
    r.actor = "alice@box";
    r.process = journal::CurrentProcess();
    r.status = status;
    r.started_at_us = 1000;
    return r;
  }
  journal::AttemptRecord Waiting(const std::string& run, const std::string& step, int64_t started) {
    journal::AttemptRecord a;
    a.run_id = run;
    a.step_id = step;
    a.status = journal::AttemptStatus::kWaiting;
    a.started_at_us = started;
    return a;
  }
  journal::ApprovalRecord Decision(const std::string& run, const std::string& step, int64_t ts,
                                   journal::Decision d = journal::Decision::kApproved) {
    journal::ApprovalRecord a;
    a.run_id = run;
    a.step_id = step;
    a.decision = d;
    a.approver = "bob";
    a.os_user = "bob@box";
    a.ts_us = ts;
    return a;
  }
};

TEST_F(SlotStoreTest, TheFirstClaimOfASlotWinsAcrossConnections) {
  auto other = SlotStore::Open(journal_path_);
  ASSERT_TRUE(other.ok());
  auto first = store_->Claim(Row("* * * * * tz=UTC", At("2026-05-04T10:00:00Z")));
  auto second = (*other)->Claim(Row("* * * * * tz=UTC", At("2026-05-04T10:00:00Z")));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  auto again = store_->Claim(Row("* * * * * tz=UTC", At("2026-05-04T10:00:00Z"), SlotOutcome::kMissed));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto rows = store_->Rows("nightly");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().outcome, SlotOutcome::kFired);
}

TEST_F(SlotStoreTest, LastDecidedIsTheLatestSlotOfThatTriggerOnly) {
  auto none = store_->LastDecided("nightly", "0 * * * * tz=UTC");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  ASSERT_TRUE(*store_->Claim(Row("0 * * * * tz=UTC", At("2026-05-04T09:00:00Z"))));
  ASSERT_TRUE(*store_->Claim(Row("0 * * * * tz=UTC", At("2026-05-04T07:00:00Z"), SlotOutcome::kMissed)));
  ASSERT_TRUE(*store_->Claim(Row("30 * * * * tz=UTC", At("2026-05-04T09:30:00Z"))));
  auto last = store_->LastDecided("nightly", "0 * * * * tz=UTC");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, Us(At("2026-05-04T09:00:00Z")));
  EXPECT_FALSE(*store_->LastDecided("other", "0 * * * * tz=UTC"));
}

TEST_F(SlotStoreTest, FinishRecordsTheRunAndTheFinalOutcome) {
  ASSERT_TRUE(*store_->Claim(Row("k", At("2026-05-04T09:00:00Z"))));
  ASSERT_TRUE(store_->Finish("nightly", "k", Us(At("2026-05-04T09:00:00Z")), SlotOutcome::kSkipped, "abcdef012345",
                             "concurrency group 'db' is busy").ok());
  auto rows = store_->Rows("nightly", "k");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().outcome, SlotOutcome::kSkipped);
  EXPECT_EQ(rows->front().run_id, "abcdef012345");
  EXPECT_EQ(rows->front().reason, "concurrency group 'db' is busy");
  EXPECT_EQ(rows->front().decided_by, "host:1");
}

TEST_F(SlotStoreTest, FindResumableReturnsOnlyWaitingRunsWhoseWaitingStepsAreAllDecided) {
  // a: one approval, decided -> ready. b: two approvals, one decided -> not.
  // c: decided before the attempt started (an earlier wait) -> not.
  // d: rejected -> ready (resume fails the step). e: running -> not.
  for (const char* id : {"aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc", "dddddddddddd"})
    journal_->CreateRun(Run(id, journal::RunStatus::kWaiting));
  journal_->CreateRun(Run("eeeeeeeeeeee", journal::RunStatus::kRunning));
  journal_->PutAttempt(Waiting("aaaaaaaaaaaa", "approve", 100));
  journal_->AddApproval(Decision("aaaaaaaaaaaa", "approve", 200));
  journal_->PutAttempt(Waiting("bbbbbbbbbbbb", "approve-1", 100));
  journal_->PutAttempt(Waiting("bbbbbbbbbbbb", "approve-2", 100));
  journal_->AddApproval(Decision("bbbbbbbbbbbb", "approve-1", 200));
  journal_->PutAttempt(Waiting("cccccccccccc", "approve", 500));
  journal_->AddApproval(Decision("cccccccccccc", "approve", 200));
  journal_->PutAttempt(Waiting("dddddddddddd", "approve", 100));
  journal_->AddApproval(Decision("dddddddddddd", "approve", 300, journal::Decision::kRejected));
  journal_->PutAttempt(Waiting("eeeeeeeeeeee", "approve", 100));
  journal_->AddApproval(Decision("eeeeeeeeeeee", "approve", 300));
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  auto ready = store_->FindResumable();
  ASSERT_TRUE(ready.ok()) << ready.status().message();
  ASSERT_EQ(ready->size(), 2u);
  EXPECT_EQ((*ready)[0].run_id, "aaaaaaaaaaaa");
  EXPECT_EQ((*ready)[0].decided_at_us, 200);
  EXPECT_EQ((*ready)[0].runbook, "needs-approval");
  EXPECT_EQ((*ready)[1].run_id, "dddddddddddd");
}

TEST_F(SlotStoreTest, RunStartedByFindsTheRunOfAChildProcess) {
  journal::RunRecord r = Run("abcabcabcabc", journal::RunStatus::kSucceeded);
  r.started_at_us = 5000;
  journal_->CreateRun(r);
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  EXPECT_EQ(*store_->RunStartedBy(r.process.pid, 4000), "abcabcabcabc");
  EXPECT_EQ(*store_->RunStartedBy(r.process.pid, 6000), "");
  EXPECT_EQ(*store_->RunStartedBy(r.process.pid + 1, 0), "");
}

TEST_F(SlotStoreTest, OpeningAVersionOneJournalAddsTheSlotTableAndKeepsTheRuns) {
  std::string old_path = dir_ + "/v1.db";
  {
    auto db = journal::sqlite::Db::Open(old_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(journal::Migrations()[0].sql).ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 1").ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA application_id = " + std::to_string(journal::kApplicationId)).ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO runs (id, runbook, content_hash, source_text, trigger_kind, actor, host, pid, "
                            "process_start, status, started_at) VALUES ('0123456789ab', 'old', 'h', 't', 'cron', "
                            "'scheduler', 'gone-host', 1, 1, 'succeeded', 1)").ok());
  }
  EXPECT_FALSE(SlotStore::Open(old_path).ok());  // not migrated yet
  auto j = journal::Journal::Open(old_path);
  ASSERT_TRUE(j.ok()) << j.status().message();
  auto run = (*j)->GetRun("0123456789ab");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->runbook, "old");
  auto store = SlotStore::Open(old_path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_TRUE(*(*store)->Claim(SlotRow{"old", "k", 1, 0, "", SlotOutcome::kFired, "", ""}));
  auto raw = journal::sqlite::Db::Open(old_path, SQLITE_OPEN_READONLY);
  EXPECT_EQ(*(*raw)->QueryInt("PRAGMA user_version"), journal::kSchemaVersion);
  EXPECT_TRUE((*j)->Close().ok());
}

}  // namespace
}  // namespace runbook::sched
