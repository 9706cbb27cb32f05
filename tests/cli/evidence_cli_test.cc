// Acceptance of `runbook journal verify`, `runbook journal prune` and
// `runbook stats` through the real binary (issue 6): real runs verify; an
// edit made with plain SQL is named and exits 1; a damaged file is a clear
// error; prune then verify passes and the archive is a journal; stats on a
// journal of known content prints exactly the expected figures.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "journal/sha256.h"
#include "journal/sqlite.h"
#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

// Output, a retried failure, a skipped step and a check with a finding: the
// rows verify cross-checks against the engine's events.
constexpr std::string_view kRunbook = R"(name: evidence
steps:
  - id: hello
    run: printf 'hello\nworld\n'; echo oops >&2
  - id: flaky
    needs: [hello]
    run: exit 3
    retry: {attempts: 2, delay: 0s}
    continue_on_error: true
  - id: skipped
    needs: [hello]
    if: ${{ false }}
    run: echo never
  - id: disk
    type: check
    needs: [hello]
    value: 93
    warn: "> 80"
    critical: "> 95"
)";

std::unique_ptr<journal::sqlite::Db> Raw(const std::string& path) {
  auto db = journal::sqlite::Db::Open(path, SQLITE_OPEN_READWRITE);
  EXPECT_TRUE(db.ok()) << db.status().message();
  if (!db.ok()) return nullptr;
  (*db)->SetBusyTimeout(10000);
  return std::move(*db);
}

TEST(JournalVerifyCli, RealRunsVerifyAndAnEditedMessageIsNamedWithExit1) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("evidence", kRunbook);
  ASSERT_EQ(box.Run({"runs"}).exit_code, 0);
  // Two engines writing at once keep one chain.
  auto a = box.Start({"run", rb});
  auto b = box.Start({"run", rb});
  EXPECT_EQ(a->Wait(seconds(120)).exit_code, 0);
  EXPECT_EQ(b->Wait(seconds(120)).exit_code, 0);

  Outcome ok = box.Run({"journal", "verify"});
  ASSERT_EQ(ok.exit_code, 0) << ok.Describe();
  EXPECT_NE(ok.out.find("journal " + box.journal_path() + ": verified"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("runs:    2 checked"), std::string::npos) << ok.out;

  int64_t seq = 0;
  std::string run;
  {
    auto db = Raw(box.journal_path());
    auto st = db->Prepare("SELECT seq, run_id FROM events WHERE kind = 'step_finished' AND step_id = 'hello' "
                          "ORDER BY seq DESC LIMIT 1");
    ASSERT_TRUE(st.ok() && *st->Step());
    seq = st->Int(0);
    run = st->Text(1);
    st->Reset();
    ASSERT_TRUE(db->Exec("UPDATE events SET message = 'failed: nothing' WHERE seq = " + std::to_string(seq)).ok());
  }
  Outcome bad = box.Run({"journal", "verify"});
  EXPECT_EQ(bad.exit_code, 1) << bad.Describe();
  EXPECT_NE(bad.out.find("first broken row: event seq " + std::to_string(seq)), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("event seq " + std::to_string(seq) + " (run " + run +
                         ", step hello): hash mismatch — the row was edited"),
            std::string::npos)
      << bad.out;

  Outcome json = box.Run({"journal", "verify", "--json"});
  EXPECT_EQ(json.exit_code, 1);
  auto v = ParseJson(json.out, "verify --json");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->at("ok").as_bool());
  EXPECT_EQ(v->at("first_bad_seq").as_int64(), seq);
  EXPECT_EQ(v->at("problems").as_array().size(), 1u);
  EXPECT_EQ(v->at("problems").at(0).at("run_id").as_string(), run);
}

TEST(JournalVerifyCli, EditsOfRunRowsAndOutputAreNamed) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("evidence", kRunbook);
  ASSERT_EQ(box.Run({"run", rb}).exit_code, 0);
  // Everything into the database file before copying it (runbook leaves its
  // records in the WAL until an auto-checkpoint).
  ASSERT_TRUE(Raw(box.journal_path())->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  std::string copy = box.Path("pristine.db");
  std::filesystem::copy_file(box.journal_path(), copy);
  struct Case {
    const char* sql;
    const char* named;
  } cases[] = {
      {"UPDATE runs SET status = 'failed', exit_code = 1", "status is 'failed' but event seq"},
      {"UPDATE runs SET source_text = source_text || ' '", "content_hash does not match source_text"},
      {"UPDATE output_chunks SET data = CAST('HELLO' || substr(data, 6) AS BLOB) WHERE step_id = 'hello' "
       "AND stream = 'stdout'",
       "SHA-256 of output_chunks differs from the recorded digest"},
      {"DELETE FROM output_chunks WHERE step_id = 'hello' AND stream = 'stderr'",
       "stderr recorded 5 bytes but output_chunks has none"},
      {"UPDATE step_attempts SET exit_code = 0 WHERE step_id = 'flaky'", "exit_code is '0' but event seq"},
      {"DELETE FROM findings", "records a finding that is not in the findings table"},
  };
  for (const Case& c : cases) {
    std::filesystem::copy_file(copy, box.journal_path(), std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove(box.journal_path() + "-wal");
    std::filesystem::remove(box.journal_path() + "-shm");
    ASSERT_TRUE(Raw(box.journal_path())->Exec(c.sql).ok()) << c.sql;
    Outcome o = box.Run({"journal", "verify"});
    EXPECT_EQ(o.exit_code, 1) << c.sql;
    EXPECT_NE(o.out.find(c.named), std::string::npos) << c.sql << "\n" << o.out;
  }
}

TEST(JournalVerifyCli, DamagedOrForeignFilesAreAClearErrorWithExit1) {
  CliSandbox box;
  Outcome missing = box.Run({"--journal", box.Path("none.db"), "journal", "verify"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("runbook: error: no journal at " + box.Path("none.db")), std::string::npos)
      << missing.err;

  box.WriteFile("text.db", "this is not a database, it is a shopping list\n");
  Outcome text = box.Run({"--journal", box.Path("text.db"), "journal", "verify"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.err.find("is not a runbook journal (file is not a database)"), std::string::npos) << text.err;

  std::string rb = box.WriteRunbook("evidence", kRunbook);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(box.Run({"run", rb}).exit_code, 0);
  ASSERT_TRUE(Raw(box.journal_path())->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  std::filesystem::resize_file(box.journal_path(), std::filesystem::file_size(box.journal_path()) / 2);
  Outcome cut = box.Run({"journal", "verify"});
  EXPECT_EQ(cut.exit_code, 1) << cut.Describe();
  EXPECT_TRUE(cut.err.find("is damaged or truncated") != std::string::npos ||
              cut.out.find("PRAGMA integrity_check") != std::string::npos)
      << cut.Describe();
}

TEST(JournalPruneCli, PruneWithArchiveThenVerifyPassesAndTheArchiveIsAJournal) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("evidence", kRunbook);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(box.Run({"run", rb}).exit_code, 0);

  Outcome dry = box.Run({"journal", "prune", "--older-than", "0s", "--keep-runs", "1", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.Describe();
  EXPECT_NE(dry.out.find("would prune 2 run(s)"), std::string::npos) << dry.out;

  std::string archive = box.Path("old/archive.db");
  Outcome pruned = box.Run({"--json", "journal", "prune", "--older-than", "0s", "--keep-runs", "1", "--archive",
                            archive});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.Describe();
  auto p = ParseJson(pruned.out, "prune --json");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->at("runs").as_array().size(), 2u);
  EXPECT_GT(p->at("anchor_seq").as_int64(), 0);
  struct stat st;
  ASSERT_EQ(stat(archive.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_NE(verify.out.find("pruned gap(s) covered by anchors"), std::string::npos) << verify.out;

  Outcome left = box.Run({"--json", "runs"});
  auto l = ParseJson(left.out, "runs --json");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->as_array().size(), 1u);
  Outcome archived = box.Run({"--journal", archive, "--json", "runs"});
  ASSERT_EQ(archived.exit_code, 0) << archived.Describe();
  auto a = ParseJson(archived.out, "archive runs --json");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->as_array().size(), 2u);
  std::string old_run(a->at(0).at("id").as_string());
  Outcome logs = box.Run({"--journal", archive, "logs", old_run, "hello", "--raw"});
  EXPECT_NE(logs.out.find("hello\nworld\n"), std::string::npos) << logs.Describe();
}

TEST(JournalPruneCli, OlderThanIsRequiredAndValidated) {
  CliSandbox box;
  EXPECT_EQ(box.Run({"journal", "prune"}).exit_code, 2);
  Outcome bad = box.Run({"journal", "prune", "--older-than", "soon"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--older-than: invalid time 'soon'"), std::string::npos) << bad.err;
}

// A journal of known content written in this process.
void WriteKnownRuns(const std::string& path) {
  auto j = journal::Journal::Open(path);
  ASSERT_TRUE(j.ok()) << j.status().message();
  const int64_t base = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
  const int durations_s[] = {30, 10, 50, 20, 40, 600};
  for (int i = 0; i < 6; ++i) {
    journal::RunRecord r;
    r.id = "c0000000000" + std::to_string(i);
    r.runbook = i < 5 ? "backup" : "restore";
    r.source_text = "name: x\n";
    r.content_hash = journal::Sha256Hex(r.source_text);
    r.actor = "ops@box";
    r.process.host = "elsewhere";  // never looked at by stale detection
    r.trigger = i % 2 ? journal::Trigger::kCron : journal::Trigger::kManual;
    r.incident = i >= 4 ? "INC-7" : "";
    r.started_at_us = base + i * 3'600'000'000LL;
    r.status = journal::RunStatus::kRunning;
    (*j)->CreateRun(r);
    (*j)->FinishRun(r.id, i == 2 ? journal::RunStatus::kFailed : journal::RunStatus::kSucceeded,
                    r.started_at_us + durations_s[i] * 1'000'000LL, i == 2 ? 1 : 0, "{}", "");
  }
  journal::FindingRecord f;
  f.run_id = "c00000000002";
  f.step_id = "check";
  f.level = journal::FindingLevel::kCritical;
  f.message = "no space";
  (*j)->AddFinding(f);
  journal::ApprovalRecord ap;
  ap.run_id = "c00000000005";
  ap.step_id = "go";
  ap.approver = "bob";
  ap.os_user = "bob@box";
  (*j)->AddApproval(ap);
  ASSERT_TRUE((*j)->Close().ok());
}

TEST(StatsCli, JsonGivesExactCountsPercentilesAndRecovery) {
  CliSandbox box;
  ASSERT_EQ(box.Run({"runs"}).exit_code, 0);
  WriteKnownRuns(box.journal_path());
  Outcome o = box.Run({"stats", "--since", "2026-01-01", "--until", "2026-01-02", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto s = ParseJson(o.out, "stats --json");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->at("since").as_string(), "2026-01-01T00:00:00.000Z");
  auto& books = s->at("runbooks").as_array();
  ASSERT_EQ(books.size(), 2u);
  auto& backup = books[0].as_object();
  EXPECT_EQ(backup.at("runbook").as_string(), "backup");
  EXPECT_EQ(backup.at("runs").as_int64(), 5);
  EXPECT_EQ(backup.at("by_status").at("succeeded").as_int64(), 4);
  EXPECT_EQ(backup.at("by_status").at("failed").as_int64(), 1);
  EXPECT_EQ(backup.at("by_trigger").at("manual").as_int64(), 3);
  EXPECT_EQ(backup.at("by_trigger").at("cron").as_int64(), 2);
  // 10, 20, 30, 40, 50 s: average 30 s, p50 = rank 3 = 30 s, p95 = rank 5 = 50 s.
  EXPECT_EQ(backup.at("duration_ms").at("finished").as_int64(), 5);
  EXPECT_EQ(backup.at("duration_ms").at("avg").as_int64(), 30000);
  EXPECT_EQ(backup.at("duration_ms").at("p50").as_int64(), 30000);
  EXPECT_EQ(backup.at("duration_ms").at("p95").as_int64(), 50000);
  EXPECT_EQ(backup.at("findings").at("critical").as_int64(), 1);
  EXPECT_EQ(books[1].at("approvals").at("approved").as_int64(), 1);
  EXPECT_EQ(s->at("total").at("runs").as_int64(), 6);
  // INC-7: run 4 starts at 04:00, run 5 ends at 05:10.
  EXPECT_EQ(s->at("incidents").at("count").as_int64(), 1);
  EXPECT_EQ(s->at("incidents").at("mttr_ms").as_int64(), 70 * 60 * 1000);

  Outcome text = box.Run({"stats", "--since", "2026-01-01", "--until", "2026-01-02", "--runbook", "backup"});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("RUNBOOK"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("backup"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("restore"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("30s"), std::string::npos) << text.out;

  Outcome empty = box.Run({"stats", "--json"});  // default: the last 7 days
  auto e = ParseJson(empty.out, "stats --json (7d)");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->at("runbooks").as_array().empty());
}

}  // namespace
}  // namespace runbook::clitest
