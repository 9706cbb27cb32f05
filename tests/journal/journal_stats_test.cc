// ComputeStats on a journal of known content: exact counts, nearest-rank
// percentiles, findings, approvals, incidents and their mean time to recovery.
#include "evidence_test_util.h"
#include "journal/stats.h"

namespace runbook::journal {
namespace {

constexpr int64_t kSec = 1'000'000;

class JournalStatsTest : public JournalTest {
 protected:
  // alpha: 6 runs (durations 10, 20, 30, 40, 100 s and one still running);
  // beta: 20 runs of 1..20 s. Incidents INC-1 (two alpha runs), INC-2 (two
  // beta runs), INC-3 (the running alpha run); one beta run carries an
  // alpha run's id as incident (the default kind, not counted).
  void SetUp() override {
    JournalTest::SetUp();
    auto j = OpenJournal();
    struct Alpha {
      const char* id;
      int64_t start_s, dur_s;
      RunStatus status;
      Trigger trigger;
      const char* incident;
    } alpha[] = {
        {"a00000000001", 1000, 10, RunStatus::kSucceeded, Trigger::kManual, "INC-1"},
        {"a00000000002", 2000, 20, RunStatus::kSucceeded, Trigger::kCron, "INC-1"},
        {"a00000000003", 3000, 30, RunStatus::kFailed, Trigger::kCron, ""},
        {"a00000000004", 3100, 40, RunStatus::kSucceeded, Trigger::kCron, ""},
        {"a00000000005", 3200, 100, RunStatus::kCancelled, Trigger::kManual, ""},
    };
    for (const Alpha& a : alpha)
      WriteSampleRun(*j, a.id,
                     SampleRunOptions::At(a.start_s * kSec, a.dur_s * kSec)
                         .Of("alpha").Status(a.status).Via(a.trigger).Incident(a.incident));
    WriteSampleRun(*j, "a00000000006", SampleRunOptions::At(3300 * kSec).Of("alpha").Incident("INC-3").Unfinished());
    for (int i = 1; i <= 20; ++i) {
      char id[13];
      snprintf(id, sizeof id, "b%011d", i);
      std::string incident = i == 1 || i == 2 ? "INC-2" : i == 3 ? "a00000000001" : "";
      WriteSampleRun(*j, id,
                     SampleRunOptions::At((4000 + 100 * i) * kSec, i * kSec)
                         .Of("beta").Via(Trigger::kChild).Incident(incident));
    }
    FindingRecord critical;
    critical.run_id = "a00000000003";
    critical.step_id = "step-1";
    critical.level = FindingLevel::kCritical;
    critical.message = "service down";
    j->AddFinding(critical);
    for (Decision d : {Decision::kApproved, Decision::kApproved, Decision::kRejected}) {
      ApprovalRecord a;
      a.run_id = "a00000000002";
      a.step_id = "step-0";
      a.decision = d;
      a.approver = "bob";
      a.os_user = "bob@box";
      j->AddApproval(a);
    }
    ASSERT_TRUE(j->SyncBlocking().ok());
  }

  StatsReport Stats(const StatsOptions& o = {}) {
    auto r = ComputeStats(path_, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : StatsReport{};
  }
};

TEST_F(JournalStatsTest, PerRunbookCountsDurationsFindingsAndApprovals) {
  StatsReport s = Stats();
  ASSERT_EQ(s.runbooks.size(), 2u);
  const RunbookStats& a = s.runbooks[0];
  EXPECT_EQ(a.runbook, "alpha");
  EXPECT_EQ(a.runs, 6);
  EXPECT_EQ(a.by_status, (std::map<std::string, int64_t>{
                             {"succeeded", 3}, {"failed", 1}, {"cancelled", 1}, {"running", 1}}));
  EXPECT_EQ(a.by_trigger, (std::map<std::string, int64_t>{{"manual", 3}, {"cron", 3}}));
  EXPECT_EQ(a.duration.count, 5);
  EXPECT_EQ(a.duration.avg_us, 40 * kSec);
  EXPECT_EQ(a.duration.p50_us, 30 * kSec);
  EXPECT_EQ(a.duration.p95_us, 100 * kSec);
  EXPECT_EQ(a.duration.min_us, 10 * kSec);
  EXPECT_EQ(a.duration.max_us, 100 * kSec);
  EXPECT_EQ(a.findings, (std::map<std::string, int64_t>{{"info", 0}, {"warning", 6}, {"critical", 1}}));
  EXPECT_EQ(a.approved, 2);
  EXPECT_EQ(a.rejected, 1);

  const RunbookStats& b = s.runbooks[1];
  EXPECT_EQ(b.runbook, "beta");
  EXPECT_EQ(b.runs, 20);
  EXPECT_EQ(b.by_trigger, (std::map<std::string, int64_t>{{"child", 20}}));
  EXPECT_EQ(b.duration.count, 20);
  EXPECT_EQ(b.duration.avg_us, 10'500'000);
  EXPECT_EQ(b.duration.p50_us, 10 * kSec);  // rank ceil(0.50 * 20) = 10
  EXPECT_EQ(b.duration.p95_us, 19 * kSec);  // rank ceil(0.95 * 20) = 19
  EXPECT_EQ(b.approved + b.rejected, 0);

  EXPECT_EQ(s.total.runs, 26);
  EXPECT_EQ(s.total.duration.count, 25);
  EXPECT_EQ(s.total.findings.at("warning"), 26);
}

TEST_F(JournalStatsTest, IncidentsAndMeanTimeToRecovery) {
  StatsReport s = Stats();
  EXPECT_EQ(s.incidents.count, 3);      // INC-1, INC-2, INC-3; not a00000000001
  EXPECT_EQ(s.incidents.resolved, 2);   // INC-3's run is still running
  // INC-1: 1000 s -> 2020 s; INC-2: 4100 s -> 4202 s.
  EXPECT_EQ(s.incidents.mttr_us, (1020 + 102) * kSec / 2);
}

TEST_F(JournalStatsTest, WindowAndRunbookNarrowTheRuns) {
  StatsOptions o;
  o.since_us = 3000 * kSec;
  o.until_us = 4000 * kSec;
  StatsReport s = Stats(o);
  ASSERT_EQ(s.runbooks.size(), 1u);
  EXPECT_EQ(s.runbooks[0].runs, 4);  // a3..a6
  EXPECT_EQ(s.runbooks[0].duration.p50_us, 40 * kSec);  // of 30, 40, 100: rank 2
  EXPECT_EQ(s.incidents.count, 1);
  EXPECT_EQ(s.incidents.resolved, 0);

  StatsOptions beta;
  beta.runbook = "beta";
  s = Stats(beta);
  ASSERT_EQ(s.runbooks.size(), 1u);
  EXPECT_EQ(s.runbooks[0].runbook, "beta");
  EXPECT_EQ(s.incidents.count, 1);
  EXPECT_EQ(s.incidents.mttr_us, 102 * kSec);

  StatsOptions nothing;
  nothing.runbook = "gamma";
  s = Stats(nothing);
  EXPECT_TRUE(s.runbooks.empty());
  EXPECT_EQ(s.total.runs, 0);
  EXPECT_EQ(s.total.duration.count, 0);
}

TEST(NearestRank, PicksTheValueAtTheCeilingRank) {
  std::vector<int64_t> one{7};
  EXPECT_EQ(NearestRank(one, 50), 7);
  EXPECT_EQ(NearestRank(one, 95), 7);
  std::vector<int64_t> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(NearestRank(hundred, 50), 50);
  EXPECT_EQ(NearestRank(hundred, 95), 95);
  EXPECT_EQ(NearestRank(hundred, 100), 100);
  std::vector<int64_t> four{1, 2, 3, 4};
  EXPECT_EQ(NearestRank(four, 50), 2);
  EXPECT_EQ(NearestRank(four, 95), 4);
}

}  // namespace
}  // namespace runbook::journal
