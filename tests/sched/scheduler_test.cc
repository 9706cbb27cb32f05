// Scheduler driven by a simulated clock over a real journal: every slot is
// fired exactly once, also by a restarted or a second scheduler; downtime is
// caught up per catch_up; what the child reports is recorded; approved
// waiting runs are continued once; the loop wakes only at slots.
#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <set>

#include "journal/identity.h"
#include "journal/sha256.h"
#include "tests/sched/sched_test_util.h"

namespace runbook::sched {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using test::At;
using test::MakeTrigger;
using test::Us;

ChildBase Base() { return {"/usr/bin/runbook", "/j/journal.db", "/r", ""}; }

ChildExit Succeeded(const std::string& run_id) {
  ChildExit e;
  e.exit_code = 0;
  e.stdout_text = R"({"run_id":")" + run_id + R"(","status":"succeeded","exit_code":0,"error":""})" + "\n";
  return e;
}

class SchedulerTest : public test::SchedTest {
 protected:
  // Runs `s` from `from` to `to`: wakes at each slot (as the daemon's timer
  // would), finishes every launched child at once. Returns the wake times.
  std::vector<sys_seconds> Drive(Scheduler& s, sys_seconds from, sys_seconds to, std::vector<Launch>* all = nullptr) {
    std::vector<sys_seconds> wakes;
    sys_seconds now = from;
    int run = 0;
    while (now <= to) {
      wakes.push_back(now);
      for (auto& l : s.Tick(now)) {
        char id[16];
        snprintf(id, sizeof id, "%012d", ++run);
        s.Finished(l, Succeeded(id));
        if (all) all->push_back(l);
      }
      auto next = s.NextSlot(now);
      if (!next) break;
      EXPECT_GT(*next, now);
      now = *next;
    }
    return wakes;
  }
};

TEST_F(SchedulerTest, FiresEverySlotOfASimulatedDayExactlyOnceAndWakesOnlyAtSlots) {
  Scheduler s(Base(), *store_, *journal_);
  sys_seconds start = At("2026-05-04T00:00:00Z");
  s.SetTriggers({MakeTrigger("twice-daily", "0 8,18 * * *"), MakeTrigger("quarter", "*/15 * * * *"),
                 MakeTrigger("berlin", "30 9 * * *", "Europe/Berlin")},
                start);
  std::vector<Launch> launched;
  auto wakes = Drive(s, start, start + hours(24) - seconds(1), &launched);
  // 96 quarter hours (00:00 included: seen at 00:00), 08:00 and 18:00
  // coincide with quarter hours, 07:30Z is 09:30 in Berlin (also a quarter).
  EXPECT_EQ(wakes.size(), 96u);
  std::map<std::string, int> per_runbook;
  std::set<std::pair<std::string, int64_t>> slots;
  for (const auto& l : launched) {
    ++per_runbook[l.runbook];
    EXPECT_TRUE(slots.insert({l.runbook, l.slot_at_us}).second) << l.what;
  }
  EXPECT_EQ(per_runbook["quarter"], 96);
  EXPECT_EQ(per_runbook["twice-daily"], 2);
  EXPECT_EQ(per_runbook["berlin"], 1);
  auto rows = store_->Rows("berlin");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().slot_at_us, Us(At("2026-05-04T07:30:00Z")));
  EXPECT_EQ(rows->front().run_id.size(), 12u);
  EXPECT_EQ(rows->front().reason, "run succeeded (exit 0)");
  EXPECT_EQ(EventsOfKind("slot_fired").size(), 99u);
  EXPECT_TRUE(EventsOfKind("slot_missed").empty());
}

TEST_F(SchedulerTest, FiftyTriggersOverTwentyFourHoursWakeOnlyForTheirSlots) {
  // The "no busy loop" acceptance: the loop wakes exactly at the distinct
  // slot instants of the triggers, nowhere in between.
  std::vector<ScheduledTrigger> triggers;
  std::set<sys_seconds> expected;
  // At 00:05:30 no trigger has a slot in the last two minutes (which a
  // scheduler just started would fire).
  sys_seconds start = At("2026-05-04T00:05:30Z");
  sys_seconds end = start + hours(24);
  for (int i = 0; i < 50; ++i) {
    std::string expr = std::to_string((i * 7) % 60) + " " + std::to_string(i % 24) + "," +
                       std::to_string((i + 12) % 24) + " * * *";
    triggers.push_back(MakeTrigger("rb" + std::to_string(i), expr, i % 2 ? "America/New_York" : "UTC"));
    for (auto t : cron::NextFires(triggers.back().expr, triggers.back().tz, start, 10))
      if (t <= end) expected.insert(t);
  }
  Scheduler s(Base(), *store_, *journal_);
  s.SetTriggers(triggers, start);
  std::vector<Launch> launched;
  auto wakes = Drive(s, start, end, &launched);
  ASSERT_FALSE(wakes.empty());
  std::set<sys_seconds> woke(wakes.begin() + 1, wakes.end());  // the first is the start
  EXPECT_EQ(woke, expected);
  EXPECT_EQ(wakes.size() - 1, expected.size());
  EXPECT_EQ(launched.size(), 100u);  // two slots per trigger and day
}

TEST_F(SchedulerTest, ARestartedSchedulerNeitherRefiresNorLosesASlot) {
  sys_seconds t0 = At("2026-05-04T08:00:00Z");
  {
    Scheduler first(Base(), *store_, *journal_);
    first.SetTriggers({MakeTrigger("hourly", "0 * * * *")}, t0 - minutes(5));
    EXPECT_EQ(Drive(first, t0, t0).size(), 1u);
  }
  EXPECT_EQ(store_->Rows("hourly")->size(), 1u);
  // Restarted 30 s later, in the same hour: nothing to do.
  Scheduler second(Base(), *store_, *journal_);
  second.SetTriggers({MakeTrigger("hourly", "0 * * * *")}, t0 + seconds(30));
  EXPECT_TRUE(second.Tick(t0 + seconds(30)).empty());
  // Up again at 09:00:20 after going down at 08:30: 09:00 is on time.
  auto launches = second.Tick(At("2026-05-04T09:00:20Z"));
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].slot_at_us, Us(At("2026-05-04T09:00:00Z")));
}

TEST_F(SchedulerTest, AfterDowntimeCatchUpLastFiresOneSlotAndRecordsTheOthersMissed) {
  Scheduler s(Base(), *store_, *journal_);
  s.SetTriggers({MakeTrigger("hourly", "0 * * * *", "UTC", CatchUp::kLast),
                 MakeTrigger("hourly-none", "0 * * * *", "UTC", CatchUp::kNone)},
                At("2026-05-04T05:00:00Z"));
  Drive(s, At("2026-05-04T05:00:00Z"), At("2026-05-04T05:00:00Z"));
  // Down from 05:10 to 12:10.
  Scheduler restarted(Base(), *store_, *journal_);
  restarted.SetTriggers({MakeTrigger("hourly", "0 * * * *", "UTC", CatchUp::kLast),
                         MakeTrigger("hourly-none", "0 * * * *", "UTC", CatchUp::kNone)},
                        At("2026-05-04T12:10:00Z"));
  auto launches = restarted.Tick(At("2026-05-04T12:10:00Z"));
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].runbook, "hourly");
  EXPECT_EQ(launches[0].slot_at_us, Us(At("2026-05-04T12:00:00Z")));
  auto rows = *store_->Rows("hourly");
  ASSERT_EQ(rows.size(), 8u);  // 05:00 fired, 06..11 missed, 12:00 fired
  for (size_t i = 1; i <= 6; ++i) EXPECT_EQ(rows[i].outcome, SlotOutcome::kMissed) << i;
  EXPECT_EQ(rows[7].outcome, SlotOutcome::kFired);
  EXPECT_EQ(rows[7].reason, "catch-up of the most recent missed slot (catch_up: last)");
  auto none_rows = *store_->Rows("hourly-none");
  ASSERT_EQ(none_rows.size(), 8u);  // 05:00 fired, 06..12 missed
  EXPECT_EQ(none_rows.back().outcome, SlotOutcome::kMissed);
  auto missed = EventsOfKind("slot_missed");
  ASSERT_EQ(missed.size(), 2u);
  EXPECT_EQ(missed[0].actor, "scheduler");
  EXPECT_EQ(missed[0].message,
            "hourly: 6 slots missed (2026-05-04T06:00:00+00:00 to 2026-05-04T11:00:00+00:00), catch_up: last");
  EXPECT_EQ(missed[1].message,
            "hourly-none: 7 slots missed (2026-05-04T06:00:00+00:00 to 2026-05-04T12:00:00+00:00), catch_up: none");
  auto fired = EventsOfKind("slot_fired");
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[2].message, "scheduler fires hourly for slot 2026-05-04T12:00:00+00:00 (catch-up)");
  EXPECT_EQ(fired[2].run_id, "");
  auto data = boost::json::parse(fired[2].data_json).as_object();
  EXPECT_EQ(data["trigger"].as_string(), "0 * * * * tz=UTC");
  EXPECT_EQ(data["catch_up_fire"].as_bool(), true);
}

TEST_F(SchedulerTest, OfTwoSchedulersRacingOnlyOneFiresEachSlot) {
  auto other_store = SlotStore::Open(journal_path_);
  ASSERT_TRUE(other_store.ok());
  Scheduler a(Base(), *store_, *journal_);
  Scheduler b(Base(), **other_store, *journal_);
  sys_seconds start = At("2026-05-04T10:00:00Z");
  a.SetTriggers({MakeTrigger("minutely", "* * * * *")}, start);
  b.SetTriggers({MakeTrigger("minutely", "* * * * *")}, start);
  int fired = 0;
  for (int i = 0; i < 10; ++i) {
    sys_seconds now = start + minutes(i);
    // Alternate who gets there first.
    Scheduler& x = i % 2 ? a : b;
    Scheduler& y = i % 2 ? b : a;
    auto lx = x.Tick(now);
    auto ly = y.Tick(now);
    fired += static_cast<int>(lx.size() + ly.size());
    EXPECT_EQ(lx.size(), 1u) << i;
    EXPECT_TRUE(ly.empty()) << i;
  }
  EXPECT_EQ(fired, 10);
  EXPECT_EQ(store_->Rows("minutely")->size(), 10u);
}

TEST_F(SchedulerTest, AChildDeclinedByItsConcurrencyPolicyMarksTheSlotSkipped) {
  Scheduler s(Base(), *store_, *journal_);
  s.SetTriggers({MakeTrigger("backup", "0 2 * * *")}, At("2026-05-04T01:59:00Z"));
  auto launches = s.Tick(At("2026-05-04T02:00:00Z"));
  ASSERT_EQ(launches.size(), 1u);
  ChildExit e;
  e.exit_code = 0;
  e.stdout_text = R"js({"run_id":"","status":"skipped","error":"concurrency group 'backup' is busy (run 0123456789ab)"})js";
  s.Finished(launches[0], e);
  auto rows = *store_->Rows("backup");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, SlotOutcome::kSkipped);
  EXPECT_EQ(rows[0].reason, "concurrency group 'backup' is busy (run 0123456789ab)");
  auto skipped = EventsOfKind("slot_skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].message,
            "backup[0] slot 2026-05-04T02:00:00+00:00 skipped: concurrency group 'backup' is busy (run 0123456789ab)");
}

TEST_F(SchedulerTest, AChildThatPrintsNoSummaryIsFoundThroughItsPid) {
  Scheduler s(Base(), *store_, *journal_);
  s.SetTriggers({MakeTrigger("report", "0 6 * * *")}, At("2026-05-04T05:59:00Z"));
  auto launches = s.Tick(At("2026-05-04T06:00:00Z"));
  ASSERT_EQ(launches.size(), 1u);
  journal::RunRecord r;
  r.id = "feedfeedfeed";
  r.runbook = "report";
  r.source_text = "x";
  r.content_hash = journal::Sha256Hex("x");
  r.actor = "scheduler";
  r.trigger = journal::Trigger::kCron;
  r.process = journal::CurrentProcess();
  r.status = journal::RunStatus::kFailed;
  r.started_at_us = 2000;
  journal_->CreateRun(r);
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  ChildExit e;
  e.exit_code = 1;
  e.pid = static_cast<int>(r.process.pid);
  e.started_at_us = 1000;
  s.Finished(launches[0], e);
  auto rows = *store_->Rows("report");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, SlotOutcome::kFired);
  EXPECT_EQ(rows[0].run_id, "feedfeedfeed");
  EXPECT_EQ(rows[0].reason, "child ended without a run summary (exit 1)");
}

TEST_F(SchedulerTest, LaunchesRunTheBinaryWithTheTriggersParameters) {
  Scheduler s({"/proc/self/exe", "/j/journal.db", "/r1:/r2", "/etc/runbook/site.yaml"}, *store_, *journal_);
  s.SetTriggers({MakeTrigger("backup", "0 2 * * *", "UTC", CatchUp::kLast, {{"keep", "7"}, {"mode", "full run"}})},
                At("2026-05-04T01:59:00Z"));
  auto launches = s.Tick(At("2026-05-04T02:00:01Z"));
  ASSERT_EQ(launches.size(), 1u);
  std::vector<std::string> expected = {"/proc/self/exe", "--journal", "/j/journal.db", "--runbooks", "/r1:/r2",
                                       "--site", "/etc/runbook/site.yaml", "--json", "run", "backup",
                                       "--trigger", "cron", "-p", "keep=7", "-p", "mode=full run"};
  EXPECT_EQ(launches[0].argv, expected);
}

TEST_F(SchedulerTest, AnApprovedWaitingRunIsResumedOnce) {
  journal::RunRecord r;
  r.id = "0a0a0a0a0a0a";
  r.runbook = "deploy";
  r.source_text = "x";
  r.content_hash = journal::Sha256Hex("x");
  r.actor = "alice@box";
  r.process = journal::CurrentProcess();
  r.status = journal::RunStatus::kWaiting;
  journal_->CreateRun(r);
  journal::AttemptRecord a;
  a.run_id = r.id;
  a.step_id = "go";
  a.status = journal::AttemptStatus::kWaiting;
  a.started_at_us = 100;
  journal_->PutAttempt(a);
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  Scheduler s(Base(), *store_, *journal_);
  EXPECT_TRUE(s.FindResumes().empty());  // not decided yet
  journal::ApprovalRecord d;
  d.run_id = r.id;
  d.step_id = "go";
  d.approver = "bob";
  d.os_user = "bob@box";
  d.ts_us = 500;
  journal_->AddApproval(d);
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  auto launches = s.FindResumes();
  ASSERT_EQ(launches.size(), 1u);
  std::vector<std::string> expected = {"/usr/bin/runbook", "--journal", "/j/journal.db", "--runbooks", "/r",
                                       "--json", "resume", "0a0a0a0a0a0a"};
  EXPECT_EQ(launches[0].argv, expected);
  EXPECT_TRUE(s.FindResumes().empty());  // being resumed
  ChildExit e;
  e.exit_code = 2;
  s.Finished(launches[0], e);
  // Still 'waiting' (the resume failed), but these approvals were acted on:
  // not again, by this scheduler or another.
  EXPECT_TRUE(s.FindResumes().empty());
  Scheduler other(Base(), *store_, *journal_);
  EXPECT_TRUE(other.FindResumes().empty());
  auto events = EventsOfKind("resume_requested");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].run_id, "0a0a0a0a0a0a");
  auto rows = *store_->Rows("deploy");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].trigger_key, "resume 0a0a0a0a0a0a");
  EXPECT_EQ(rows[0].reason, "resume: child ended without a run summary (exit 2)");
}

TEST_F(SchedulerTest, NextSlotIsTheEarliestOfAllTriggers) {
  Scheduler s(Base(), *store_, *journal_);
  EXPECT_EQ(s.NextSlot(At("2026-05-04T00:00:00Z")), std::nullopt);
  s.SetTriggers({MakeTrigger("a", "0 8 * * *"), MakeTrigger("b", "0 6 * * *", "Europe/Berlin")},
                At("2026-05-04T00:00:00Z"));
  EXPECT_EQ(s.NextSlot(At("2026-05-04T00:00:00Z")), At("2026-05-04T04:00:00Z"));
  EXPECT_EQ(s.NextSlot(At("2026-05-04T04:00:00Z")), At("2026-05-04T08:00:00Z"));
}

}  // namespace
}  // namespace runbook::sched
