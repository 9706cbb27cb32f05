// JSON: the complete record, schema docs/export-schema.json (export_version
// 1). The bounded parts are built as Boost.JSON values; the timeline and the
// full output text are written element by element as they are read.
#include <boost/json.hpp>
#include <ostream>

#include "engine/json_text.h"
#include "report/render.h"
#include "report/text.h"

namespace runbook::report {

namespace {

namespace json = boost::json;

class JsonWriter {
 public:
  explicit JsonWriter(const ExportModel& m) : m_(m) {}

  json::value Time(int64_t us) const { return json::value(m_.times.Format(us, TimePrecision::kMicros)); }
  json::value Time(std::optional<int64_t> us) const { return us ? Time(*us) : json::value(nullptr); }
  static json::value Text(const std::string& s) { return json::value(Sanitize(s, ControlChars::kKeep)); }
  static json::value Int(std::optional<int> v) { return v ? json::value(*v) : json::value(nullptr); }
  static json::value DurationMs(std::optional<int64_t> from, std::optional<int64_t> to) {
    if (!from || !to) return nullptr;
    return json::value((*to - *from) / 1000);
  }
  // Stored JSON text, parsed; text that does not parse is kept as a string.
  static json::value Parsed(const std::string& text, json::value empty = json::object()) {
    if (text.empty()) return empty;
    boost::system::error_code ec;
    json::value v = json::parse(Sanitize(text, ControlChars::kKeep), ec);
    return ec ? Text(text) : v;
  }

  json::object Summary() const {
    FindingCounts fc = CountFindings(m_);
    json::object steps;
    for (const auto& r : m_.runs)
      for (const auto& a : r.actions) {
        auto& n = steps[a.status];
        n = n.is_null() ? 1 : n.as_int64() + 1;
      }
    json::array incidents;
    for (const auto& i : m_.incidents()) incidents.emplace_back(i);
    return {{"outcome", std::string(journal::ToString(m_.outcome()))},
            {"runs", m_.runs.size()},
            {"incidents", std::move(incidents)},
            {"started_at", Time(m_.started_at_us)},
            {"finished_at", Time(m_.finished_at_us)},
            {"duration_ms", DurationMs(m_.started_at_us, m_.finished_at_us)},
            {"events", m_.events.count},
            {"steps", std::move(steps)},
            {"findings", {{"critical", fc.critical}, {"warning", fc.warning}, {"info", fc.info}}},
            {"approvals", m_.approvals.size()},
            {"notes", m_.notes.size()}};
  }

  json::object Stream(const OutputExcerpt& x) const {
    return {{"bytes", x.bytes}, {"sha256", x.sha256}, {"lines", x.lines}};
  }

  json::object Attempt(const AttemptView& v) const {
    const journal::AttemptRecord& a = v.record;
    json::object o = {{"attempt", a.attempt},
                      {"status", std::string(journal::ToString(a.status))},
                      {"started_at", Time(a.started_at_us)},
                      {"finished_at", Time(a.finished_at_us)},
                      {"duration_ms", DurationMs(a.started_at_us, a.finished_at_us)},
                      {"exit_code", Int(a.exit_code)},
                      {"error", Text(a.error)},
                      {"outputs", Parsed(a.outputs_json)},
                      {"stdout", nullptr},
                      {"stderr", nullptr}};
    for (const auto& x : v.outputs) o[StreamName(x.stream)] = Stream(x);
    return o;
  }

  json::object Step(const Action& a) const {
    json::array attempts;
    for (const auto& v : a.attempts) attempts.push_back(Attempt(v));
    return {{"id", a.step_id},
            {"block", std::string(journal::ToString(a.block))},
            {"title", Text(a.title)},
            {"type", a.type.empty() ? json::value(nullptr) : json::value(a.type)},
            {"command", a.command.empty() ? json::value(nullptr) : Text(a.command)},
            {"definition", a.definition_json.empty() ? json::value(nullptr) : Parsed(a.definition_json)},
            {"status", a.status},
            {"started_at", Time(a.started_at_us)},
            {"finished_at", Time(a.finished_at_us)},
            {"duration_ms", DurationMs(a.started_at_us, a.finished_at_us)},
            {"attempts", std::move(attempts)}};
  }

  json::object Run(const RunView& v) const {
    const journal::RunRecord& r = v.run;
    json::array steps;
    for (const auto& a : v.actions) steps.push_back(Step(a));
    auto opt = [](const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); };
    return {{"id", r.id},
            {"runbook", r.runbook},
            {"title", Text(r.title)},
            {"source_path", Text(r.source_path)},
            {"content_hash", r.content_hash},
            {"trigger", std::string(journal::ToString(r.trigger))},
            {"actor", Text(r.actor)},
            {"host", Text(r.process.host)},
            {"incident", opt(r.incident)},
            {"parent_run", opt(r.parent_run)},
            {"depth", v.depth},
            {"status", std::string(journal::ToString(r.status))},
            {"started_at", Time(r.started_at_us)},
            {"finished_at", Time(r.finished_at_us)},
            {"duration_ms", DurationMs(r.started_at_us, r.finished_at_us)},
            {"exit_code", Int(r.exit_code)},
            {"error", Text(r.error)},
            {"params", Parsed(r.params_json)},
            {"outputs", Parsed(r.outputs_json)},
            {"events", v.events.count},
            {"steps", std::move(steps)},
            {"source_text", Text(r.source_text)}};
  }

  json::array Findings() const {
    json::array a;
    for (const auto& f : m_.findings)
      a.push_back(json::object{{"run_id", f.run_id},
                               {"step_id", f.step_id},
                               {"level", std::string(journal::ToString(f.level))},
                               {"message", Text(f.message)},
                               {"value", Text(f.value)},
                               {"threshold", Text(f.threshold)},
                               {"at", Time(f.ts_us)}});
    return a;
  }

  json::array Approvals() const {
    json::array a;
    for (const auto& x : m_.approvals)
      a.push_back(json::object{{"run_id", x.run_id},
                               {"step_id", x.step_id},
                               {"decision", std::string(journal::ToString(x.decision))},
                               {"approver", Text(x.approver)},
                               {"os_user", Text(x.os_user)},
                               {"at", Time(x.ts_us)},
                               {"inputs", Parsed(x.inputs_json)},
                               {"comment", Text(x.comment)}});
    return a;
  }

  json::array Notes() const {
    json::array a;
    for (const auto& n : m_.notes)
      a.push_back(json::object{{"seq", n.seq},
                               {"run_id", n.run_id},
                               {"step_id", n.step_id.empty() ? json::value(nullptr) : json::value(n.step_id)},
                               {"author", Text(n.author)},
                               {"actor", Text(n.actor)},
                               {"at", Time(n.ts_us)},
                               {"text", Text(n.text)}});
    return a;
  }

  json::object IntegrityJson() const {
    const report::Integrity& x = m_.integrity;
    json::array problems, sources;
    for (const auto& p : x.problems) problems.push_back(Text(p));
    for (const auto& s : x.sources)
      sources.push_back(json::object{{"run_id", s.run_id},
                                     {"runbook", s.runbook},
                                     {"recorded_sha256", s.recorded_sha256},
                                     {"computed_sha256", s.computed_sha256},
                                     {"ok", s.ok()}});
    return {{"verified", x.verified},
            {"ok", x.ok},
            {"error", x.error.empty() ? json::value(nullptr) : Text(x.error)},
            {"events_checked", x.events_checked},
            {"runs_checked", x.runs_checked},
            {"attempts_checked", x.attempts_checked},
            {"pruned_gaps", x.pruned_gaps},
            {"legacy_events", x.legacy_events},
            {"first_bad_seq", x.first_bad_seq ? json::value(x.first_bad_seq) : json::value(nullptr)},
            {"head_seq", x.head_seq},
            {"head_hash", x.head_hash},
            {"problem_count", x.problem_count},
            {"problems", std::move(problems)},
            {"sources", std::move(sources)}};
  }

  json::object Event(const journal::EventRecord& e) const {
    return {{"seq", e.seq},
            {"at", Time(e.ts_us)},
            {"run_id", e.run_id},
            {"step_id", e.step_id.empty() ? json::value(nullptr) : json::value(e.step_id)},
            {"attempt", Int(e.attempt)},
            {"kind", Text(e.kind)},
            {"actor", Text(e.actor)},
            {"message", Text(e.message)},
            {"data", Parsed(e.data_json)},
            {"hash", e.hash ? json::value(*e.hash) : json::value(nullptr)}};
  }

 private:
  const ExportModel& m_;
};

// `"key":` then the serialized value.
void Member(std::ostream& out, std::string_view key, const json::value& v, bool comma = true) {
  out << JsonText(json::value(key)) << ':' << JsonText(v) << (comma ? ",\n" : "\n");
}

// One element of "outputs": the full text of one stream of one attempt.
Status WriteOutput(std::ostream& out, EvidenceReader& reader, const journal::AttemptRecord& a,
                   const OutputExcerpt& x) {
  json::object head = {{"run_id", a.run_id},     {"step_id", a.step_id}, {"attempt", a.attempt},
                       {"stream", StreamName(x.stream)}, {"bytes", x.bytes},   {"sha256", x.sha256},
                       {"lines", x.lines},       {"encoding", x.valid_utf8 ? "utf-8" : "base64"}};
  std::string prefix = JsonText(head);
  prefix.pop_back();  // the closing brace: the text follows
  out << prefix << (x.valid_utf8 ? ",\"text\":\"" : ",\"data\":\"");
  Utf8Sanitizer text(ControlChars::kKeep);
  Base64Encoder base64;
  std::string buf;
  Status s = reader.ForEachChunk(a.run_id, a.step_id, a.attempt, x.stream, [&](std::string_view data) {
    buf.clear();
    if (x.valid_utf8) {
      std::string clean;
      text.Feed(data, clean);
      AppendJsonStringBody(buf, clean);
    } else {
      base64.Feed(data, buf);
    }
    out << buf;
    return StreamStatus(out);
  });
  if (!s.ok()) return s;
  buf.clear();
  if (x.valid_utf8) {
    std::string clean;
    text.Finish(clean);
    AppendJsonStringBody(buf, clean);
  } else {
    base64.Finish(buf);
  }
  out << buf << "\"}";
  return StreamStatus(out);
}

}  // namespace

Status RenderJson(const ExportModel& m, EvidenceReader& reader, std::ostream& out) {
  JsonWriter w(m);
  out << "{\n";
  Member(out, "export_version", kExportVersion);
  Member(out, "generator", JsonWriter::Text(m.generator));
  Member(out, "generated_at", w.Time(m.generated_at_us));
  Member(out, "timezone", json::value(m.times.zone_name()));
  Member(out, "title", JsonWriter::Text(m.title));
  Member(out, "selection", JsonWriter::Text(m.selection_text));
  Member(out, "journal", JsonWriter::Text(m.journal_path));
  Member(out, "summary", w.Summary());
  json::array runs;
  for (const auto& r : m.runs) runs.push_back(w.Run(r));
  Member(out, "runs", runs);
  Member(out, "findings", w.Findings());
  Member(out, "approvals", w.Approvals());
  Member(out, "notes", w.Notes());
  Member(out, "integrity", w.IntegrityJson());
  Member(out, "review", json::object{{"root_cause", ""}, {"lessons_learned", ""}, {"process_updates", ""}});

  out << "\"timeline\":[";
  bool first = true;
  Status s = reader.ForEachEvent(m.run_ids(), [&](const journal::EventRecord& e) {
    out << (first ? "\n" : ",\n") << JsonText(w.Event(e));
    first = false;
    return StreamStatus(out);
  });
  if (!s.ok()) return s;
  out << "\n],\n\"outputs\":[";
  first = true;
  for (const auto& r : m.runs)
    for (const auto& a : r.actions)
      for (const auto& v : a.attempts)
        for (const auto& x : v.outputs) {
          out << (first ? "\n" : ",\n");
          first = false;
          if (Status st = WriteOutput(out, reader, v.record, x); !st.ok()) return st;
        }
  out << "\n]\n}\n";
  return StreamStatus(out);
}

}  // namespace runbook::report
