// DecideDue and LatestFire: which slots of a trigger are due, fired, caught
// up or missed, as pure functions of the journal's last decided slot and the
// (simulated) time.
#include "sched/planner.h"

#include <gtest/gtest.h>

#include "tests/sched/sched_test_util.h"

namespace runbook::sched {
namespace {

using test::At;

DueInput Input(const cron::CronExpr& expr, const std::string& zone, CatchUp c, std::optional<sys_seconds> last,
               sys_seconds now, std::optional<sys_seconds> since = std::nullopt) {
  DueInput in;
  in.expr = &expr;
  in.tz = cron::LocateZone(zone).value();
  in.catch_up = c;
  in.last_decided = last;
  in.watching_since = since.value_or(now);
  in.now = now;
  return in;
}

TEST(DecideDue, ANewTriggerFiresTheSlotThatJustPassed) {
  auto e = cron::ParseCron("* * * * *").value();
  DuePlan p = DecideDue(Input(e, "UTC", CatchUp::kNone, std::nullopt, At("2026-05-04T10:00:59Z")));
  ASSERT_TRUE(p.fire);
  EXPECT_EQ(*p.fire, At("2026-05-04T10:00:00Z"));
  EXPECT_FALSE(p.catch_up);
  EXPECT_EQ(p.missed_total, 0);
  EXPECT_TRUE(p.missed.empty());
}

TEST(DecideDue, ANewTriggerLeavesSlotsBeforeItWasSeenAlone) {
  auto e = cron::ParseCron("0 8 * * *").value();
  DuePlan p = DecideDue(Input(e, "UTC", CatchUp::kLast, std::nullopt, At("2026-05-04T10:30:00Z")));
  EXPECT_TRUE(p.empty());
}

TEST(DecideDue, ASlotSeenWhileWatchingIsStillDueWhenTheWakeUpIsLate) {
  // Watching since 07:00; the host was suspended over 08:00 and wakes at 09:00.
  auto e = cron::ParseCron("0 8 * * *").value();
  DuePlan late = DecideDue(
      Input(e, "UTC", CatchUp::kLast, std::nullopt, At("2026-05-04T09:00:00Z"), At("2026-05-04T07:00:00Z")));
  ASSERT_TRUE(late.fire);
  EXPECT_EQ(*late.fire, At("2026-05-04T08:00:00Z"));
  EXPECT_TRUE(late.catch_up);
  DuePlan none = DecideDue(
      Input(e, "UTC", CatchUp::kNone, std::nullopt, At("2026-05-04T09:00:00Z"), At("2026-05-04T07:00:00Z")));
  EXPECT_FALSE(none.fire);
  EXPECT_EQ(none.missed_total, 1);
  ASSERT_EQ(none.missed.size(), 1u);
  EXPECT_EQ(none.missed[0], At("2026-05-04T08:00:00Z"));
}

TEST(DecideDue, ADecidedSlotIsNeverDueAgain) {
  auto e = cron::ParseCron("* * * * *").value();
  DuePlan p = DecideDue(Input(e, "UTC", CatchUp::kLast, At("2026-05-04T10:00:00Z"), At("2026-05-04T10:00:59Z")));
  EXPECT_TRUE(p.empty());
}

TEST(DecideDue, AfterDowntimeCatchUpLastFiresOnlyTheMostRecentMissedSlot) {
  auto e = cron::ParseCron("0 * * * *").value();
  DuePlan p = DecideDue(Input(e, "UTC", CatchUp::kLast, At("2026-05-04T05:00:00Z"), At("2026-05-04T10:30:00Z")));
  ASSERT_TRUE(p.fire);
  EXPECT_EQ(*p.fire, At("2026-05-04T10:00:00Z"));
  EXPECT_TRUE(p.catch_up);
  EXPECT_EQ(p.missed_total, 4);
  std::vector<sys_seconds> expected = {At("2026-05-04T06:00:00Z"), At("2026-05-04T07:00:00Z"),
                                       At("2026-05-04T08:00:00Z"), At("2026-05-04T09:00:00Z")};
  EXPECT_EQ(p.missed, expected);
  EXPECT_EQ(*p.first_missed, At("2026-05-04T06:00:00Z"));
}

TEST(DecideDue, AfterDowntimeCatchUpNoneFiresNothingAndMissesEverySlot) {
  auto e = cron::ParseCron("0 * * * *").value();
  DuePlan p = DecideDue(Input(e, "UTC", CatchUp::kNone, At("2026-05-04T05:00:00Z"), At("2026-05-04T10:30:00Z")));
  EXPECT_FALSE(p.fire);
  EXPECT_EQ(p.missed_total, 5);
  ASSERT_EQ(p.missed.size(), 5u);
  EXPECT_EQ(p.missed.back(), At("2026-05-04T10:00:00Z"));
}

TEST(DecideDue, ASlotAFewSecondsLateIsOnTimeEvenWithCatchUpNone) {
  auto e = cron::ParseCron("0 8 * * *").value();
  DuePlan p = DecideDue(Input(e, "UTC", CatchUp::kNone, At("2026-05-03T08:00:00Z"), At("2026-05-04T08:01:30Z")));
  ASSERT_TRUE(p.fire);
  EXPECT_EQ(*p.fire, At("2026-05-04T08:00:00Z"));
  EXPECT_FALSE(p.catch_up);
  DuePlan late = DecideDue(Input(e, "UTC", CatchUp::kNone, At("2026-05-03T08:00:00Z"), At("2026-05-04T08:02:01Z")));
  EXPECT_FALSE(late.fire);
  EXPECT_EQ(late.missed_total, 1);
}

TEST(DecideDue, MissedRowsAreTheMostRecentHundredButTheCountIsComplete) {
  auto e = cron::ParseCron("* * * * *").value();
  sys_seconds now = At("2026-05-04T10:00:30Z");
  DuePlan p = DecideDue(Input(e, "UTC", CatchUp::kNone, now - std::chrono::minutes(1000) - std::chrono::seconds(30), now));
  ASSERT_TRUE(p.fire);  // 10:00:00, 30 s ago: on time
  EXPECT_EQ(*p.fire, At("2026-05-04T10:00:00Z"));
  EXPECT_EQ(p.missed_total, 999);
  ASSERT_EQ(p.missed.size(), kMaxMissedRows);
  EXPECT_EQ(p.missed.back(), At("2026-05-04T09:59:00Z"));
  EXPECT_EQ(p.missed.front(), At("2026-05-04T08:20:00Z"));
  EXPECT_FALSE(p.missed_capped);
}

TEST(DecideDue, AVeryLongGapIsCappedAndStillFiresTheLatestSlot) {
  auto e = cron::ParseCron("* * * * *").value();
  sys_seconds now = At("2026-05-04T10:00:30Z");
  DuePlan p = DecideDue(Input(e, "UTC", CatchUp::kLast, now - std::chrono::hours(24 * 100), now));
  ASSERT_TRUE(p.fire);
  EXPECT_EQ(*p.fire, At("2026-05-04T10:00:00Z"));
  EXPECT_FALSE(p.catch_up);
  EXPECT_TRUE(p.missed_capped);
  EXPECT_EQ(p.missed_total, kMaxEnumerated);
  EXPECT_TRUE(p.missed.empty());
}

TEST(DecideDue, ASpringForwardSlotOfAFixedTimeFiresAtTheChange) {
  // SPEC §8 (cronie): 02:30 does not exist in Berlin on 29 March 2026; the
  // slot is the change instant, 03:00+02:00 = 01:00Z.
  auto e = cron::ParseCron("30 2 * * *").value();
  DuePlan p = DecideDue(
      Input(e, "Europe/Berlin", CatchUp::kNone, At("2026-03-28T01:30:00Z"), At("2026-03-29T01:00:10Z")));
  ASSERT_TRUE(p.fire);
  EXPECT_EQ(*p.fire, At("2026-03-29T01:00:00Z"));
}

TEST(DecideDue, BothOccurrencesOfARepeatedHourAreSeparateSlotsForAStarHourExpression) {
  // 30 * * * * in Berlin on 25 October 2026: 02:30+02:00 (00:30Z) and
  // 02:30+01:00 (01:30Z) are two slots; after the first, the second is due.
  auto e = cron::ParseCron("30 * * * *").value();
  DuePlan p = DecideDue(
      Input(e, "Europe/Berlin", CatchUp::kNone, At("2026-10-25T00:30:00Z"), At("2026-10-25T01:30:05Z")));
  ASSERT_TRUE(p.fire);
  EXPECT_EQ(*p.fire, At("2026-10-25T01:30:00Z"));
  EXPECT_EQ(p.missed_total, 0);
}

TEST(LatestFire, FindsTheLatestFireAcrossAGapOfYears) {
  auto e = cron::ParseCron("0 0 29 2 *").value();
  auto utc = cron::LocateZone("UTC").value();
  EXPECT_EQ(LatestFire(e, utc, At("2001-01-01T00:00:00Z"), At("2026-05-04T00:00:00Z")), At("2024-02-29T00:00:00Z"));
  EXPECT_EQ(LatestFire(e, utc, At("2024-02-29T00:00:00Z"), At("2026-05-04T00:00:00Z")), std::nullopt);
  auto minutely = cron::ParseCron("* * * * *").value();
  EXPECT_EQ(LatestFire(minutely, utc, At("2001-01-01T00:00:00Z"), At("2026-05-04T10:00:59Z")),
            At("2026-05-04T10:00:00Z"));
}

}  // namespace
}  // namespace runbook::sched
