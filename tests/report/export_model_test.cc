// ExportModel: which runs a selection takes, and what it collects about them.
#include <sqlite3.h>

#include "journal/sqlite.h"
#include "tests/report/export_fixture.h"

namespace runbook::report {
namespace {

std::vector<std::string> Ids(const ExportModel& m) { return m.run_ids(); }

TEST_F(ExportTest, IncidentSelectsItsRunsInStartOrderAndNotOthers) {
  FillIncident();
  ExportModel m = Incident();
  EXPECT_EQ(Ids(m), (std::vector<std::string>{kParent, kChild}));
  EXPECT_EQ(m.title, "Incident INC-42");
  EXPECT_EQ(m.runs[1].depth, 1);
  EXPECT_EQ(m.outcome(), journal::RunStatus::kFailed);
  EXPECT_EQ(m.started_at_us, kT0);
  EXPECT_EQ(m.finished_at_us, kT0 + 60 * kSecond);
  EXPECT_EQ(m.events.count, 20);
  EXPECT_EQ(m.incidents(), std::vector<std::string>{"INC-42"});
}

TEST_F(ExportTest, RunSelectionAddsChildRunsUnlessToldNot) {
  FillIncident();
  Selection s;
  s.runs = {"aaaa"};  // a prefix
  auto m = Build(Options(s));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(Ids(*m), (std::vector<std::string>{kParent, kChild}));
  s.with_children = false;
  m = Build(Options(s));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Ids(*m), std::vector<std::string>{kParent});
  EXPECT_EQ(m->title, "Incident INC-42");  // one run, but of a named incident
}

TEST_F(ExportTest, ChildRunsAreIncludedEvenWithAnotherIncidentId) {
  FillIncident();
  journal::RunRecord grandchild = Run("dddd00000004", "db-check", kT0 + 34 * kSecond, kT0 + 35 * kSecond,
                                      journal::RunStatus::kSucceeded);
  grandchild.parent_run = kChild;
  grandchild.incident = "dddd00000004";
  journal_->CreateRun(grandchild);
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  ExportModel m = Incident();
  EXPECT_EQ(Ids(m), (std::vector<std::string>{kParent, kChild, "dddd00000004"}));
  EXPECT_EQ(m.runs[2].depth, 2);
}

TEST_F(ExportTest, TimeRangeSelectsRunsStartedInIt) {
  FillIncident();
  Selection s;
  s.since_us = kT0 + 10 * kSecond;
  s.until_us = kT0 + 7200 * kSecond;
  s.with_children = false;
  auto m = Build(Options(s));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(Ids(*m), (std::vector<std::string>{kChild, kOther}));
  EXPECT_EQ(m->title, "Runs from 2026-03-01T09:00:10.000Z to 2026-03-01T11:00:00.000Z");
}

TEST_F(ExportTest, SelectionErrorsSayWhatIsWrong) {
  FillIncident();
  Selection s;
  s.runs = {"ffff"};
  auto m = Build(Options(s));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(m.status().message(), "no run matches 'ffff'");

  s = {};
  s.incident = "INC-0";
  m = Build(Options(s));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(m.status().message(), "no runs of incident 'INC-0' in the journal");

  s = {};
  s.since_us = kT0 + 9000 * kSecond;
  m = Build(Options(s));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "no runs started since 2026-03-01T11:30:00.000Z");

  m = Build(Options(Selection{}));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ExportTest, ActionsFollowStartOrderWithAttemptsAndNeverRunStepsLast) {
  FillIncident();
  ExportModel m = Incident();
  const auto& acts = m.runs[0].actions;
  ASSERT_EQ(acts.size(), 4u);
  EXPECT_EQ(acts[0].step_id, "contain");
  EXPECT_EQ(acts[0].status, "succeeded");
  EXPECT_EQ(acts[0].command, "systemctl stop app\necho contained");
  EXPECT_EQ(acts[0].title, "Contain the breach");
  EXPECT_EQ(acts[1].step_id, "block-ip");
  EXPECT_EQ(acts[1].status, "failed");
  ASSERT_EQ(acts[1].attempts.size(), 2u);
  EXPECT_EQ(acts[1].attempts[1].record.exit_code, 2);
  EXPECT_EQ(acts[1].started_at_us, kT0 + 21 * kSecond);
  EXPECT_EQ(acts[1].finished_at_us, kT0 + 53 * kSecond);
  EXPECT_EQ(acts[2].step_id, "notify");
  EXPECT_EQ(acts[2].status, "skipped");
  EXPECT_EQ(acts[3].step_id, "cleanup");
  EXPECT_EQ(acts[3].status, "not_run");
  EXPECT_EQ(acts[3].block, journal::Block::kFinally);
  // The child run has no describer entry: no command, but its attempts.
  ASSERT_EQ(m.runs[1].actions.size(), 1u);
  EXPECT_EQ(m.runs[1].actions[0].command, "");
}

TEST_F(ExportTest, OutputIsExcerptedWithCountsAndDigests) {
  FillIncident();
  ExportModel m = Incident();
  const auto& outs = m.runs[0].actions[0].attempts[0].outputs;
  ASSERT_EQ(outs.size(), 1u);  // stdout only: stderr was empty
  const OutputExcerpt& x = outs[0];
  EXPECT_EQ(x.bytes, static_cast<int64_t>(ContainOutput().size()));
  EXPECT_EQ(x.sha256, journal::Sha256Hex(ContainOutput()));
  EXPECT_EQ(x.lines, 30);
  EXPECT_EQ(x.head.size(), 5u);
  EXPECT_EQ(x.tail.size(), 5u);
  EXPECT_EQ(x.omitted_lines, 20);
  EXPECT_EQ(x.head[2], "<script>alert(\"pwned\")</script>");
  EXPECT_EQ(x.tail.back(), "contain line 30");
  EXPECT_EQ(x.longest_backtick_run, 4);
  const OutputExcerpt& child = m.runs[1].actions[0].attempts[0].outputs[0];
  EXPECT_FALSE(child.valid_utf8);
  EXPECT_EQ(child.head[0], "rows: \xEF\xBF\xBD\xEF\xBF\xBD ok");
}

TEST_F(ExportTest, FindingsAreOrderedBySeverityApprovalsAndNotesCollected) {
  FillIncident();
  ExportModel m = Incident();
  ASSERT_EQ(m.findings.size(), 3u);
  EXPECT_EQ(m.findings[0].level, journal::FindingLevel::kCritical);
  EXPECT_EQ(m.findings[1].level, journal::FindingLevel::kWarning);
  EXPECT_EQ(m.findings[2].level, journal::FindingLevel::kInfo);
  ASSERT_EQ(m.approvals.size(), 1u);
  EXPECT_EQ(m.approvals[0].approver, "carol");
  EXPECT_EQ(m.approvals[0].os_user, "carol@ops2");
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_EQ(m.notes[0].text, kNoteText);
  EXPECT_EQ(m.notes[0].author, "dave");
  EXPECT_EQ(m.notes[0].actor, "dave@laptop");
  EXPECT_EQ(m.notes[0].ts_us, kT0 + 35 * kSecond);
}

TEST_F(ExportTest, AnUntouchedJournalVerifies) {
  FillIncident();
  ExportModel m = Incident();
  const Integrity& x = m.integrity;
  EXPECT_TRUE(x.verified) << x.error;
  EXPECT_TRUE(x.ok);
  for (const auto& p : x.problems) ADD_FAILURE() << p;
  EXPECT_GT(x.events_checked, 0);
  EXPECT_FALSE(x.head_hash.empty());
  ASSERT_EQ(x.sources.size(), 2u);
  EXPECT_TRUE(x.sources[0].ok());
  EXPECT_EQ(x.sources[0].computed_sha256, journal::Sha256Hex("name: security-incident\nsteps: []\n"));
}

TEST_F(ExportTest, AnEditedEventOrSourceMakesTheIntegrityCheckFail) {
  FillIncident();
  ASSERT_TRUE(journal_->Close().ok());
  journal_.reset();
  {
    auto db = journal::sqlite::Db::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("UPDATE events SET message = 'nothing happened' WHERE kind = 'note'").ok());
    ASSERT_TRUE((*db)->Exec("UPDATE runs SET source_text = 'name: forged' WHERE id = 'bbbb00000002'").ok());
  }
  journal::OpenOptions o;
  o.mark_stale_runs = false;
  auto j = journal::Journal::Open(path_, o);
  ASSERT_TRUE(j.ok());
  journal_ = std::move(*j);
  ExportModel m = Incident();
  EXPECT_TRUE(m.integrity.verified);
  EXPECT_FALSE(m.integrity.ok);
  EXPECT_GT(m.integrity.problem_count, 0);
  EXPECT_NE(m.integrity.first_bad_seq, 0);
  ASSERT_EQ(m.integrity.sources.size(), 2u);
  EXPECT_TRUE(m.integrity.sources[0].ok());
  EXPECT_FALSE(m.integrity.sources[1].ok());
}

}  // namespace
}  // namespace runbook::report
