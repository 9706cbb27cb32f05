#include "report/render.h"

#include <ostream>

namespace runbook::report {

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "md" || name == "markdown") return Format::kMarkdown;
  if (name == "html") return Format::kHtml;
  if (name == "json") return Format::kJson;
  if (name == "csv") return Format::kCsv;
  return std::nullopt;
}

std::optional<Format> FormatForPath(std::string_view path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return std::nullopt;
  std::string_view ext = path.substr(dot + 1);
  if (ext == "htm") return Format::kHtml;
  return ParseFormat(ext);
}

Status Render(Format format, const ExportModel& model, EvidenceReader& reader, std::ostream& out) {
  switch (format) {
    case Format::kMarkdown: return RenderMarkdown(model, reader, out);
    case Format::kHtml: return RenderHtml(model, reader, out);
    case Format::kJson: return RenderJson(model, reader, out);
    case Format::kCsv: return RenderCsv(model, reader, out);
  }
  return Status::Internal("unknown export format");
}

FindingCounts CountFindings(const ExportModel& model) {
  FindingCounts c;
  for (const auto& f : model.findings) {
    switch (f.level) {
      case journal::FindingLevel::kCritical: ++c.critical; break;
      case journal::FindingLevel::kWarning: ++c.warning; break;
      case journal::FindingLevel::kInfo: ++c.info; break;
    }
  }
  return c;
}

std::string SpanText(std::optional<int64_t> from_us, std::optional<int64_t> to_us) {
  if (!from_us || !to_us) return "";
  return FormatSpan(*from_us, *to_us);
}

std::string ExitText(std::optional<int> code) { return code ? std::to_string(*code) : ""; }

std::string RunLabel(const journal::RunRecord& run) { return run.runbook + " " + run.id; }

std::string_view StreamName(journal::Stream s) { return journal::ToString(s); }

std::string OutputAnchor(const std::string& run_id, const std::string& step_id, int attempt, journal::Stream s) {
  return "out-" + run_id + "-" + step_id + "-" + std::to_string(attempt) + "-" + std::string(StreamName(s));
}

Status StreamStatus(const std::ostream& out) {
  if (out.good()) return Status::Ok();
  return Status::IoError("cannot write the export (output stream failed)");
}

}  // namespace runbook::report
