// `runbook journal export` end to end: real runbooks run by the real binary
// into a real journal — an incident of three runs (a failed, retried run with
// a finding and a note, a child run, a run whose step needed an approval) and
// an unrelated run — then exported in every format.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <tuple>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

constexpr char kTriage[] = R"(name: triage
title: Triage the outage
fail_on: never
steps:
  - id: check-disk
    title: Check disk usage
    run: |
      for i in $(seq 1 30); do echo "disk line $i"; done
      echo '<script>alert(1)</script>'
  - id: disk-alert
    needs: [check-disk]
    type: check
    value: "93"
    warn: "> 80"
    critical: "> 90"
    message: disk usage is high
  - id: restart
    needs: [check-disk]
    retry: {attempts: 2}
    run: |
      echo "restarting app" >&2
      exit 3
)";

constexpr char kChild[] = R"(name: db-check
steps:
  - id: query
    run: echo "rows=42"
)";

constexpr char kApproval[] = R"(name: block-ip
steps:
  - id: block
    approval: required
    run: echo "blocked 203.0.113.9"
)";

// RFC 4180 records.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

class ExportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string triage = box_.WriteRunbook("triage", kTriage);
    Outcome a = box_.Run({"--json", "run", triage, "--incident", "INC-1"});
    ASSERT_EQ(a.exit_code, 1) << a.Describe();
    triage_ = RunIdOf(a);
    Outcome b = box_.Run({"--json", "run", box_.WriteRunbook("db-check", kChild), "--incident", "INC-1",
                          "--trigger", "child", "--parent", triage_});
    ASSERT_EQ(b.exit_code, 0) << b.Describe();
    child_ = RunIdOf(b);
    Outcome n = box_.Run({"note", triage_, "Paged the DB team, \"urgent\"", "--as", "dave"});
    ASSERT_EQ(n.exit_code, 0) << n.Describe();
    Outcome c = box_.Run({"--json", "run", box_.WriteRunbook("block-ip", kApproval), "--incident", "INC-1"});
    ASSERT_EQ(c.exit_code, 3) << c.Describe();
    approval_ = RunIdOf(c);
    Outcome ap = box_.Run({"approve", approval_, "block", "--as", "carol", "--comment", "go ahead"});
    ASSERT_EQ(ap.exit_code, 0) << ap.Describe();
    Outcome r = box_.Run({"resume", approval_});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    Outcome other = box_.Run({"--json", "run", box_.Path("db-check.yaml")});
    ASSERT_EQ(other.exit_code, 0) << other.Describe();
    other_ = RunIdOf(other);
  }

  static std::string RunIdOf(const Outcome& o) {
    auto v = ParseJson(o.out, "--json output");
    return v ? JsonString(*v, "run_id") : "";
  }

  // The events of the incident's runs as the journal has them, in (ts, seq) order.
  std::vector<int64_t> IncidentSeqs() {
    auto j = box_.OpenJournal();
    std::vector<std::pair<int64_t, int64_t>> all;
    for (const auto& id : {triage_, child_, approval_}) {
      auto events = j->GetEvents(id);
      EXPECT_TRUE(events.ok());
      for (const auto& e : *events) all.emplace_back(e.ts_us, e.seq);
    }
    std::sort(all.begin(), all.end());
    std::vector<int64_t> seqs;
    for (const auto& p : all) seqs.push_back(p.second);
    return seqs;
  }

  CliSandbox box_;
  std::string triage_, child_, approval_, other_;
};

TEST_F(ExportCli, IncidentCsvHasEveryEventAndNoteOfItsThreeRunsInTimeOrder) {
  Outcome o = box_.Run({"journal", "export", "--incident", "INC-1", "--format", "csv"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto rows = ParseCsv(o.out);
  ASSERT_GT(rows.size(), 1u);
  std::vector<int64_t> seqs;
  int notes = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 11u) << i;
    seqs.push_back(std::stoll(rows[i][0]));
    EXPECT_NE(rows[i][2], other_);
    if (rows[i][6] == "note") {
      ++notes;
      EXPECT_EQ(rows[i][8], "Paged the DB team, \"urgent\"");
    }
  }
  EXPECT_EQ(seqs, IncidentSeqs());
  EXPECT_EQ(notes, 1);
}

TEST_F(ExportCli, MarkdownHasCommandsFindingsApprovalsAndNotes) {
  Outcome o = box_.Run({"journal", "export", "--incident", "INC-1", "--format", "md"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  const std::string& md = o.out;
  EXPECT_NE(md.find("# Post-incident review: Incident INC-1\n"), std::string::npos);
  // The commands come from the runbook source stored with each run.
  EXPECT_NE(md.find("```sh\nfor i in $(seq 1 30); do echo \"disk line $i\"; done\n"), std::string::npos) << md;
  EXPECT_NE(md.find("· failed\n\nshell · 2 attempts · exit code 3"), std::string::npos);
  EXPECT_NE(md.find("### Critical (1)\n\n- **disk usage is high** — step `disk-alert` of triage `" + triage_),
            std::string::npos);
  EXPECT_NE(md.find("| `" + approval_ + "` | `block` | **approved** | carol | "), std::string::npos);
  EXPECT_NE(md.find("| go ahead |"), std::string::npos);
  EXPECT_NE(md.find("**dave** ("), std::string::npos);
  EXPECT_NE(md.find("| `" + child_ + "` (child of `" + triage_ + "`) | db-check"), std::string::npos);
  EXPECT_NE(md.find("*… 11 lines omitted"), std::string::npos);
  EXPECT_NE(md.find("- Result: **verified**"), std::string::npos) << md;
  EXPECT_EQ(md.find(other_), std::string::npos);
}

TEST_F(ExportCli, JsonExportParsesWithTheDocumentedTopLevelKeys) {
  Outcome o = box_.Run({"journal", "export", triage_, "--format", "json"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto doc = ParseJson(o.out, "export");
  ASSERT_TRUE(doc);
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc->as_object()) keys.emplace_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"export_version", "generator", "generated_at", "timezone", "title",
                                            "selection", "journal", "summary", "runs", "findings", "approvals",
                                            "notes", "integrity", "review", "timeline", "outputs"}));
  EXPECT_EQ(doc->at("export_version"), 1);
  // A run id selects that run and its child run.
  EXPECT_EQ(doc->at("runs").as_array().size(), 2u);
  EXPECT_EQ(JsonString(doc->at("runs").at(1), "parent_run"), triage_);
  EXPECT_EQ(doc->at("runs").at(0).at("steps").at(2).at("attempts").as_array().size(), 2u);
}

TEST_F(ExportCli, OutputFileIsWrittenAtomicallyWithMode0600AndItsExtensionPicksTheFormat) {
  std::string path = box_.Path("review.html");
  Outcome o = box_.Run({"journal", "export", "--incident", "INC-1", "-o", path});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("wrote " + path + " (3 runs, "), std::string::npos) << o.err;
  std::string html = ReadFile(path);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const auto& e : std::filesystem::directory_iterator(box_.dir()))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(ExportCli, TzRendersLocalTimes) {
  Outcome utc = box_.Run({"journal", "export", triage_, "--no-children", "--format", "csv"});
  Outcome local = box_.Run({"journal", "export", triage_, "--no-children", "--format", "csv", "--tz", "Asia/Kolkata"});
  ASSERT_EQ(utc.exit_code, 0) << utc.Describe();
  ASSERT_EQ(local.exit_code, 0) << local.Describe();
  auto u = ParseCsv(utc.out), l = ParseCsv(local.out);
  ASSERT_EQ(u.size(), l.size());
  ASSERT_GT(u.size(), 1u);
  EXPECT_EQ(u[1][1].back(), 'Z');
  EXPECT_EQ(l[1][1].substr(l[1][1].size() - 6), "+05:30");
  EXPECT_NE(u[1][1].substr(0, 19), l[1][1].substr(0, 19));
}

TEST_F(ExportCli, ErrorsAreClearAndExitWithTheRightCode) {
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"ffffff"}, 2, "runbook: error: journal export: no run matches 'ffffff'\n"},
      {{"--incident", "INC-404"}, 1, "runbook: error: journal export: no runs of incident 'INC-404' in the journal\n"},
      {{"last", "--tz", "Mars/Base"}, 2,
       "runbook: error: journal export: unknown time zone 'Mars/Base' (use an IANA name such as Europe/Berlin, or "
       "UTC)\n"},
      {{}, 2,
       "runbook: error: journal export: say what to export: run ids, --incident ID, or --since TIME (exactly one of "
       "them)\n"},
      {{"last", "--incident", "INC-1"}, 2,
       "runbook: error: journal export: say what to export: run ids, --incident ID, or --since TIME (exactly one of "
       "them)\n"},
      {{"--until", "1h"}, 2, "runbook: error: journal export: --until needs --since\n"},
      {{"last", "--format", "pdf"}, 2, "runbook: error: journal export: unknown format 'pdf' (md, html, json or csv)\n"},
      {{"--since", "yesterday"}, 2,
       "runbook: error: journal export: invalid time 'yesterday' (use e.g. 2h, 7d, 2026-11-29 or "
       "2026-11-29T08:00:00Z)\n"},
      {{"--since", "2000-01-01", "--until", "2000-01-02"}, 1,
       "runbook: error: journal export: no runs started between 2000-01-01T00:00:00.000Z and "
       "2000-01-02T00:00:00.000Z\n"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"journal", "export"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Outcome o = box_.Run(args);
    EXPECT_EQ(o.exit_code, c.code) << o.Describe();
    EXPECT_EQ(o.err, c.message);
    EXPECT_EQ(o.out, "");
  }
  Outcome missing = box_.Run({"--journal", box_.Path("nope.db"), "journal", "export", "last"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "runbook: error: journal export: there is no journal at " + box_.Path("nope.db") + "\n");
  EXPECT_FALSE(FileExists(box_.Path("nope.db")));
}

// The issue's acceptance test: the HTML opens in headless Chromium without
// console errors, a screenshot lands in the test artefacts, and the DOM has
// the timeline and each step. Skipped where Chromium is not installed.
TEST_F(ExportCli, HtmlOpensInHeadlessChromium) {
  std::string chromium;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (FileExists(p)) chromium = p;
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  std::string html = box_.Path("review.html");
  ASSERT_EQ(box_.Run({"journal", "export", "--incident", "INC-1", "-o", html}).exit_code, 0);
  const char* artifacts_env = std::getenv("RUNBOOK_TEST_ARTIFACTS");
  std::string artifacts = artifacts_env ? artifacts_env : std::filesystem::current_path().string() + "/test-artifacts";
  std::filesystem::create_directories(artifacts);
  std::string shot = artifacts + "/export-incident.png";
  std::filesystem::remove(shot);
  std::vector<std::string> common = {chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                                     "--no-first-run", "--hide-scrollbars", "--user-data-dir=" + box_.Path("chrome"),
                                     "--enable-logging=stderr", "--v=0", "--window-size=1360,3000"};
  std::vector<std::string> env = {"HOME=" + box_.dir(), "PATH=/usr/bin:/bin"};

  std::vector<std::string> dump = common;
  dump.insert(dump.end(), {"--dump-dom", "file://" + html});
  Outcome d = RunbookProcess::Spawn(dump, env, box_.Path("dom.html"), box_.Path("dom.err"))->Wait(milliseconds(120000));
  ASSERT_EQ(d.exit_code, 0) << d.Describe();
  std::string dom = ReadFile(box_.Path("dom.html"));
  EXPECT_NE(dom.find("<table class=\"timeline\">"), std::string::npos);
  for (const auto& [run, step] : {std::pair{triage_, "check-disk"}, {triage_, "disk-alert"}, {triage_, "restart"},
                                  {child_, "query"}, {approval_, "block"}})
    EXPECT_NE(dom.find("id=\"step-" + run + "-" + step + "\""), std::string::npos) << step;
  size_t charts = 0;
  for (size_t p = dom.find("<svg class=\"gantt\""); p != std::string::npos; p = dom.find("<svg class=\"gantt\"", p + 1))
    ++charts;
  EXPECT_EQ(charts, 3u) << "one Gantt chart per run";
  std::string console = ReadFile(box_.Path("dom.err"));
  EXPECT_EQ(console.find("CONSOLE"), std::string::npos) << console;
  EXPECT_EQ(console.find("Failed to load resource"), std::string::npos) << console;

  std::vector<std::string> screenshot = common;
  screenshot.insert(screenshot.end(), {"--screenshot=" + shot, "file://" + html});
  Outcome s = RunbookProcess::Spawn(screenshot, env, box_.Path("shot.out"), box_.Path("shot.err"))
                  ->Wait(milliseconds(120000));
  ASSERT_EQ(s.exit_code, 0) << s.Describe();
  EXPECT_GT(ReadFile(shot).size(), 10000u) << shot;
}

// The acceptance's own oracles: Python's csv module reads the CSV into one
// row per event, and Python's jsonschema (Debian's python3-jsonschema)
// accepts the JSON export against docs/export-schema.json.
TEST_F(ExportCli, PythonsCsvAndJsonschemaAcceptTheExports) {
  const std::string python = "/usr/bin/python3";
  ASSERT_TRUE(FileExists(python)) << "python3 is installed by scripts/install-deps.sh --test";
  Outcome csv = box_.Run({"journal", "export", "--incident", "INC-1", "--format", "csv", "-o", box_.Path("t.csv")});
  ASSERT_EQ(csv.exit_code, 0) << csv.Describe();
  Outcome json = box_.Run({"journal", "export", "--incident", "INC-1", "--format", "json", "-o", box_.Path("t.json")});
  ASSERT_EQ(json.exit_code, 0) << json.Describe();
  box_.WriteFile("check.py", R"(import csv, json, sys
import jsonschema
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f))
print(len(rows) - 1)
with open(sys.argv[3]) as f:
    schema = json.load(f)
with open(sys.argv[2]) as f:
    jsonschema.validate(json.load(f), schema)
print("valid")
)");
  auto p = RunbookProcess::Spawn({python, box_.Path("check.py"), box_.Path("t.csv"), box_.Path("t.json"),
                                  std::string(RUNBOOK_SOURCE_DIR) + "/docs/export-schema.json"},
                                 {"PATH=/usr/bin:/bin"}, box_.Path("py.out"), box_.Path("py.err"));
  Outcome o = p->Wait();
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(o.out, std::to_string(IncidentSeqs().size()) + "\nvalid\n");
}

}  // namespace
}  // namespace runbook::clitest
