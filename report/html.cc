// HTML: the review document as one self-contained file — inline CSS
// (report/html_style.cc), an inline SVG Gantt chart per run
// (report/html_gantt.cc), <details> for collapsible output, no script, no
// external reference of any kind. Every journaled string is sanitized and
// escaped (report/text.h) before it reaches the page.
#include <boost/json.hpp>
#include <map>
#include <ostream>

#include "report/html_parts.h"
#include "report/render.h"
#include "report/text.h"

namespace runbook::report {

namespace {

using html::ClassWord;
using html::H;

std::string Pill(std::string_view word, std::string_view prefix = "st-", bool big = false) {
  return "<span class=\"pill " + std::string(big ? "big " : "") + std::string(prefix) + ClassWord(word) + "\">" +
         H(word == "timed_out" ? "timed out" : word == "not_run" ? "not run" : word) + "</span>";
}

// A field of a stored JSON object ("" when absent or not a string).
std::string DataField(const std::string& data_json, std::string_view key) {
  if (data_json.size() < 3) return "";
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(data_json, ec);
  if (ec || !v.is_object()) return "";
  const boost::json::value* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string(f->as_string()) : "";
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

class HtmlWriter {
 public:
  HtmlWriter(const ExportModel& m, EvidenceReader& reader, std::ostream& out) : m_(m), reader_(reader), out_(out) {
    int i = 0;
    for (const auto& r : m.runs) {
      runs_[r.run.id] = &r;
      color_[r.run.id] = i++ % 6;
    }
  }

  Status Write() {
    Head();
    SummarySection();
    GanttSection();
    if (Status s = TimelineSection(); !s.ok()) return s;
    ActionsSection();
    FindingsSection();
    ApprovalsSection();
    NotesSection();
    OutputsSection();
    IntegritySection();
    ReviewSection();
    if (Status s = AppendixSection(); !s.ok()) return s;
    out_ << "</main>\n<footer>Generated " << H(T(m_.generated_at_us)) << " by " << H(m_.generator)
         << " (<code>runbook journal export</code>). Times are "
         << (m_.times.is_utc() ? "UTC" : "in " + H(m_.times.zone_name()))
         << ". This document is a rendering of the journal; the journal is the evidence.</footer>\n</body>\n</html>\n";
    return StreamStatus(out_);
  }

 private:
  std::string T(int64_t us) const { return m_.times.Format(us); }
  std::string T(std::optional<int64_t> us) const { return m_.times.Format(us, "—"); }

  std::string RunChip(const std::string& run_id) const {
    auto it = runs_.find(run_id);
    std::string rb = it == runs_.end() ? "" : it->second->run.runbook;
    int c = color_.count(run_id) ? color_.at(run_id) : 0;
    return "<span class=\"runchip rc" + std::to_string(c) + "\"><span class=\"rb\">" + H(rb) +
           "</span> <span class=\"id\">" + H(run_id) + "</span></span>";
  }

  void Head() {
    out_ << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"generator\" content=\""
         << H(m_.generator) << "\">\n<title>" << H("Post-incident review: " + m_.title) << "</title>\n<style>"
         << html::StyleSheet() << "</style>\n</head>\n<body>\n";
    std::string outcome(journal::ToString(m_.outcome()));
    out_ << "<header class=\"doc-header\"><div class=\"inner\">\n<div class=\"eyebrow\">Post-incident review</div>\n"
         << "<div class=\"headline\"><h1>" << H(m_.title) << "</h1>" << Pill(outcome, "st-", true) << "</div>\n"
         << "<div class=\"meta\">" << H(m_.selection_text) << " · " << Plural(static_cast<int64_t>(m_.runs.size()), "run", "runs")
         << " · " << H(T(m_.started_at_us)) << " → "
         << (m_.finished_at_us ? H(T(m_.finished_at_us)) : "still running") << "<br>Generated " << H(T(m_.generated_at_us))
         << " by " << H(m_.generator) << " from <code>" << H(m_.journal_path) << "</code> · times "
         << (m_.times.is_utc() ? "in UTC" : "in " + H(m_.times.zone_name())) << "</div>\n</div></header>\n";
    out_ << "<nav class=\"toc\"><div class=\"inner\">";
    for (auto [id, name] : {std::pair{"summary", "Summary"}, {"gantt", "Step timeline"}, {"timeline", "Events"},
                            {"actions", "Actions"}, {"findings", "Findings"}, {"approvals", "Approvals"},
                            {"notes", "Notes"}, {"outputs", "Outputs"}, {"integrity", "Integrity"},
                            {"review", "Review"}, {"appendix", "Appendix"}})
      out_ << "<a href=\"#" << id << "\">" << name << "</a>";
    out_ << "</div></nav>\n<main>\n";
  }

  void Card(const std::string& key, const std::string& value_html, const std::string& sub_html,
            const char* tone = "") {
    out_ << "<div class=\"card " << tone << "\"><div class=\"k\">" << H(key) << "</div><div class=\"v\">" << value_html
         << "</div>" << (sub_html.empty() ? "" : "<div class=\"s\">" + sub_html + "</div>") << "</div>\n";
  }

  void SummarySection() {
    FindingCounts fc = CountFindings(m_);
    std::map<std::string, int> steps;
    int step_total = 0;
    for (const auto& r : m_.runs)
      for (const auto& a : r.actions) {
        ++steps[a.status];
        ++step_total;
      }
    journal::RunStatus outcome = m_.outcome();
    out_ << "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cards\">\n";
    Card("Outcome", H(std::string(journal::ToString(outcome))), Plural(static_cast<int64_t>(m_.runs.size()), "run", "runs"),
         outcome == journal::RunStatus::kSucceeded ? "good" : outcome == journal::RunStatus::kFailed ? "bad" : "");
    std::string span = SpanText(m_.started_at_us, m_.finished_at_us);
    Card("Duration", span.empty() ? "—" : H(span),
         m_.started_at_us ? H(m_.times.TimeOfDay(*m_.started_at_us)) + " → " +
                                (m_.finished_at_us ? H(m_.times.TimeOfDay(*m_.finished_at_us)) : "still running")
                          : "");
    std::string step_sub;
    for (const auto& [status, n] : steps) step_sub += (step_sub.empty() ? "" : " · ") + std::to_string(n) + " " + H(status);
    int failed = steps["failed"] + steps["timed_out"];
    Card("Steps", std::to_string(step_total), step_sub, failed ? "bad" : "");
    Card("Findings", std::to_string(m_.findings.size()),
         std::to_string(fc.critical) + " critical · " + std::to_string(fc.warning) + " warning · " +
             std::to_string(fc.info) + " info",
         fc.critical ? "bad" : "");
    Card("Approvals", std::to_string(m_.approvals.size()), "", "");
    Card("Notes", std::to_string(m_.notes.size()), "", "");
    Card("Events", std::to_string(m_.events.count), "journaled", "");
    const Integrity& x = m_.integrity;
    Card("Evidence", !x.verified ? "not verified" : x.ok ? "verified" : "BROKEN",
         !x.verified ? H(x.error) : x.ok ? "hash chain &amp; hashes ok" : Plural(x.problem_count, "problem", "problems"),
         !x.verified ? "" : x.ok ? "good" : "bad");
    out_ << "</div>\n";

    out_ << "<div class=\"table-wrap\"><table class=\"runs\"><thead><tr><th>Run</th><th>Title</th><th>Trigger</th>"
            "<th>Actor</th><th>Started</th><th>Duration</th><th>Status</th><th>Exit</th></tr></thead><tbody>\n";
    for (const auto& v : m_.runs) {
      const auto& r = v.run;
      out_ << "<tr><td><a href=\"#run-" << H(r.id) << "\">" << RunChip(r.id) << "</a>";
      if (!r.parent_run.empty()) out_ << "<div class=\"child-of\">child of " << H(r.parent_run) << "</div>";
      out_ << "</td><td>" << H(r.title) << "</td><td>" << H(std::string(journal::ToString(r.trigger)))
           << "</td><td>" << H(r.actor) << "</td><td class=\"t\">" << H(T(r.started_at_us)) << "</td><td class=\"num\">"
           << H(SpanText(r.started_at_us, r.finished_at_us)) << "</td><td>"
           << Pill(std::string(journal::ToString(r.status))) << "</td><td class=\"num\">" << H(ExitText(r.exit_code))
           << "</td></tr>\n";
      if (!r.error.empty())
        out_ << "<tr><td></td><td colspan=\"7\" class=\"msg error\">" << H(r.error) << "</td></tr>\n";
    }
    out_ << "</tbody></table></div>\n</section>\n";
  }

  void GanttSection() {
    out_ << "<section id=\"gantt\"><h2>Step timeline</h2>\n<p class=\"lead\">One chart per run: a row per step, a "
            "bar per attempt, on a time axis from the run's start. Hover for details.</p>\n<div class=\"gantt-legend\">";
    for (auto [cls, color, label] : {std::tuple{"succeeded", "#2da44e", "succeeded"}, {"failed", "#cf222e", "failed"},
                                     {"timed_out", "#e16f24", "timed out"}, {"cancelled", "#bf8700", "cancelled"},
                                     {"skipped", "#afb8c1", "skipped"}, {"running", "#54aeff", "running"},
                                     {"waiting", "#a475f9", "waiting"}}) {
      (void)cls;
      out_ << "<span style=\"--sw:" << color << "\">" << label << "</span>";
    }
    out_ << "<span style=\"--sw:#a40e26\">finding (◆)</span><span style=\"--sw:#1a7f37\">approval (●)</span>"
            "<span style=\"--sw:#b08800\">note (dashed line)</span></div>\n";
    for (const auto& v : m_.runs) {
      out_ << "<figure class=\"gantt\"><figcaption>" << RunChip(v.run.id) << " "
           << Pill(std::string(journal::ToString(v.run.status))) << "<span class=\"when\">" << H(T(v.run.started_at_us))
           << (v.run.finished_at_us ? " · " + H(SpanText(v.run.started_at_us, v.run.finished_at_us)) : "")
           << "</span></figcaption>\n";
      html::WriteGantt(m_, v, out_);
      out_ << "</figure>\n";
    }
    out_ << "</section>\n";
  }

  Status TimelineSection() {
    out_ << "<section id=\"timeline\"><h2>Event timeline</h2>\n<p class=\"lead\">Every journaled event and note of "
         << Plural(static_cast<int64_t>(m_.runs.size()), "run", "runs") << " in time order ("
         << m_.events.count << " events).</p>\n"
         << "<table class=\"timeline\"><thead><tr><th>Time</th><th>Run</th><th>Step</th>"
            "<th>Event</th><th>Actor</th><th>Details</th></tr></thead><tbody>\n";
    Status s = reader_.ForEachEvent(m_.run_ids(), [this](const journal::EventRecord& e) {
      std::string badge = "kind k-" + ClassWord(e.kind);
      if (e.kind == "step_finished" || e.kind == "run_finished") badge += " st-" + ClassWord(DataField(e.data_json, "status"));
      if (e.kind == "finding") badge += " sev-" + ClassWord(DataField(e.data_json, "level"));
      out_ << "<tr class=\"k-" << ClassWord(e.kind) << "\"><td class=\"t\">" << H(T(e.ts_us)) << "</td><td>"
           << RunChip(e.run_id) << "</td><td>" << (e.step_id.empty() ? "" : "<code>" + H(e.step_id) + "</code>")
           << (e.attempt && *e.attempt > 1 ? " <span class=\"child-of\">#" + std::to_string(*e.attempt) + "</span>" : "")
           << "</td><td><span class=\"" << badge << "\">" << H(e.kind) << "</span></td><td>" << H(e.actor)
           << "</td><td class=\"msg\">" << H(e.message) << "</td></tr>\n";
      return StreamStatus(out_);
    });
    out_ << "</tbody></table>\n</section>\n";
    return s;
  }

  void ActionsSection() {
    out_ << "<section id=\"actions\"><h2>Actions taken</h2>\n<p class=\"lead\">Each step of each run in the order it "
            "started, with the command or request as the runbook defines it (expressions unexpanded; the parameters "
            "are listed per run).</p>\n";
    for (const auto& v : m_.runs) {
      const auto& r = v.run;
      out_ << "<h3 id=\"run-" << H(r.id) << "\">" << RunChip(r.id) << " " << H(r.title) << "</h3>\n<dl class=\"runmeta\">"
           << "<dt>Status</dt><dd>" << Pill(std::string(journal::ToString(r.status)))
           << (r.exit_code ? " exit code " + std::to_string(*r.exit_code) : "") << "</dd>"
           << "<dt>Started by</dt><dd>" << H(r.actor) << " (" << H(std::string(journal::ToString(r.trigger)))
           << ") on " << H(r.process.host) << "</dd>"
           << "<dt>Incident</dt><dd>" << H(r.incident.empty() ? "—" : r.incident) << "</dd>";
      if (!r.parent_run.empty()) out_ << "<dt>Parent run</dt><dd><a href=\"#run-" << H(r.parent_run) << "\">" << H(r.parent_run) << "</a></dd>";
      out_ << "<dt>Parameters</dt><dd><code>" << H(r.params_json) << "</code></dd>";
      if (!r.outputs_json.empty() && r.outputs_json != "{}") out_ << "<dt>Outputs</dt><dd><code>" << H(r.outputs_json) << "</code></dd>";
      out_ << "<dt>Source</dt><dd><code>" << H(r.source_path) << "</code> <span class=\"hash\">sha256 "
           << H(r.content_hash) << "</span></dd></dl>\n";
      if (v.actions.empty()) out_ << "<p class=\"empty\">No steps ran.</p>\n";
      int n = 0;
      for (const auto& a : v.actions) Step(++n, a);
    }
    out_ << "</section>\n";
  }

  void Step(int n, const Action& a) {
    out_ << "<article class=\"step is-" << ClassWord(a.status) << "\" id=\"step-" << H(a.run_id) << "-" << H(a.step_id)
         << "\"><div class=\"step-head\"><span class=\"n\">" << n << "</span>" << Pill(a.status) << "<code class=\"sid\">"
         << H(a.step_id) << "</code><span class=\"title\">" << H(a.title) << "</span></div>\n";
    std::vector<std::string> facts;
    if (!a.type.empty()) facts.push_back(H(a.type));
    if (a.block != journal::Block::kMain) facts.push_back("in " + H(std::string(journal::ToString(a.block))));
    if (a.status == "skipped") {
      if (a.started_at_us) facts.push_back("at " + H(T(a.started_at_us)));
    } else if (!a.attempts.empty()) {
      facts.push_back(Plural(static_cast<int64_t>(a.attempts.size()), "attempt", "attempts"));
      const auto& last = a.attempts.back().record;
      if (last.exit_code) facts.push_back("exit code " + std::to_string(*last.exit_code));
      std::string span = SpanText(a.started_at_us, a.finished_at_us);
      if (!span.empty()) facts.push_back(H(span));
      if (a.started_at_us) facts.push_back("started " + H(T(a.started_at_us)));
    }
    if (!facts.empty()) {
      out_ << "<div class=\"facts\">";
      for (size_t i = 0; i < facts.size(); ++i) out_ << (i ? "<span class=\"sep\">·</span>" : "") << facts[i];
      out_ << "</div>\n";
    }
    if (!a.command.empty()) out_ << "<pre class=\"cmd\"><code>" << H(a.command) << "</code></pre>\n";
    if (a.attempts.size() > 1) {
      out_ << "<table class=\"attempts\"><thead><tr><th>Attempt</th><th>Status</th><th>Started</th><th>Duration</th>"
              "<th>Exit</th><th>Error</th></tr></thead><tbody>";
      for (const auto& v : a.attempts) {
        const auto& at = v.record;
        out_ << "<tr><td class=\"num\">" << at.attempt << "</td><td>" << Pill(std::string(journal::ToString(at.status)))
             << "</td><td class=\"t\">" << H(T(at.started_at_us)) << "</td><td class=\"num\">"
             << H(SpanText(at.started_at_us, at.finished_at_us)) << "</td><td class=\"num\">" << H(ExitText(at.exit_code))
             << "</td><td class=\"msg\">" << H(at.error) << "</td></tr>";
      }
      out_ << "</tbody></table>\n";
    } else if (!a.attempts.empty() && !a.attempts.back().record.error.empty()) {
      bool skipped = a.status == "skipped";
      out_ << "<div class=\"" << (skipped ? "facts" : "error") << "\">" << (skipped ? "skipped: " : "")
           << H(a.attempts.back().record.error) << "</div>\n";
    }
    std::string links;
    for (const auto& v : a.attempts)
      for (const auto& x : v.outputs)
        links += "<a href=\"#" + H(OutputAnchor(a.run_id, a.step_id, v.record.attempt, x.stream)) + "\">" +
                 H(std::string(StreamName(x.stream))) + (a.attempts.size() > 1 ? " #" + std::to_string(v.record.attempt) : "") +
                 " (" + Plural(x.lines, "line", "lines") + ")</a>";
    if (!links.empty()) out_ << "<div class=\"outlinks\">Output: " << links << "</div>\n";
    out_ << "</article>\n";
  }

  void FindingsSection() {
    out_ << "<section id=\"findings\"><h2>Findings by severity</h2>\n";
    if (m_.findings.empty()) out_ << "<p class=\"empty\">No findings.</p>\n";
    for (auto level : {journal::FindingLevel::kCritical, journal::FindingLevel::kWarning, journal::FindingLevel::kInfo}) {
      int count = 0;
      for (const auto& f : m_.findings) count += f.level == level;
      if (count == 0) continue;
      std::string name(journal::ToString(level));
      out_ << "<h3>" << Pill(name, "sev-") << " " << count << "</h3>\n";
      for (const auto& f : m_.findings) {
        if (f.level != level) continue;
        out_ << "<div class=\"finding lvl-" << ClassWord(name) << "\"><div class=\"msg\">" << H(f.message)
             << "</div><div class=\"meta\"><code>" << H(f.step_id) << "</code> of " << RunChip(f.run_id);
        if (!f.value.empty()) out_ << " · value <code>" << H(f.value) << "</code>";
        if (!f.threshold.empty()) out_ << " (threshold <code>" << H(f.threshold) << "</code>)";
        out_ << " · " << H(T(f.ts_us)) << "</div></div>\n";
      }
    }
    out_ << "</section>\n";
  }

  void ApprovalsSection() {
    out_ << "<section id=\"approvals\"><h2>Approvals</h2>\n";
    if (m_.approvals.empty()) {
      out_ << "<p class=\"empty\">No approvals were decided.</p>\n</section>\n";
      return;
    }
    out_ << "<div class=\"table-wrap\"><table><thead><tr><th>Time</th><th>Run</th><th>Step</th><th>Decision</th>"
            "<th>Approver</th><th>OS user</th><th>Inputs</th><th>Comment</th></tr></thead><tbody>\n";
    for (const auto& a : m_.approvals) {
      out_ << "<tr><td class=\"t\">" << H(T(a.ts_us)) << "</td><td>" << RunChip(a.run_id) << "</td><td><code>"
           << H(a.step_id) << "</code></td><td>" << Pill(std::string(journal::ToString(a.decision)), "dec-")
           << "</td><td><b>" << H(a.approver) << "</b></td><td>" << H(a.os_user) << "</td><td>"
           << (a.inputs_json.empty() || a.inputs_json == "{}" ? "" : "<code>" + H(a.inputs_json) + "</code>")
           << "</td><td class=\"msg\">" << H(a.comment) << "</td></tr>\n";
    }
    out_ << "</tbody></table></div>\n</section>\n";
  }

  void NotesSection() {
    out_ << "<section id=\"notes\"><h2>Notes</h2>\n";
    if (m_.notes.empty()) {
      out_ << "<p class=\"empty\">No notes were added.</p>\n</section>\n";
      return;
    }
    out_ << "<ul class=\"notes\">\n";
    for (const auto& n : m_.notes) {
      out_ << "<li><div class=\"meta\">" << H(T(n.ts_us)) << " · <b>" << H(n.author) << "</b> (" << H(n.actor)
           << ") on " << RunChip(n.run_id)
           << (n.step_id.empty() ? "" : " step <code>" + H(n.step_id) + "</code>") << "</div><div class=\"text\">"
           << H(n.text) << "</div></li>\n";
    }
    out_ << "</ul>\n</section>\n";
  }

  void OutputsSection() {
    out_ << "<section id=\"outputs\"><h2>Outputs</h2>\n<p class=\"lead\">The first and last " << m_.excerpt_lines
         << " lines of each captured stream (open a block to read it); the full text is in the appendix.</p>\n";
    bool any = false;
    for (const auto& r : m_.runs)
      for (const auto& a : r.actions)
        for (const auto& v : a.attempts)
          for (const auto& x : v.outputs) {
            any = true;
            // The last attempt of a step that failed is open; the rest folded.
            bool bad = &v == &a.attempts.back() && (v.record.status == journal::AttemptStatus::kFailed ||
                                                     v.record.status == journal::AttemptStatus::kTimedOut);
            out_ << "<details class=\"output\" id=\"" << H(OutputAnchor(a.run_id, a.step_id, v.record.attempt, x.stream))
                 << "\"" << (bad ? " open" : "") << "><summary>";
            Summary(r, a, v, x);
            out_ << "</summary><div class=\"body\"><pre>";
            for (const auto& l : x.head) out_ << H(l) << "\n";
            out_ << "</pre>";
            if (x.omitted_lines > 0)
              out_ << "<p class=\"omitted\">… " << Plural(x.omitted_lines, "line", "lines")
                   << " omitted — <a href=\"#full-" << H(OutputAnchor(a.run_id, a.step_id, v.record.attempt, x.stream))
                   << "\">full text</a> …</p>";
            if (!x.tail.empty()) {
              out_ << "<pre>";
              for (const auto& l : x.tail) out_ << H(l) << "\n";
              out_ << "</pre>";
            }
            out_ << "</div></details>\n";
          }
    if (!any) out_ << "<p class=\"empty\">No output was captured.</p>\n";
    out_ << "</section>\n";
  }

  void Summary(const RunView& r, const Action& a, const AttemptView& v, const OutputExcerpt& x) {
    out_ << "<code>" << H(a.step_id) << "</code> · attempt " << v.record.attempt << " · <b>"
         << H(std::string(StreamName(x.stream))) << "</b><span class=\"meta\">" << RunChip(r.run.id) << " · "
         << Plural(x.lines, "line", "lines") << " · " << x.bytes << " bytes"
         << (x.sha256.empty() ? "" : " · sha256 " + H(x.sha256.substr(0, 16)) + "…") << "</span>";
  }

  void IntegritySection() {
    const Integrity& x = m_.integrity;
    out_ << "<section id=\"integrity\"><h2>Evidence integrity</h2>\n";
    if (!x.verified) {
      out_ << "<div class=\"verdict unknown\"><span class=\"mark\">?</span><div><b>The journal could not be "
              "verified.</b> "
           << H(x.error) << "</div></div>\n";
    } else if (x.ok) {
      out_ << "<div class=\"verdict good\"><span class=\"mark\">✓</span><div><b>Verified.</b> The hash chain of all "
           << x.events_checked << " events is intact, SQLite's integrity check passed, and the runbook sources and "
           << "captured output match their recorded SHA-256 hashes.</div></div>\n";
    } else {
      out_ << "<div class=\"verdict bad\"><span class=\"mark\">✗</span><div><b>Verification FAILED</b> with "
           << Plural(x.problem_count, "problem", "problems")
           << ". The record may have been altered after it was written; treat this document accordingly.</div></div>\n";
    }
    if (x.verified) {
      out_ << "<dl class=\"runmeta\"><dt>Events checked</dt><dd>" << x.events_checked
           << " (the chain covers the whole journal)</dd><dt>Chain head</dt><dd>event " << x.head_seq
           << " <span class=\"hash\">" << H(x.head_hash) << "</span></dd><dt>Runs checked</dt><dd>" << x.runs_checked
           << "</dd><dt>Output re-hashed</dt><dd>" << Plural(x.attempts_checked, "attempt", "attempts") << "</dd>";
      if (x.pruned_gaps) out_ << "<dt>Pruned ranges</dt><dd>" << x.pruned_gaps << " covered by prune checkpoints</dd>";
      if (x.legacy_events) out_ << "<dt>Unchained events</dt><dd>" << x.legacy_events << " written before the chain existed</dd>";
      if (x.first_bad_seq) out_ << "<dt>First broken event</dt><dd>seq " << x.first_bad_seq << "</dd>";
      out_ << "</dl>\n";
      if (!x.problems.empty()) {
        out_ << "<ul class=\"problems\">";
        for (const auto& p : x.problems) out_ << "<li>" << H(p) << "</li>";
        if (x.problem_count > static_cast<int64_t>(x.problems.size()))
          out_ << "<li>… <code>runbook journal verify</code> lists them all</li>";
        out_ << "</ul>\n";
      }
    }
    out_ << "<h3>Runbook sources</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>Run</th><th>Source</th>"
            "<th>Recorded SHA-256</th><th>Recomputed</th><th></th></tr></thead><tbody>\n";
    for (const auto& s : x.sources)
      out_ << "<tr><td>" << RunChip(s.run_id) << "</td><td><code>" << H(s.source_path) << "</code></td><td class=\"hash\">"
           << H(s.recorded_sha256) << "</td><td class=\"hash\">" << H(s.computed_sha256) << "</td><td>"
           << (s.ok() ? "<span class=\"match\">match</span>" : "<span class=\"mismatch\">MISMATCH</span>") << "</td></tr>\n";
    out_ << "</tbody></table></div>\n</section>\n";
  }

  void ReviewSection() {
    out_ << "<section id=\"review\"><h2>Review</h2>\n";
    for (const char* s : {"Root cause", "Lessons learned", "Process updates"})
      out_ << "<div class=\"fill\"><h3>" << s << "</h3><p>To be completed in the review.</p></div>\n";
    out_ << "</section>\n";
  }

  Status AppendixSection() {
    out_ << "<section id=\"appendix\"><h2>Appendix</h2>\n<h3>A. Full output</h3>\n";
    bool any = false;
    for (const auto& r : m_.runs)
      for (const auto& a : r.actions)
        for (const auto& v : a.attempts)
          for (const auto& x : v.outputs) {
            any = true;
            out_ << "<details class=\"output\" id=\"full-" << H(OutputAnchor(a.run_id, a.step_id, v.record.attempt, x.stream))
                 << "\"><summary>";
            Summary(r, a, v, x);
            out_ << "</summary><div class=\"body\"><pre class=\"wrap\">";
            Utf8Sanitizer clean(ControlChars::kPicture);
            std::string buf;
            Status s = reader_.ForEachChunk(r.run.id, a.step_id, v.record.attempt, x.stream, [&](std::string_view d) {
              buf.clear();
              clean.Feed(d, buf);
              out_ << HtmlEscape(buf);
              return StreamStatus(out_);
            });
            if (!s.ok()) return s;
            buf.clear();
            clean.Finish(buf);
            out_ << HtmlEscape(buf) << "</pre></div></details>\n";
          }
    if (!any) out_ << "<p class=\"empty\">No output was captured.</p>\n";
    out_ << "<h3>B. Runbook sources</h3>\n";
    std::map<std::string, bool> shown;
    for (const auto& v : m_.runs) {
      const auto& r = v.run;
      if (shown[r.content_hash]) continue;
      shown[r.content_hash] = true;
      out_ << "<details class=\"output\"><summary><b>" << H(r.runbook) << "</b><span class=\"meta\"><code>"
           << H(r.source_path) << "</code> · sha256 " << H(r.content_hash.substr(0, 16))
           << "…</span></summary><div class=\"body\"><pre>" << H(r.source_text) << "</pre></div></details>\n";
    }
    out_ << "</section>\n";
    return Status::Ok();
  }

  const ExportModel& m_;
  EvidenceReader& reader_;
  std::ostream& out_;
  std::map<std::string, const RunView*> runs_;
  std::map<std::string, int> color_;
};

}  // namespace

Status RenderHtml(const ExportModel& model, EvidenceReader& reader, std::ostream& out) {
  return HtmlWriter(model, reader, out).Write();
}

}  // namespace runbook::report
