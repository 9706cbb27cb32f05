// Internal to the HTML renderer (report/html*.cc): the style sheet and the
// SVG Gantt chart of one run's steps, split out of html.cc to keep each file
// to one job. Not part of the report module's API.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "report/export_model.h"

namespace runbook::report::html {

// The document's whole CSS (inlined: the file must work offline).
std::string_view StyleSheet();

// `text` sanitized and HTML-escaped.
std::string H(std::string_view text);
// A CSS class suffix from a status or level word: [a-z0-9_] only.
std::string ClassWord(std::string_view word);

// An inline <svg> with one row per step of `run` and one bar per attempt
// (coloured by status), markers for findings and approvals, and a dashed
// line for each note; native <title> tooltips, no script.
void WriteGantt(const ExportModel& model, const RunView& run, std::ostream& out);

}  // namespace runbook::report::html
