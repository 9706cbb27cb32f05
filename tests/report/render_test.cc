// The four export formats, rendered from the constructed incident.
#include <algorithm>
#include <fstream>
#include <regex>

#include "tests/report/export_fixture.h"
#include "tests/report/schema_check.h"

namespace runbook::report {
namespace {

// The text between "## title" and the next "## " heading.
std::string Section(const std::string& md, const std::string& title) {
  size_t start = md.find("\n## " + title);
  if (start == std::string::npos) return "";
  size_t end = md.find("\n## ", start + 4);
  return md.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
    pos = end + 1;
  }
  return out;
}

// RFC 4180 records (CRLF line ends, quoted fields with doubled quotes).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text, bool* crlf_only) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  *crlf_only = true;
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
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\r' || c == '\n') {
      if (c == '\n' || i + 1 >= text.size() || text[i + 1] != '\n') *crlf_only = false;
      if (c == '\r') ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  return rows;
}

std::string Base64Decode(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0, value = 0;
  for (char c : in) {
    if (c == '=') break;
    value = (value << 6) | static_cast<int>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xFF);
    }
  }
  return out;
}

// --- Markdown ----------------------------------------------------------------

TEST_F(ExportTest, MarkdownHasEverySectionInOrder) {
  FillIncident();
  std::string md = Render(Format::kMarkdown, Incident());
  EXPECT_EQ(md.rfind("# Post-incident review: Incident INC-42\n", 0), 0u) << md.substr(0, 200);
  size_t last = 0;
  for (const char* s : {"## Summary", "## Timeline", "## Actions taken", "## Findings", "## Approvals", "## Notes",
                        "## Outputs", "## Evidence integrity", "## Root cause", "## Lessons learned",
                        "## Process updates", "## Appendix A: full output", "## Appendix B: runbook sources"}) {
    size_t at = md.find(std::string("\n") + s + "\n");
    ASSERT_NE(at, std::string::npos) << s;
    EXPECT_GT(at, last) << s << " is out of order";
    last = at;
  }
  for (const char* s : {"Root cause", "Lessons learned", "Process updates"})
    EXPECT_NE(Section(md, s).find("_To be completed in the review._"), std::string::npos) << s;
  EXPECT_NE(Section(md, "Summary").find("| Outcome | **failed** |"), std::string::npos);
  EXPECT_NE(Section(md, "Summary").find("| Findings | 1 critical, 1 warning, 1 info |"), std::string::npos);
  EXPECT_NE(Section(md, "Summary").find("| `bbbb00000002` (child of `aaaa00000001`) | db-check"), std::string::npos);
}

TEST_F(ExportTest, MarkdownTimelineHasEveryEventOfBothRunsInTimeOrder) {
  FillIncident();
  std::string md = Render(Format::kMarkdown, Incident());
  std::vector<std::string> rows = LinesStartingWith(Section(md, "Timeline"), "| 2026-");
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end(), [](const std::string& a, const std::string& b) {
    return a.substr(0, 28) < b.substr(0, 28);
  }));
  EXPECT_EQ(rows[0].find("| 2026-03-01T09:00:00.000Z | `aaaa00000001` |  | `run_started` |"), 0u) << rows[0];
  // The child's events sit between the parent's retry and its second attempt.
  EXPECT_NE(rows[11].find("`bbbb00000002`"), std::string::npos) << rows[11];
  EXPECT_EQ(rows[14], "| 2026-03-01T09:00:35.000Z | `aaaa00000001` |  | **note** | dave@laptop | "
                      "Paged the DB team, \"urgent\"<br>second line, with comma |");
  EXPECT_NE(rows[16].find("| `block-ip` #2 | `step_started` |"), std::string::npos) << rows[16];
}

TEST_F(ExportTest, MarkdownActionsShowCommandsAttemptsAndExitCodes) {
  FillIncident();
  std::string actions = Section(Render(Format::kMarkdown, Incident()), "Actions taken");
  EXPECT_NE(actions.find("#### 2. `block-ip` — Block the attacker · failed\n\n"
                         "shell · 2 attempts · exit code 2 · 32.0s · started 2026-03-01T09:00:21.000Z\n\n"
                         "- attempt 1: failed, exit code 2, 1.0s — exit code 2\n"
                         "- attempt 2: failed, exit code 2, 1.0s — exit code 2\n\n"
                         "```sh\nufw deny from \"$IP\"\n```\n"),
            std::string::npos)
      << actions;
  EXPECT_NE(actions.find("```sh\nsystemctl stop app\necho contained\n```"), std::string::npos);
  EXPECT_NE(actions.find("Skipped: needs 'block-ip' (failed)"), std::string::npos);
  EXPECT_NE(actions.find("#### 4. `cleanup` — Clean up · not\\_run"), std::string::npos);
  EXPECT_NE(actions.find("Parameters: `{\"reason\":\"breach\",\"token\":\"***\"}`"), std::string::npos);
}

TEST_F(ExportTest, MarkdownFindingsApprovalsAndNotes) {
  FillIncident();
  std::string md = Render(Format::kMarkdown, Incident());
  std::string findings = Section(md, "Findings");
  size_t critical = findings.find("### Critical (1)");
  size_t warning = findings.find("### Warning (1)");
  size_t info = findings.find("### Info (1)");
  ASSERT_NE(critical, std::string::npos);
  EXPECT_LT(critical, warning);
  EXPECT_LT(warning, info);
  EXPECT_NE(findings.find("- **disk above 90%** — step `contain` of security-incident `aaaa00000001`, value "
                          "`93.5` (threshold `> 90`), 2026-03-01T09:00:04.000Z"),
            std::string::npos)
      << findings;
  EXPECT_NE(Section(md, "Approvals").find("| 2026-03-01T09:00:20.000Z | `aaaa00000001` | `block-ip` | **approved** | "
                                          "carol | carol@ops2 | `{\"ticket\":\"SEC-9\"}` | go ahead |"),
            std::string::npos)
      << Section(md, "Approvals");
  EXPECT_NE(Section(md, "Notes").find("- 2026-03-01T09:00:35.000Z — **dave** (dave@laptop) on `aaaa00000001`: "
                                      "Paged the DB team, \"urgent\" second line, with comma"),
            std::string::npos)
      << Section(md, "Notes");
}

TEST_F(ExportTest, MarkdownExcerptsOutputAndQuotesItInLongEnoughFences) {
  FillIncident();
  std::string md = Render(Format::kMarkdown, Incident());
  std::string outputs = Section(md, "Outputs");
  // The output holds a run of four backticks: its fences have five.
  EXPECT_NE(outputs.find("30 lines, " + std::to_string(ContainOutput().size()) + " bytes, SHA-256 `" +
                         journal::Sha256Hex(ContainOutput()) + "`\n\n`````\ncontain line 1\ncontain line 2\n"
                         "<script>alert(\"pwned\")</script>\ncontain line 4\n```` not a fence\n`````\n\n"
                         "*… 20 lines omitted"),
            std::string::npos)
      << outputs;
  std::string appendix = Section(md, "Appendix A: full output");
  EXPECT_NE(appendix.find("`````\n" + ContainOutput() + "`````\n"), std::string::npos);
  EXPECT_NE(appendix.find("```\nrows: \xEF\xBF\xBD\xEF\xBF\xBD ok\n```"), std::string::npos);
  EXPECT_NE(appendix.find("ufw: permission denied"), std::string::npos);
}

TEST_F(ExportTest, MarkdownEscapesJournaledTextOutsideCode) {
  FillIncident();
  Event(kParent, "", std::nullopt, kT0 + 59 * kSecond, "note", "a | b <img src=x> *c* [l](u)", "{}");
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  std::string md = Render(Format::kMarkdown, Incident());
  EXPECT_NE(md.find("a \\| b \\<img src=x\\> \\*c\\* \\[l\\](u)"), std::string::npos);
  EXPECT_EQ(md.find(" <img"), std::string::npos);
}

// --- HTML --------------------------------------------------------------------

TEST_F(ExportTest, HtmlIsOneSelfContainedFileWithoutScriptOrExternalReferences) {
  FillIncident();
  std::string html = Render(Format::kHtml, Incident());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
  std::string lower = html;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_EQ(lower.find("<script"), std::string::npos);
  EXPECT_EQ(lower.find("<link"), std::string::npos);
  EXPECT_EQ(lower.find("<img"), std::string::npos);
  EXPECT_EQ(lower.find("@import"), std::string::npos);
  EXPECT_EQ(lower.find("url("), std::string::npos);
  // Every src/href stays inside the document.
  std::regex ref(R"re(\b(src|href|xlink:href)\s*=\s*"([^"]*)")re");
  int refs = 0;
  for (auto it = std::sregex_iterator(lower.begin(), lower.end(), ref); it != std::sregex_iterator(); ++it) {
    ++refs;
    EXPECT_EQ((*it)[2].str().substr(0, 1), "#") << (*it)[0].str();
  }
  EXPECT_GT(refs, 10);
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"), std::string::npos);
}

TEST_F(ExportTest, HtmlHasAGanttChartPerRunWithABarPerAttempt) {
  FillIncident();
  std::string html = Render(Format::kHtml, Incident());
  EXPECT_EQ(Count(html, "<svg class=\"gantt\""), 2);
  EXPECT_EQ(Count(html, "<rect class=\"bar st-failed\""), 2);
  EXPECT_EQ(Count(html, "<rect class=\"bar st-succeeded\""), 2);
  EXPECT_EQ(Count(html, "<rect class=\"bar st-skipped\""), 1);
  EXPECT_EQ(Count(html, "<path class=\"mk sev-critical\""), 1);
  EXPECT_EQ(Count(html, "<circle class=\"mk dec-approved\""), 1);
  EXPECT_EQ(Count(html, "class=\"note-line\""), 1);
  for (const char* step : {"contain", "block-ip", "notify", "cleanup"})
    EXPECT_NE(html.find(std::string("<g class=\"step-row\" data-step=\"") + step + "\">"), std::string::npos) << step;
}

TEST_F(ExportTest, HtmlHasEverySectionStepEventAndCollapsibleOutput) {
  FillIncident();
  std::string html = Render(Format::kHtml, Incident());
  for (const char* id : {"summary", "gantt", "timeline", "actions", "findings", "approvals", "notes", "outputs",
                         "integrity", "review", "appendix"})
    EXPECT_NE(html.find(std::string("<section id=\"") + id + "\">"), std::string::npos) << id;
  EXPECT_EQ(Count(html, "<tr class=\"k-"), 20);
  EXPECT_EQ(Count(html, "<tr class=\"k-note\">"), 1);
  for (const char* step : {"aaaa00000001-contain", "aaaa00000001-block-ip", "aaaa00000001-notify",
                           "aaaa00000001-cleanup", "bbbb00000002-query"})
    EXPECT_NE(html.find(std::string("\" id=\"step-") + step + "\">"), std::string::npos) << step;
  EXPECT_EQ(Count(html, "<article class=\"step is-"), 5);
  EXPECT_NE(html.find("<article class=\"step is-failed\" id=\"step-aaaa00000001-block-ip\">"), std::string::npos);
  // 4 excerpts, their 4 full texts, 2 runbook sources.
  EXPECT_EQ(Count(html, "<details class=\"output\""), 10);
  EXPECT_NE(html.find("<div class=\"verdict good\">"), std::string::npos);
  EXPECT_NE(html.find("Paged the DB team, &quot;urgent&quot;\nsecond line, with comma"), std::string::npos);
  for (const char* s : {"Root cause", "Lessons learned", "Process updates"})
    EXPECT_NE(html.find(std::string("<div class=\"fill\"><h3>") + s + "</h3>"), std::string::npos) << s;
}

// --- JSON --------------------------------------------------------------------

boost::json::value ParseOrFail(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << text.substr(0, 500);
  return v;
}

TEST_F(ExportTest, JsonValidatesAgainstTheDocumentedSchema) {
  FillIncident();
  boost::json::value doc = ParseOrFail(Render(Format::kJson, Incident()));
  std::ifstream in(std::string(RUNBOOK_SOURCE_DIR) + "/docs/export-schema.json");
  ASSERT_TRUE(in) << "docs/export-schema.json is missing";
  std::string schema_text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::json::value schema = ParseOrFail(schema_text);
  for (const auto& e : schema::Checker(schema).Check(doc)) ADD_FAILURE() << e;
  EXPECT_EQ(doc.at("export_version"), 1);
}

TEST_F(ExportTest, JsonHoldsTheCompleteRecord) {
  FillIncident();
  boost::json::value doc = ParseOrFail(Render(Format::kJson, Incident()));
  const auto& timeline = doc.at("timeline").as_array();
  ASSERT_EQ(timeline.size(), 20u);
  for (size_t i = 1; i < timeline.size(); ++i)
    EXPECT_LE(timeline[i - 1].at("at").as_string(), timeline[i].at("at").as_string());
  EXPECT_EQ(doc.at("notes").at(0).at("text").as_string(), kNoteText);
  const auto& block = doc.at("runs").at(0).at("steps").at(1);
  EXPECT_EQ(block.at("id"), "block-ip");
  EXPECT_EQ(block.at("command"), "ufw deny from \"$IP\"");
  EXPECT_EQ(block.at("attempts").as_array().size(), 2u);
  EXPECT_EQ(block.at("attempts").at(1).at("exit_code"), 2);
  EXPECT_EQ(doc.at("approvals").at(0).at("inputs").at("ticket"), "SEC-9");
  EXPECT_EQ(doc.at("findings").at(0).at("level"), "critical");
  EXPECT_EQ(doc.at("summary").at("findings").at("warning"), 1);
  EXPECT_EQ(doc.at("integrity").at("ok"), true);
  // Full output: text when it is UTF-8, base64 of the exact bytes when not.
  int found = 0;
  for (const auto& o : doc.at("outputs").as_array()) {
    if (o.at("step_id") == "contain") {
      EXPECT_EQ(o.at("encoding"), "utf-8");
      EXPECT_EQ(o.at("text").as_string(), ContainOutput());
      ++found;
    }
    if (o.at("step_id") == "query") {
      EXPECT_EQ(o.at("encoding"), "base64");
      EXPECT_EQ(Base64Decode(std::string(o.at("data").as_string())), kChildOutput);
      ++found;
    }
  }
  EXPECT_EQ(found, 2);
  EXPECT_EQ(doc.at("outputs").as_array().size(), 4u);
}

// --- CSV ---------------------------------------------------------------------

TEST_F(ExportTest, CsvHasOneRfc4180RowPerEvent) {
  FillIncident();
  std::string csv = Render(Format::kCsv, Incident());
  bool crlf = false;
  auto rows = ParseCsv(csv, &crlf);
  EXPECT_TRUE(crlf);
  ASSERT_EQ(rows.size(), 21u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"seq", "time", "run_id", "runbook", "step_id", "attempt", "kind",
                                               "actor", "message", "data", "hash"}));
  for (const auto& r : rows) EXPECT_EQ(r.size(), 11u);
  const auto& note = rows[15];
  EXPECT_EQ(note[1], "2026-03-01T09:00:35.000000Z");
  EXPECT_EQ(note[6], "note");
  EXPECT_EQ(note[8], kNoteText);  // quotes, comma and line break survive
  EXPECT_EQ(note[9], R"({"author":"dave"})");
  EXPECT_EQ(rows[12][2], kChild);
  EXPECT_EQ(rows[12][3], "db-check");
  EXPECT_EQ(rows[1][10].size(), 64u) << "each row carries its chain hash";
  EXPECT_NE(csv.find("\"Paged the DB team, \"\"urgent\"\"\nsecond line, with comma\""), std::string::npos);
}

TEST_F(ExportTest, ManyEventsAreStreamedIntoTheExport) {
  FillIncident();
  for (int i = 0; i < 5000; ++i)
    Event(kChild, "query", 1, kT0 + 34 * kSecond + i, "warning", "warning " + std::to_string(i));
  ASSERT_TRUE(journal_->SyncBlocking().ok());
  std::string csv = Render(Format::kCsv, Incident());
  bool crlf = false;
  EXPECT_EQ(ParseCsv(csv, &crlf).size(), 20u + 5000u + 1u);
}

// --- Time zones --------------------------------------------------------------

TEST_F(ExportTest, TzRendersLocalTimesInEveryFormat) {
  FillIncident();
  ExportModel m = Incident("Europe/Berlin");
  std::string md = Render(Format::kMarkdown, m);
  EXPECT_NE(md.find("| 2026-03-01T10:00:00.000+01:00 | `aaaa00000001` |"), std::string::npos);
  EXPECT_NE(md.find("Times are in Europe/Berlin."), std::string::npos);
  EXPECT_EQ(Section(md, "Timeline").find("Z |"), std::string::npos);
  std::string html = Render(Format::kHtml, m);
  EXPECT_NE(html.find("2026-03-01T10:00:35.000+01:00"), std::string::npos);
  boost::json::value doc = ParseOrFail(Render(Format::kJson, m));
  EXPECT_EQ(doc.at("timezone"), "Europe/Berlin");
  EXPECT_EQ(doc.at("timeline").at(0).at("at"), "2026-03-01T10:00:00.000000+01:00");
  std::string csv = Render(Format::kCsv, m);
  EXPECT_NE(csv.find(",2026-03-01T10:00:35.000000+01:00,"), std::string::npos);

  std::string utc = Render(Format::kMarkdown, Incident());
  EXPECT_NE(utc.find("| 2026-03-01T09:00:00.000Z | `aaaa00000001` |"), std::string::npos);
}

}  // namespace
}  // namespace runbook::report
