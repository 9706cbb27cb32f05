// The read side the CLI uses: run references (id, prefix, last) with their
// exact error messages, and run listing with filters.
#include "journal_test_util.h"

namespace runbook::journal {
namespace {

class JournalQueryTest : public JournalTest {
 protected:
  void SetUp() override {
    JournalTest::SetUp();
    journal_ = OpenJournal();
    ASSERT_TRUE(journal_);
  }
  void TearDown() override {
    journal_.reset();
    JournalTest::TearDown();
  }

  void Add(RunRecord r) { journal_->CreateRun(std::move(r)); }
  void Commit() { ASSERT_TRUE(journal_->SyncBlocking().ok()); }

  std::vector<std::string> Ids(const RunFilter& filter) {
    auto runs = journal_->ListRuns(filter);
    EXPECT_TRUE(runs.ok()) << runs.status().message();
    std::vector<std::string> ids;
    if (runs.ok())
      for (const RunRecord& r : *runs) ids.push_back(r.id);
    return ids;
  }

  std::unique_ptr<Journal> journal_;
};

TEST_F(JournalQueryTest, LastOnAnEmptyJournalSaysThereAreNoRuns) {
  auto r = journal_->ResolveRunRef("last");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(r.status().message(), "the journal has no runs");
}

TEST_F(JournalQueryTest, ResolvesFullIdsUniquePrefixesAndLast) {
  Add(MakeRun("a1b2c3d4e5f6", 300));
  Add(MakeRun("a9f0e1d2c3b4", 200));
  Add(MakeRun("b00000000000", 100));
  Commit();
  EXPECT_EQ(*journal_->ResolveRunRef("a1b2c3d4e5f6"), "a1b2c3d4e5f6");
  EXPECT_EQ(*journal_->ResolveRunRef("a1"), "a1b2c3d4e5f6");
  EXPECT_EQ(*journal_->ResolveRunRef("a9f"), "a9f0e1d2c3b4");
  EXPECT_EQ(*journal_->ResolveRunRef("b"), "b00000000000");
  EXPECT_EQ(*journal_->ResolveRunRef("last"), "a1b2c3d4e5f6");  // latest started_at
}

TEST_F(JournalQueryTest, LastIsTheLatestStartedEvenIfInsertedEarlier) {
  Add(MakeRun("222222222222", 2000));
  Add(MakeRun("111111111111", 1000));
  Commit();
  EXPECT_EQ(*journal_->ResolveRunRef("last"), "222222222222");
}

TEST_F(JournalQueryTest, AmbiguousPrefixListsTheCandidates) {
  Add(MakeRun("a1b2c3d4e5f6"));
  Add(MakeRun("a9f0e1d2c3b4"));
  Commit();
  auto r = journal_->ResolveRunRef("a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "run prefix 'a' is ambiguous: a1b2c3d4e5f6, a9f0e1d2c3b4");
}

TEST_F(JournalQueryTest, AmbiguousPrefixListsAtMostFiveCandidates) {
  for (char c : std::string("0123456")) Add(MakeRun(std::string("f") + c + "0000000000"));
  Commit();
  auto r = journal_->ResolveRunRef("f");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "run prefix 'f' is ambiguous: f00000000000, f10000000000, f20000000000, "
            "f30000000000, f40000000000, ...");
}

TEST_F(JournalQueryTest, UnknownReferencesMatchNoRun) {
  Add(MakeRun("a1b2c3d4e5f6"));
  Commit();
  for (std::string ref : {"abc", "a1b2c3d4e5f60", "A1", "x'; DROP TABLE runs; --", ""}) {
    auto r = journal_->ResolveRunRef(ref);
    ASSERT_FALSE(r.ok()) << ref;
    EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
    EXPECT_EQ(r.status().message(), "no run matches '" + ref + "'");
  }
  EXPECT_EQ(*journal_->ResolveRunRef("a1"), "a1b2c3d4e5f6");  // still there
}

TEST_F(JournalQueryTest, GetRunOfAnUnknownIdIsNotFound) {
  auto r = journal_->GetRun("000000000000");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "no run '000000000000' in the journal");
}

TEST_F(JournalQueryTest, ListRunsIsNewestFirstAndFilters) {
  RunRecord a = MakeRun("aaaaaaaaaaaa", 1000);
  RunRecord b = MakeRun("bbbbbbbbbbbb", 2000);
  b.runbook = "security-incident";
  b.incident = "INC-7";
  b.status = RunStatus::kWaiting;
  RunRecord c = MakeRun("cccccccccccc", 3000);
  c.runbook = "security-incident";
  c.incident = "INC-7";
  c.parent_run = "bbbbbbbbbbbb";
  RunRecord d = MakeRun("dddddddddddd", 3000);  // same start as c, inserted later
  for (const RunRecord& r : {a, b, c, d}) Add(r);
  Commit();

  EXPECT_EQ(Ids({}), (std::vector<std::string>{"dddddddddddd", "cccccccccccc", "bbbbbbbbbbbb",
                                               "aaaaaaaaaaaa"}));
  RunFilter by_runbook;
  by_runbook.runbook = "security-incident";
  EXPECT_EQ(Ids(by_runbook), (std::vector<std::string>{"cccccccccccc", "bbbbbbbbbbbb"}));
  RunFilter by_status;
  by_status.status = RunStatus::kWaiting;
  EXPECT_EQ(Ids(by_status), std::vector<std::string>{"bbbbbbbbbbbb"});
  RunFilter window;
  window.since_us = 2000;
  window.until_us = 3000;
  EXPECT_EQ(Ids(window), std::vector<std::string>{"bbbbbbbbbbbb"});
  RunFilter by_incident;
  by_incident.incident = "INC-7";
  EXPECT_EQ(Ids(by_incident), (std::vector<std::string>{"cccccccccccc", "bbbbbbbbbbbb"}));
  RunFilter by_parent;
  by_parent.parent_run = "bbbbbbbbbbbb";
  EXPECT_EQ(Ids(by_parent), std::vector<std::string>{"cccccccccccc"});
  RunFilter limited;
  limited.limit = 2;
  EXPECT_EQ(Ids(limited), (std::vector<std::string>{"dddddddddddd", "cccccccccccc"}));
  RunFilter combined;
  combined.runbook = "security-incident";
  combined.status = RunStatus::kRunning;
  combined.limit = 5;
  EXPECT_EQ(Ids(combined), std::vector<std::string>{"cccccccccccc"});
}

TEST_F(JournalQueryTest, ListRunsLeavesTheSourceOutUnlessAsked) {
  Add(MakeRun("aaaaaaaaaaaa"));
  Commit();
  auto light = journal_->ListRuns({});
  ASSERT_EQ(light->size(), 1u);
  EXPECT_EQ(light->front().source_text, "");
  EXPECT_EQ(light->front().runbook, "daily-health-check");
  EXPECT_EQ(light->front().content_hash, Sha256Hex("name: daily-health-check\nsteps: []\n"));
  RunFilter full;
  full.with_source = true;
  EXPECT_EQ(journal_->ListRuns(full)->front().source_text, "name: daily-health-check\nsteps: []\n");
}

TEST_F(JournalQueryTest, ReadsOfAnUnknownRunAreEmpty) {
  EXPECT_TRUE(journal_->GetAttempts("000000000000")->empty());
  EXPECT_TRUE(journal_->GetEvents("000000000000")->empty());
  EXPECT_TRUE(journal_->GetOutput("000000000000", std::nullopt)->empty());
  EXPECT_TRUE(journal_->GetFindings("000000000000")->empty());
  EXPECT_TRUE(journal_->GetApprovals("000000000000")->empty());
}

}  // namespace
}  // namespace runbook::journal
