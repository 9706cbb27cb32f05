// Markdown (CommonMark with GitHub tables): the review document as text that
// reads well both raw and rendered. Every piece of journaled text is escaped
// (backslashes for Markdown punctuation, so no raw HTML gets through), output
// goes in fences longer than any backtick run inside it.
#include <algorithm>
#include <map>
#include <ostream>

#include "report/render.h"
#include "report/text.h"

namespace runbook::report {

namespace {

// Inline text: Markdown punctuation escaped; line breaks become `<br>` in
// table cells, spaces elsewhere.
std::string Esc(std::string_view raw, bool cell = false) {
  std::string text = Sanitize(raw);
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '\\': case '`': case '*': case '_': case '[': case ']': case '<': case '>':
      case '|': case '~': case '&': case '#': case '!':
        out += '\\';
        out += c;
        break;
      case '\n': out += cell ? "<br>" : " "; break;
      case '\t': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

int LongestBacktickRun(std::string_view s) {
  int best = 0, run = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

// A code span; pipes escaped inside tables (GitHub reads `\|` there as `|`).
std::string Code(std::string_view raw, bool cell = false) {
  if (raw.empty()) return "";
  std::string text = Sanitize(raw);
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::string ticks(LongestBacktickRun(text) + 1, '`');
  bool pad = text.front() == '`' || text.back() == '`' || text.front() == ' ';
  std::string body;
  for (char c : text) {
    if (cell && c == '|') body += '\\';
    body += c;
  }
  return ticks + (pad ? " " : "") + body + (pad ? " " : "") + ticks;
}

std::string Fence(int longest_backtick_run) { return std::string(std::max(3, longest_backtick_run + 1), '`'); }

// A fenced block of already sanitized text.
void Block(std::ostream& out, std::string_view text, std::string_view info = "") {
  std::string fence = Fence(LongestBacktickRun(text));
  out << fence << info << "\n" << text;
  if (text.empty() || text.back() != '\n') out << "\n";
  out << fence << "\n\n";
}

std::string Or(const std::string& s, const char* fallback) { return s.empty() ? fallback : s; }

std::string LanguageOf(const std::string& type) {
  if (type == "shell" || type == "exec") return "sh";
  if (type == "sql") return "sql";
  return "text";
}

class MarkdownWriter {
 public:
  MarkdownWriter(const ExportModel& m, EvidenceReader& reader, std::ostream& out) : m_(m), reader_(reader), out_(out) {
    for (const auto& r : m.runs) runs_[r.run.id] = &r;
  }

  Status Write() {
    Header();
    Summary();
    if (Status s = Timeline(); !s.ok()) return s;
    Actions();
    Findings();
    Approvals();
    Notes();
    Outputs();
    IntegritySection();
    Review();
    if (Status s = OutputAppendix(); !s.ok()) return s;
    SourceAppendix();
    return StreamStatus(out_);
  }

 private:
  std::string T(int64_t us) const { return m_.times.Format(us); }
  std::string T(std::optional<int64_t> us) const { return m_.times.Format(us, "—"); }
  std::string Runbook(const std::string& run_id) const {
    auto it = runs_.find(run_id);
    return it == runs_.end() ? "" : it->second->run.runbook;
  }

  void Header() {
    out_ << "# Post-incident review: " << Esc(m_.title) << "\n\n";
    out_ << "Generated " << T(m_.generated_at_us) << " by " << Esc(m_.generator) << " from the journal "
         << Code(m_.journal_path) << ". Times are " << (m_.times.is_utc() ? "UTC" : "in " + Esc(m_.times.zone_name()))
         << ". Selection: " << Esc(m_.selection_text) << ".\n\n";
  }

  void Summary() {
    FindingCounts fc = CountFindings(m_);
    std::map<std::string, int> by_status;
    for (const auto& r : m_.runs) ++by_status[std::string(journal::ToString(r.run.status))];
    std::string runs = std::to_string(m_.runs.size()) + " (";
    bool first = true;
    for (const auto& [status, n] : by_status) {
      runs += (first ? "" : ", ") + std::to_string(n) + " " + status;
      first = false;
    }
    runs += ")";
    out_ << "## Summary\n\n| | |\n|---|---|\n";
    out_ << "| Outcome | **" << journal::ToString(m_.outcome()) << "** |\n";
    auto incidents = m_.incidents();
    std::string inc;
    for (const auto& i : incidents) inc += (inc.empty() ? "" : ", ") + Code(i, true);
    out_ << "| Incident | " << Or(inc, "—") << " |\n";
    out_ << "| Runs | " << runs << " |\n";
    out_ << "| Started | " << T(m_.started_at_us) << " |\n";
    out_ << "| Ended | " << (m_.finished_at_us ? T(m_.finished_at_us) : "still running") << " |\n";
    out_ << "| Duration | " << Or(SpanText(m_.started_at_us, m_.finished_at_us), "—") << " |\n";
    out_ << "| Findings | " << fc.critical << " critical, " << fc.warning << " warning, " << fc.info << " info |\n";
    out_ << "| Approvals | " << m_.approvals.size() << " |\n";
    out_ << "| Notes | " << m_.notes.size() << " |\n";
    out_ << "| Events | " << m_.events.count << " |\n";
    out_ << "| Evidence | " << IntegrityVerdict() << " |\n\n";

    out_ << "### Runs\n\n| Run | Runbook | Trigger | Actor | Started | Duration | Status | Exit |\n"
            "|---|---|---|---|---|---|---|---|\n";
    for (const auto& v : m_.runs) {
      const auto& r = v.run;
      std::string id = Code(r.id, true);
      if (!r.parent_run.empty()) id += " (child of " + Code(r.parent_run, true) + ")";
      out_ << "| " << id << " | " << Esc(r.runbook, true) << (r.title.empty() ? "" : " — " + Esc(r.title, true))
           << " | " << journal::ToString(r.trigger) << " | " << Esc(r.actor, true) << " | " << T(r.started_at_us)
           << " | " << Or(SpanText(r.started_at_us, r.finished_at_us), "—") << " | **"
           << journal::ToString(r.status) << "** | " << Or(ExitText(r.exit_code), "—") << " |\n";
    }
    out_ << "\n";
    for (const auto& v : m_.runs)
      if (!v.run.error.empty()) out_ << "- " << Code(v.run.id) << ": " << Esc(v.run.error) << "\n";
    out_ << "\n";
  }

  std::string IntegrityVerdict() const {
    const Integrity& x = m_.integrity;
    if (!x.verified) return x.error.empty() ? "not checked" : "**could not be verified**";
    return x.ok ? "verified (hash chain, SQLite integrity, source and output hashes)" : "**verification FAILED**";
  }

  Status Timeline() {
    out_ << "## Timeline\n\nEvery journaled event and note of the runs, in time order.\n\n"
            "| Time | Run | Step | Event | Actor | Details |\n|---|---|---|---|---|---|\n";
    Status s = reader_.ForEachEvent(m_.run_ids(), [this](const journal::EventRecord& e) {
      std::string kind = e.kind == "note" ? "**note**" : Code(e.kind, true);
      out_ << "| " << T(e.ts_us) << " | " << Code(e.run_id, true) << " | "
           << (e.step_id.empty() ? "" : Code(e.step_id, true)) << (e.attempt && *e.attempt > 1 ? " #" + std::to_string(*e.attempt) : "")
           << " | " << kind << " | " << Esc(e.actor, true) << " | " << Esc(e.message, true) << " |\n";
      return StreamStatus(out_);
    });
    out_ << "\n";
    return s;
  }

  void Actions() {
    out_ << "## Actions taken\n\n";
    for (const auto& v : m_.runs) {
      const auto& r = v.run;
      out_ << "### Run " << Code(r.id) << " — " << Esc(r.runbook) << "\n\n";
      out_ << "Parameters: " << Code(Or(r.params_json, "{}")) << "  \n";
      if (!r.outputs_json.empty() && r.outputs_json != "{}") out_ << "Outputs: " << Code(r.outputs_json) << "  \n";
      out_ << "Source: " << Code(r.source_path) << ", SHA-256 " << Code(r.content_hash) << "\n\n";
      if (v.actions.empty()) out_ << "No steps ran.\n\n";
      int n = 0;
      for (const auto& a : v.actions) Action(++n, a);
    }
  }

  void Action(int n, const report::Action& a) {
    out_ << "#### " << n << ". " << Code(a.step_id) << (a.title.empty() ? "" : " — " + Esc(a.title)) << " · "
         << Esc(a.status) << "\n\n";
    std::string facts = a.type.empty() ? "" : Esc(a.type);
    if (a.block != journal::Block::kMain) facts += (facts.empty() ? "" : " · ") + std::string("in ") + std::string(journal::ToString(a.block));
    if (a.status == "skipped") {
      if (a.started_at_us) facts += (facts.empty() ? "" : " · ") + std::string("at ") + T(a.started_at_us);
      if (!facts.empty()) out_ << facts << "\n\n";
      out_ << "Skipped: " << Esc(a.attempts.back().record.error) << "\n\n";
      if (!a.command.empty()) Block(out_, Sanitize(a.command), LanguageOf(a.type));
      return;
    }
    if (!a.attempts.empty()) {
      const auto& last = a.attempts.back().record;
      facts += (facts.empty() ? "" : " · ") + std::to_string(a.attempts.size()) +
               (a.attempts.size() == 1 ? " attempt" : " attempts");
      if (last.exit_code) facts += " · exit code " + std::to_string(*last.exit_code);
      std::string span = SpanText(a.started_at_us, a.finished_at_us);
      if (!span.empty()) facts += " · " + span;
      if (a.started_at_us) facts += " · started " + T(a.started_at_us);
    }
    if (!facts.empty()) out_ << facts << "\n\n";
    for (const auto& v : a.attempts) {
      const auto& at = v.record;
      if (a.attempts.size() == 1 && at.error.empty()) break;
      out_ << "- attempt " << at.attempt << ": " << journal::ToString(at.status);
      if (at.exit_code) out_ << ", exit code " << *at.exit_code;
      std::string span = SpanText(at.started_at_us, at.finished_at_us);
      if (!span.empty()) out_ << ", " << span;
      if (!at.error.empty()) out_ << " — " << Esc(at.error);
      out_ << "\n";
    }
    if (a.attempts.size() > 1 || (!a.attempts.empty() && !a.attempts.back().record.error.empty())) out_ << "\n";
    if (!a.command.empty()) Block(out_, Sanitize(a.command), LanguageOf(a.type));
  }

  void Findings() {
    out_ << "## Findings\n\n";
    if (m_.findings.empty()) {
      out_ << "No findings.\n\n";
      return;
    }
    for (auto level : {journal::FindingLevel::kCritical, journal::FindingLevel::kWarning, journal::FindingLevel::kInfo}) {
      int count = 0;
      for (const auto& f : m_.findings) count += f.level == level;
      if (count == 0) continue;
      std::string name(journal::ToString(level));
      name[0] = static_cast<char>(toupper(name[0]));
      out_ << "### " << name << " (" << count << ")\n\n";
      for (const auto& f : m_.findings) {
        if (f.level != level) continue;
        out_ << "- **" << Esc(f.message) << "** — step " << Code(f.step_id) << " of " << Esc(Runbook(f.run_id)) << " "
             << Code(f.run_id);
        if (!f.value.empty()) out_ << ", value " << Code(f.value);
        if (!f.threshold.empty()) out_ << " (threshold " << Code(f.threshold) << ")";
        out_ << ", " << T(f.ts_us) << "\n";
      }
      out_ << "\n";
    }
  }

  void Approvals() {
    out_ << "## Approvals\n\n";
    if (m_.approvals.empty()) {
      out_ << "No approvals were decided.\n\n";
      return;
    }
    out_ << "| Time | Run | Step | Decision | Approver | OS user | Inputs | Comment |\n"
            "|---|---|---|---|---|---|---|---|\n";
    for (const auto& a : m_.approvals) {
      out_ << "| " << T(a.ts_us) << " | " << Code(a.run_id, true) << " | " << Code(a.step_id, true) << " | **"
           << journal::ToString(a.decision) << "** | " << Esc(a.approver, true) << " | " << Esc(a.os_user, true)
           << " | " << (a.inputs_json.empty() || a.inputs_json == "{}" ? "" : Code(a.inputs_json, true)) << " | "
           << Esc(a.comment, true) << " |\n";
    }
    out_ << "\n";
  }

  void Notes() {
    out_ << "## Notes\n\n";
    if (m_.notes.empty()) {
      out_ << "No notes were added.\n\n";
      return;
    }
    for (const auto& n : m_.notes) {
      out_ << "- " << T(n.ts_us) << " — **" << Esc(n.author) << "** (" << Esc(n.actor) << ") on " << Code(n.run_id);
      if (!n.step_id.empty()) out_ << " step " << Code(n.step_id);
      out_ << ": " << Esc(n.text) << "\n";
    }
    out_ << "\n";
  }

  void Outputs() {
    out_ << "## Outputs\n\nThe first and last " << m_.excerpt_lines
         << " lines of each captured stream; the full text is in Appendix A.\n\n";
    bool any = false;
    for (const auto& r : m_.runs)
      for (const auto& a : r.actions)
        for (const auto& v : a.attempts)
          for (const auto& x : v.outputs) {
            any = true;
            out_ << "#### " << Code(a.step_id) << " · attempt " << v.record.attempt << " · " << StreamName(x.stream)
                 << " · run " << Code(r.run.id) << "\n\n";
            out_ << x.lines << (x.lines == 1 ? " line, " : " lines, ") << x.bytes << " bytes"
                 << (x.sha256.empty() ? "" : ", SHA-256 " + Code(x.sha256)) << "\n\n";
            std::string head;
            for (const auto& l : x.head) head += l + "\n";
            Block(out_, head);
            if (x.omitted_lines > 0)
              out_ << "*… " << x.omitted_lines << " lines omitted (Appendix A has them) …*\n\n";
            if (!x.tail.empty()) {
              std::string tail;
              for (const auto& l : x.tail) tail += l + "\n";
              Block(out_, tail);
            }
          }
    if (!any) out_ << "No output was captured.\n\n";
  }

  void IntegritySection() {
    const Integrity& x = m_.integrity;
    out_ << "## Evidence integrity\n\n";
    if (!x.verified) {
      out_ << "The journal could not be verified" << (x.error.empty() ? "" : ": " + Esc(x.error)) << ".\n\n";
    } else {
      out_ << "- Result: " << (x.ok ? "**verified**" : "**FAILED**") << "\n";
      out_ << "- Hash chain: " << x.events_checked << " events checked (the whole journal)";
      if (x.pruned_gaps) out_ << ", " << x.pruned_gaps << " gaps covered by prune checkpoints";
      if (x.legacy_events) out_ << ", " << x.legacy_events << " older events from before the chain existed (unverifiable)";
      out_ << "; head: event " << x.head_seq << ", hash " << Code(Or(x.head_hash, "none")) << "\n";
      out_ << "- Runs checked: " << x.runs_checked << "; attempts whose output was re-hashed: " << x.attempts_checked
           << "\n";
      if (x.first_bad_seq) out_ << "- First broken event: seq " << x.first_bad_seq << "\n";
      if (x.problem_count > 0) {
        out_ << "- Problems (" << x.problem_count << "):\n";
        for (const auto& p : x.problems) out_ << "  - " << Esc(p) << "\n";
        if (x.problem_count > static_cast<int64_t>(x.problems.size()))
          out_ << "  - … (`runbook journal verify` lists them all)\n";
      }
      out_ << "\n";
    }
    out_ << "Runbook sources (SHA-256 recorded when the run started, and recomputed now from the stored text):\n\n"
            "| Run | Runbook | Recorded | Recomputed | |\n|---|---|---|---|---|\n";
    for (const auto& s : x.sources)
      out_ << "| " << Code(s.run_id, true) << " | " << Esc(s.runbook, true) << " | " << Code(s.recorded_sha256, true)
           << " | " << Code(s.computed_sha256, true) << " | " << (s.ok() ? "match" : "**MISMATCH**") << " |\n";
    out_ << "\n";
  }

  void Review() {
    for (const char* section : {"Root cause", "Lessons learned", "Process updates"})
      out_ << "## " << section << "\n\n_To be completed in the review._\n\n";
  }

  Status OutputAppendix() {
    out_ << "## Appendix A: full output\n\n";
    for (const auto& r : m_.runs)
      for (const auto& a : r.actions)
        for (const auto& v : a.attempts)
          for (const auto& x : v.outputs) {
            out_ << "### " << Code(a.step_id) << " · attempt " << v.record.attempt << " · " << StreamName(x.stream)
                 << " · run " << Code(r.run.id) << "\n\n";
            std::string fence = Fence(x.longest_backtick_run);
            out_ << fence << "\n";
            Utf8Sanitizer clean(ControlChars::kPicture);
            std::string buf;
            bool ends_with_newline = true;
            Status s = reader_.ForEachChunk(r.run.id, a.step_id, v.record.attempt, x.stream, [&](std::string_view d) {
              buf.clear();
              clean.Feed(d, buf);
              if (!buf.empty()) ends_with_newline = buf.back() == '\n';
              out_ << buf;
              return StreamStatus(out_);
            });
            if (!s.ok()) return s;
            buf.clear();
            clean.Finish(buf);
            if (!buf.empty()) ends_with_newline = buf.back() == '\n';
            out_ << buf << (ends_with_newline ? "" : "\n") << fence << "\n\n";
          }
    return Status::Ok();
  }

  void SourceAppendix() {
    out_ << "## Appendix B: runbook sources\n\n";
    std::map<std::string, bool> shown;
    for (const auto& v : m_.runs) {
      const auto& r = v.run;
      if (shown[r.content_hash]) continue;
      shown[r.content_hash] = true;
      out_ << "### " << Esc(r.runbook) << " (" << Code(r.source_path) << ", SHA-256 " << Code(r.content_hash) << ")\n\n";
      Block(out_, Sanitize(r.source_text), "yaml");
    }
  }

  const ExportModel& m_;
  EvidenceReader& reader_;
  std::ostream& out_;
  std::map<std::string, const RunView*> runs_;
};

}  // namespace

Status RenderMarkdown(const ExportModel& model, EvidenceReader& reader, std::ostream& out) {
  return MarkdownWriter(model, reader, out).Write();
}

}  // namespace runbook::report
