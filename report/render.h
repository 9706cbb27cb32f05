// The export's renderers: one ExportModel (report/export_model.h) written as
// Markdown, HTML, JSON or CSV (docs/export.md describes each; the JSON schema
// is docs/export-schema.json). Each renderer streams the timeline and the full
// output text from the EvidenceReader as it writes, so memory stays bounded
// whatever the size of the incident. Free functions; one thread at a time per
// reader.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "report/evidence_reader.h"
#include "report/export_model.h"

namespace runbook::report {

enum class Format { kMarkdown, kHtml, kJson, kCsv };

// "md"/"markdown", "html", "json", "csv" -> the format.
std::optional<Format> ParseFormat(std::string_view name);
// From a file name's extension (.md, .markdown, .html, .htm, .json, .csv).
std::optional<Format> FormatForPath(std::string_view path);

// The version of the JSON document's schema (its `export_version`).
inline constexpr int kExportVersion = 1;

// A non-ok Status when the journal could not be read or `out` failed.
Status Render(Format format, const ExportModel& model, EvidenceReader& reader, std::ostream& out);

Status RenderMarkdown(const ExportModel& model, EvidenceReader& reader, std::ostream& out);
Status RenderHtml(const ExportModel& model, EvidenceReader& reader, std::ostream& out);
Status RenderJson(const ExportModel& model, EvidenceReader& reader, std::ostream& out);
Status RenderCsv(const ExportModel& model, EvidenceReader& reader, std::ostream& out);

// --- Shared by the renderers ---------------------------------------------------

// "1 critical, 2 warnings, no info" style counts: {critical, warning, info}.
struct FindingCounts {
  int critical = 0, warning = 0, info = 0;
};
FindingCounts CountFindings(const ExportModel& model);
// The duration of an attempt or a run, "" when it has not ended.
std::string SpanText(std::optional<int64_t> from_us, std::optional<int64_t> to_us);
// "exit 0", "—" style: the exit code as text, "" when none.
std::string ExitText(std::optional<int> code);
// The run's label in tables: "security-incident 1a2b3c4d5e6f".
std::string RunLabel(const journal::RunRecord& run);
// A stream's name as a file would say it: "stdout", "stderr".
std::string_view StreamName(journal::Stream s);
// "Run 1a2b… step x attempt 2 stdout": the anchor-safe id of an output block.
std::string OutputAnchor(const std::string& run_id, const std::string& step_id, int attempt, journal::Stream s);
// Checks `out` after writing: IoError "cannot write the export: ..." if it failed.
Status StreamStatus(const std::ostream& out);

}  // namespace runbook::report
