// Shared fixture of the export tests: a real journal in a fresh temporary
// directory, filled through the Journal write API with a constructed
// incident — a parent run with a failed, retried step, a skipped step, three
// findings, an approval and a note, a child run whose output is not valid
// UTF-8, and an unrelated run — with fixed timestamps that interleave the
// runs. Helpers build the ExportModel and render it to a string.
// Single-threaded test code; header-only (the test glob takes *_test.cc).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "journal/identity.h"
#include "journal/journal.h"
#include "journal/sha256.h"
#include "report/evidence_reader.h"
#include "report/export_model.h"
#include "report/render.h"

namespace runbook::report {

// 2026-03-01T09:00:00Z (winter: Europe/Berlin is +01:00).
inline constexpr int64_t kT0 = 1772355600LL * 1000000;
inline constexpr int64_t kSecond = 1000000;

inline constexpr char kParent[] = "aaaa00000001";
inline constexpr char kChild[] = "bbbb00000002";
inline constexpr char kOther[] = "cccc00000003";

// 30 lines; line 3 tries to inject a script, line 5 holds a backtick fence.
inline std::string ContainOutput() {
  std::string s;
  for (int i = 1; i <= 30; ++i) {
    if (i == 3) {
      s += "<script>alert(\"pwned\")</script>\n";
    } else if (i == 5) {
      s += "```` not a fence\n";
    } else {
      s += "contain line " + std::to_string(i) + "\n";
    }
  }
  return s;
}
inline const std::string kChildOutput = "rows: \xff\xfe ok\n";
inline const std::string kNoteText = "Paged the DB team, \"urgent\"\nsecond line, with comma";

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "report_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = dir_ + "/journal.db";
    journal::OpenOptions o;
    o.mark_stale_runs = false;
    auto j = journal::Journal::Open(path_, o);
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(*j);
  }

  void TearDown() override {
    reader_.reset();
    if (journal_) (void)journal_->Close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static journal::RunRecord Run(const std::string& id, const std::string& runbook, int64_t start, int64_t end,
                                journal::RunStatus status) {
    journal::RunRecord r;
    r.id = id;
    r.runbook = runbook;
    r.title = runbook + " title";
    r.source_path = "runbooks/" + runbook + ".yaml";
    r.source_text = "name: " + runbook + "\nsteps: []\n";
    r.content_hash = journal::Sha256Hex(r.source_text);
    r.actor = "alice@ops1";
    r.process = journal::CurrentProcess();
    r.status = status;
    r.started_at_us = start;
    r.finished_at_us = end;
    r.exit_code = status == journal::RunStatus::kSucceeded ? 0 : 1;
    return r;
  }

  void Event(const std::string& run, const std::string& step, std::optional<int> attempt, int64_t ts,
             const std::string& kind, const std::string& message, const std::string& data = "{}",
             const std::string& actor = "alice@ops1") {
    journal::EventRecord e;
    e.run_id = run;
    e.step_id = step;
    e.attempt = attempt;
    e.ts_us = ts;
    e.kind = kind;
    e.actor = actor;
    e.message = message;
    e.data_json = data;
    journal_->AppendEvent(std::move(e));
  }

  // One attempt with its output (chunks of at most 7 bytes, so that
  // readers must join them) and matching digests.
  void Attempt(const std::string& run, const std::string& step, int attempt, journal::AttemptStatus status,
               int64_t start, int64_t end, std::optional<int> exit_code, const std::string& out,
               const std::string& err = "", const std::string& error = "") {
    journal::AttemptRecord a;
    a.run_id = run;
    a.step_id = step;
    a.attempt = attempt;
    a.status = status;
    a.started_at_us = start;
    a.finished_at_us = end;
    a.exit_code = exit_code;
    a.error = error;
    a.stdout_digest = {static_cast<int64_t>(out.size()), journal::Sha256Hex(out)};
    a.stderr_digest = {static_cast<int64_t>(err.size()), journal::Sha256Hex(err)};
    journal_->PutAttempt(std::move(a));
    for (auto [stream, text] : {std::pair{journal::Stream::kStdout, &out}, {journal::Stream::kStderr, &err}}) {
      for (size_t off = 0, seq = 0; off < text->size(); off += 7, ++seq) {
        journal::OutputChunk c;
        c.run_id = run;
        c.step_id = step;
        c.attempt = attempt;
        c.stream = stream;
        c.seq = static_cast<int64_t>(seq);
        c.ts_us = start + 1000;
        c.offset = static_cast<int64_t>(off);
        c.data = text->substr(off, 7);
        journal_->AppendOutput(std::move(c));
      }
    }
  }

  // The constructed incident INC-42 (parent + child: 20 events) and an
  // unrelated run.
  void FillIncident() {
    journal::RunRecord p = Run(kParent, "security-incident", kT0, kT0 + 60 * kSecond, journal::RunStatus::kFailed);
    p.incident = "INC-42";
    p.params_json = R"({"reason":"breach","token":"***"})";
    p.error = "step(s) failed: block-ip";
    journal_->CreateRun(p);
    journal::RunRecord c = Run(kChild, "db-check", kT0 + 30 * kSecond, kT0 + 40 * kSecond,
                               journal::RunStatus::kSucceeded);
    c.incident = "INC-42";
    c.parent_run = kParent;
    c.trigger = journal::Trigger::kChild;
    journal_->CreateRun(c);
    journal_->CreateRun(Run(kOther, "daily-health-check", kT0 + 3600 * kSecond, kT0 + 3601 * kSecond,
                            journal::RunStatus::kSucceeded));

    Event(kParent, "", std::nullopt, kT0, "run_started", "run of security-incident started by alice@ops1");
    Event(kParent, "contain", 1, kT0 + 1 * kSecond, "step_started", "started");
    Attempt(kParent, "contain", 1, journal::AttemptStatus::kSucceeded, kT0 + 1 * kSecond, kT0 + 5 * kSecond, 0,
            ContainOutput());
    AddFinding(kParent, "contain", journal::FindingLevel::kCritical, "disk above 90%", "93.5", "> 90",
               kT0 + 4 * kSecond);
    AddFinding(kParent, "contain", journal::FindingLevel::kInfo, "3 sessions open", "3", "", kT0 + 4 * kSecond);
    AddFinding(kParent, "contain", journal::FindingLevel::kWarning, "load above 4", "4.2", "> 4", kT0 + 4 * kSecond);
    Event(kParent, "contain", 1, kT0 + 5 * kSecond, "step_finished", "succeeded",
          R"({"status":"succeeded","exit_code":0})");

    Event(kParent, "block-ip", std::nullopt, kT0 + 6 * kSecond, "approval_asked", "approval required");
    journal::ApprovalRecord ap;
    ap.run_id = kParent;
    ap.step_id = "block-ip";
    ap.decision = journal::Decision::kApproved;
    ap.approver = "carol";
    ap.os_user = "carol@ops2";
    ap.inputs_json = R"({"ticket":"SEC-9"})";
    ap.comment = "go ahead";
    ap.ts_us = kT0 + 20 * kSecond;
    journal_->AddApproval(ap);
    Event(kParent, "block-ip", std::nullopt, kT0 + 20 * kSecond, "approval_decided", "approved by carol", "{}",
          "carol@ops2");
    Event(kParent, "block-ip", 1, kT0 + 21 * kSecond, "step_started", "attempt 1 of 2");
    Attempt(kParent, "block-ip", 1, journal::AttemptStatus::kFailed, kT0 + 21 * kSecond, kT0 + 22 * kSecond, 2, "",
            "ufw: permission denied\n", "exit code 2");
    Event(kParent, "block-ip", 1, kT0 + 22 * kSecond, "step_finished", "failed: exit code 2",
          R"({"status":"failed","exit_code":2})");
    Event(kParent, "block-ip", 1, kT0 + 22 * kSecond, "retry", "attempt 1 failed; attempt 2 in 30s");

    // The child run, while the parent waits to retry.
    Event(kChild, "", std::nullopt, kT0 + 30 * kSecond, "run_started", "run of db-check started by alice@ops1");
    Event(kChild, "query", 1, kT0 + 31 * kSecond, "step_started", "started");
    Attempt(kChild, "query", 1, journal::AttemptStatus::kSucceeded, kT0 + 31 * kSecond, kT0 + 33 * kSecond, 0,
            kChildOutput);
    Event(kChild, "query", 1, kT0 + 33 * kSecond, "step_finished", "succeeded",
          R"({"status":"succeeded","exit_code":0})");
    Event(kParent, "", std::nullopt, kT0 + 35 * kSecond, "note", kNoteText, R"({"author":"dave"})", "dave@laptop");
    Event(kChild, "", std::nullopt, kT0 + 40 * kSecond, "run_finished", "run succeeded", R"({"status":"succeeded"})");

    Event(kParent, "block-ip", 2, kT0 + 52 * kSecond, "step_started", "attempt 2 of 2");
    Attempt(kParent, "block-ip", 2, journal::AttemptStatus::kFailed, kT0 + 52 * kSecond, kT0 + 53 * kSecond, 2, "",
            "ufw: permission denied\n", "exit code 2");
    Event(kParent, "block-ip", 2, kT0 + 53 * kSecond, "step_finished", "failed: exit code 2",
          R"({"status":"failed","exit_code":2})");
    Attempt(kParent, "notify", 1, journal::AttemptStatus::kSkipped, kT0 + 54 * kSecond, kT0 + 54 * kSecond,
            std::nullopt, "", "", "needs 'block-ip' (failed)");
    Event(kParent, "notify", std::nullopt, kT0 + 54 * kSecond, "step_skipped", "skipped: needs 'block-ip' (failed)");
    Event(kParent, "", std::nullopt, kT0 + 60 * kSecond, "run_finished", "run failed: step(s) failed: block-ip",
          R"({"status":"failed","exit_code":1})");

    Event(kOther, "", std::nullopt, kT0 + 3600 * kSecond, "run_started", "unrelated");
    ASSERT_TRUE(journal_->SyncBlocking().ok());
  }

  void AddFinding(const std::string& run, const std::string& step, journal::FindingLevel level,
                  const std::string& message, const std::string& value, const std::string& threshold, int64_t ts) {
    journal::FindingRecord f;
    f.run_id = run;
    f.step_id = step;
    f.level = level;
    f.message = message;
    f.value = value;
    f.threshold = threshold;
    f.ts_us = ts;
    journal_->AddFinding(f);
    // The engine journals each finding as an event too; verify pairs them.
    std::string lvl(journal::ToString(level));
    boost::json::object data = {{"level", lvl}, {"value", value}, {"threshold", threshold}};
    Event(run, step, 1, ts, "finding", lvl + ": " + message, boost::json::serialize(data));
  }

  // What the CLI's describer would find in the parent's source.
  static std::vector<StepDefinition> Describe(const journal::RunRecord& run) {
    if (run.id != kParent) return {};
    return {{"contain", journal::Block::kMain, "Contain the breach", "shell", "systemctl stop app\necho contained", ""},
            {"block-ip", journal::Block::kMain, "Block the attacker", "shell", "ufw deny from \"$IP\"", ""},
            {"notify", journal::Block::kMain, "", "notify", "channel: log", ""},
            {"cleanup", journal::Block::kFinally, "Clean up", "shell", "rm -f /tmp/x", ""}};
  }

  BuildOptions Options(Selection selection) {
    BuildOptions o;
    o.selection = std::move(selection);
    o.describe = &ExportTest::Describe;
    o.excerpt_lines = 5;
    o.generator = "runbook test";
    o.now_us = kT0 + 7200 * kSecond;
    return o;
  }

  Result<ExportModel> Build(BuildOptions options) {
    if (!reader_) {
      auto r = EvidenceReader::Open(path_);
      if (!r.ok()) return r.status();
      reader_ = std::move(*r);
    }
    return BuildExportModel(*journal_, *reader_, options);
  }

  ExportModel Incident(const std::string& tz = "") {
    Selection s;
    s.incident = "INC-42";
    BuildOptions o = Options(s);
    auto t = TimeRenderer::ForZone(tz);
    EXPECT_TRUE(t.ok());
    if (t.ok()) o.times = *t;
    auto m = Build(o);
    EXPECT_TRUE(m.ok()) << m.status().message();
    return m.ok() ? std::move(*m) : ExportModel{};
  }

  std::string Render(Format format, const ExportModel& m) {
    std::ostringstream out;
    Status s = report::Render(format, m, *reader_, out);
    EXPECT_TRUE(s.ok()) << s.message();
    return out.str();
  }

  std::string dir_, path_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<EvidenceReader> reader_;
};

// Occurrences of `needle` in `hay`.
inline int Count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

}  // namespace runbook::report
