// CSV: the timeline, one event per row (RFC 4180: CRLF line ends, fields with
// commas, quotes or line breaks quoted, quotes doubled). Text is made valid
// UTF-8 but otherwise kept as journaled.
#include <map>
#include <ostream>

#include "report/render.h"
#include "report/text.h"

namespace runbook::report {

namespace {

constexpr std::string_view kHeader = "seq,time,run_id,runbook,step_id,attempt,kind,actor,message,data,hash";

void Row(std::ostream& out, std::initializer_list<std::string> fields) {
  bool first = true;
  for (const auto& f : fields) {
    if (!first) out << ',';
    first = false;
    out << CsvField(Sanitize(f, ControlChars::kKeep));
  }
  out << "\r\n";
}

}  // namespace

Status RenderCsv(const ExportModel& model, EvidenceReader& reader, std::ostream& out) {
  std::map<std::string, std::string> runbook_of;
  for (const auto& r : model.runs) runbook_of[r.run.id] = r.run.runbook;
  out << kHeader << "\r\n";
  Status s = reader.ForEachEvent(model.run_ids(), [&](const journal::EventRecord& e) {
    Row(out, {std::to_string(e.seq), model.times.Format(e.ts_us, TimePrecision::kMicros), e.run_id,
              runbook_of[e.run_id], e.step_id, e.attempt ? std::to_string(*e.attempt) : "", e.kind, e.actor,
              e.message, e.data_json == "{}" ? "" : e.data_json, e.hash.value_or("")});
    return StreamStatus(out);
  });
  if (!s.ok()) return s;
  return StreamStatus(out);
}

}  // namespace runbook::report
