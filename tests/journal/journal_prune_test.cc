// PruneJournal (docs/journal.md, "Pruning"): whole finished runs older than
// the cutoff go with all their rows, the archive gets them first, and the
// chain still verifies through the journal_pruned anchor, while a deletion
// without an anchor is still found.
#include <sys/stat.h>

#include "evidence_test_util.h"
#include "journal/prune.h"

namespace runbook::journal {
namespace {

constexpr int64_t kDay = 86'400'000'000;

class JournalPruneTest : public JournalTest {
 protected:
  // old1 and old2 (finished on day 1 and 2) interleaved with a recent run and
  // a journal-level event, so that pruning leaves gaps inside the chain.
  void WriteInterleaved() {
    auto j = OpenJournal();
    WriteSampleRun(*j, "0000000001aa", SampleRunOptions::At(1 * kDay));
    j->AppendEvent(MakeEvent("", "scheduler_started"));
    WriteSampleRun(*j, "0000000002bb", SampleRunOptions::At(2 * kDay).Status(RunStatus::kFailed));
    WriteSampleRun(*j, "0000000100cc", SampleRunOptions::At(100 * kDay));
    WriteSampleRun(*j, "0000000003dd", SampleRunOptions::At(3 * kDay).Of("other"));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }

  PruneReport Prune(int64_t before_day, int keep = 0, const std::string& archive = "", bool dry = false) {
    PruneOptions o;
    o.finished_before_us = before_day * kDay;
    o.keep_runs = keep;
    o.archive_path = archive;
    o.dry_run = dry;
    o.actor = "ops@box";
    auto r = PruneJournal(path_, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : PruneReport{};
  }

  VerifyReport Verify(const std::string& path) {
    auto r = VerifyJournal(path);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : VerifyReport{};
  }

  int64_t Count(const std::string& sql) { return *RawDb()->QueryInt(sql); }
};

TEST_F(JournalPruneTest, OldFinishedRunsGoWithAllTheirRowsAndTheChainStillVerifies) {
  WriteInterleaved();
  int64_t events_before = Count("SELECT count(*) FROM events");
  PruneReport r = Prune(50);
  EXPECT_EQ(r.run_ids, (std::vector<std::string>{"0000000001aa", "0000000002bb", "0000000003dd"}));
  EXPECT_EQ(r.attempts, 6);
  EXPECT_EQ(r.findings, 3);
  EXPECT_EQ(r.output_chunks, 24);
  EXPECT_GT(r.anchor_seq, 0);
  EXPECT_EQ(r.gaps, 3);  // before the journal-level event, after it, and the tail

  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 1);
  for (const char* table : {"step_attempts", "output_chunks", "findings", "events"})
    EXPECT_EQ(Count("SELECT count(*) FROM " + std::string(table) + " WHERE run_id <> '0000000100cc'"), 0) << table;
  EXPECT_EQ(Count("SELECT count(*) FROM events"), events_before - r.events + 1);  // + the anchor
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE run_id IS NULL AND kind = 'journal_pruned' "
                  "AND actor = 'ops@box' AND seq = " + std::to_string(r.anchor_seq)),
            1);
  EXPECT_EQ(Count("SELECT max(seq) FROM events"), r.anchor_seq);

  VerifyReport v = Verify(path_);
  EXPECT_TRUE(v.ok) << Problems(v);
  EXPECT_EQ(v.pruned_gaps, 3);
}

TEST_F(JournalPruneTest, ADeletionWithoutAnAnchorIsStillFoundAfterAPrune) {
  WriteInterleaved();
  Prune(50);
  int64_t seq = Count("SELECT min(seq) FROM events WHERE run_id = '0000000100cc'") + 2;
  ASSERT_TRUE(RawDb()->Exec("DELETE FROM events WHERE seq = " + std::to_string(seq)).ok());
  VerifyReport v = Verify(path_);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, seq + 1) << Problems(v);
}

TEST_F(JournalPruneTest, EditingTheAnchorIsFound) {
  WriteInterleaved();
  PruneReport r = Prune(50);
  ASSERT_TRUE(RawDb()->Exec("UPDATE events SET data_json = replace(data_json, '0000000003dd', '0000000009zz') "
                            "WHERE seq = " + std::to_string(r.anchor_seq))
                  .ok());
  VerifyReport v = Verify(path_);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, r.anchor_seq);
}

TEST_F(JournalPruneTest, RepeatedPrunesOverAdjacentGapsStayVerifiable) {
  WriteInterleaved();
  Prune(2);   // old1 only
  EXPECT_TRUE(Verify(path_).ok);
  {
    auto j = OpenJournal();
    WriteSampleRun(*j, "0000000200ee", SampleRunOptions::At(200 * kDay));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }
  PruneReport second = Prune(150);  // old2, other, and the day-100 run
  EXPECT_EQ(second.run_ids.size(), 3u);
  VerifyReport v = Verify(path_);
  EXPECT_TRUE(v.ok) << Problems(v);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 1);
}

TEST_F(JournalPruneTest, RunningAndWaitingRunsAndTheNewestPerRunbookStay) {
  {
    auto j = OpenJournal();
    WriteSampleRun(*j, "00000000run1", SampleRunOptions::At(1 * kDay).Unfinished());
    RunRecord waiting = MakeRun("00000000wait", 1 * kDay);
    waiting.status = RunStatus::kWaiting;
    j->CreateRun(waiting);
    for (int d = 2; d <= 6; ++d)
      WriteSampleRun(*j, "0000000000d" + std::to_string(d), SampleRunOptions::At(d * kDay));
    WriteSampleRun(*j, "00000000oth1", SampleRunOptions::At(2 * kDay).Of("other"));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }
  PruneReport r = Prune(50, /*keep=*/2);
  // daily-health-check keeps its two newest (d6, d5); the running and
  // waiting runs are older but never removed; "other" keeps its only run.
  EXPECT_EQ(r.run_ids, (std::vector<std::string>{"0000000000d2", "0000000000d3", "0000000000d4"}));
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE id IN ('00000000run1', '00000000wait', '0000000000d5', "
                  "'0000000000d6', '00000000oth1')"),
            5);
  EXPECT_TRUE(Verify(path_).ok);
}

TEST_F(JournalPruneTest, AParentStaysWhileAChildOfItStays) {
  {
    auto j = OpenJournal();
    WriteSampleRun(*j, "0000parentaa", SampleRunOptions::At(1 * kDay));
    // A child that finished long after its parent (it was resumed later).
    WriteSampleRun(*j, "00000childaa", SampleRunOptions::At(1 * kDay, 100 * kDay).Parent("0000parentaa"));
    WriteSampleRun(*j, "0000parentbb", SampleRunOptions::At(2 * kDay));
    WriteSampleRun(*j, "00000childbb", SampleRunOptions::At(2 * kDay).Parent("0000parentbb"));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }
  PruneReport r = Prune(50);
  EXPECT_EQ(r.run_ids, (std::vector<std::string>{"00000childbb", "0000parentbb"}));
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE id IN ('0000parentaa', '00000childaa')"), 2);
  EXPECT_TRUE(Verify(path_).ok);
}

TEST_F(JournalPruneTest, ArchiveHoldsThePrunedRunsAndIsAReadableJournal) {
  WriteInterleaved();
  std::string archive = dir_ + "/archive/2024.db";
  PruneReport r = Prune(50, 0, archive);
  ASSERT_EQ(r.run_ids.size(), 3u);
  struct stat st;
  ASSERT_EQ(stat(archive.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  OpenOptions no_stale;
  no_stale.mark_stale_runs = false;
  auto a = Journal::Open(archive, no_stale);
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto runs = (*a)->ListRuns({});
  ASSERT_EQ(runs->size(), 3u);
  auto events = (*a)->GetEvents("0000000002bb");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->front().kind, "run_started");
  EXPECT_EQ(events->back().kind, "run_finished");
  EXPECT_TRUE(events->back().hash.has_value());
  auto output = (*a)->GetOutput("0000000002bb", std::string("step-1"));
  ASSERT_EQ(output->size(), 4u);
  EXPECT_EQ((*a)->GetFindings("0000000003dd")->size(), 1u);
  a->reset();
  // The archived rows keep their own hashes and digests: every check except
  // the links to the rows that stayed behind passes.
  VerifyReport v = Verify(archive);
  for (const auto& p : v.problems)
    EXPECT_NE(p.message.find("missing — deleted without a prune anchor"), std::string::npos) << p.message;

  // Pruning again into the same archive adds, never duplicates.
  {
    auto j = OpenJournal();
    WriteSampleRun(*j, "0000000004ff", SampleRunOptions::At(4 * kDay));
    ASSERT_TRUE(j->SyncBlocking().ok());
  }
  EXPECT_EQ(Prune(50, 0, archive).run_ids, std::vector<std::string>{"0000000004ff"});
  auto again = Journal::Open(archive, no_stale);
  EXPECT_EQ((*again)->ListRuns({})->size(), 4u);
}

TEST_F(JournalPruneTest, DryRunCountsAndChangesNothing) {
  WriteInterleaved();
  int64_t events = Count("SELECT count(*) FROM events");
  PruneReport r = Prune(50, 0, dir_ + "/never.db", /*dry=*/true);
  EXPECT_EQ(r.run_ids.size(), 3u);
  EXPECT_GT(r.events, 0);
  EXPECT_EQ(r.anchor_seq, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), events);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 4);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/never.db"));
}

TEST_F(JournalPruneTest, NothingToPruneWritesNoAnchor) {
  WriteInterleaved();
  PruneReport r = Prune(0);
  EXPECT_TRUE(r.run_ids.empty());
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE kind = 'journal_pruned'"), 0);
}

}  // namespace
}  // namespace runbook::journal
