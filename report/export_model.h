// ExportModel: everything a post-incident review document says (SPEC §7),
// collected from the journal once and then rendered by report/render.h in
// any format. It holds the bounded parts of the record: the selected runs
// (with child runs), each step's attempts with output excerpts, findings,
// approvals, notes and the integrity check. The unbounded parts, the event
// timeline and the full output text, stay in the journal and are streamed by
// the renderers through an EvidenceReader, so exporting an incident of
// 100,000 events never holds them all.
//
// The report module does not depend on the engine: what each step runs (its
// command or request as written in the runbook) comes from a StepDescriber
// the caller supplies, which reads the run's stored source text (the CLI
// uses the engine's loader). Built on one thread; immutable afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"
#include "journal/journal.h"
#include "report/evidence_reader.h"
#include "report/excerpt.h"
#include "report/integrity.h"
#include "report/time_format.h"

namespace runbook::report {

// Which runs to export: exactly one of `runs`, `incident`, or `since_us`.
struct Selection {
  std::vector<std::string> runs;     // ids, unique prefixes, or "last"
  std::string incident;              // every run with this incident id
  std::optional<int64_t> since_us;   // runs started at or after
  std::optional<int64_t> until_us;   // ... and before (with since_us)
  bool with_children = true;         // add the child runs of every selected run
};

// One step as its runbook defines it, from the run's stored source.
struct StepDefinition {
  std::string id;
  journal::Block block = journal::Block::kMain;
  std::string title;
  std::string type;
  std::string command;          // the command or request, templates unexpanded
  std::string definition_json;  // the type's fields as written, a JSON object ("" = unknown)
};
// The steps of `run` in the runbook's order; empty when unknown (the source
// no longer loads, or no describer was given).
using StepDescriber = std::function<std::vector<StepDefinition>(const journal::RunRecord& run)>;

struct AttemptView {
  journal::AttemptRecord record;
  std::vector<OutputExcerpt> outputs;  // stdout then stderr; only streams with output
};

// A step of a run and everything it did.
struct Action {
  std::string run_id;
  std::string step_id;
  journal::Block block = journal::Block::kMain;
  std::string title;            // "" = none
  std::string type;             // "" = unknown
  std::string command;          // "" = unknown
  std::string definition_json;  // "" = unknown
  // The last attempt's status, or "not_run" (the run ended before the step
  // was reached) or "pending" (the run is still going).
  std::string status;
  std::vector<AttemptView> attempts;
  std::optional<int64_t> started_at_us;   // the first attempt's start
  std::optional<int64_t> finished_at_us;  // the last attempt's end
};

struct RunView {
  journal::RunRecord run;       // source_text included
  int depth = 0;                // 0 = selected; a child run is one deeper than its parent
  EventStats events;
  std::vector<Action> actions;  // in the order the steps started; never-run steps last
};

struct Note {
  int64_t seq = 0;
  int64_t ts_us = 0;
  std::string run_id;
  std::string step_id;          // "" = about the run
  std::string author;           // the name noted with (`note --as`), else the OS user
  std::string actor;            // who really ran the command: user@host
  std::string text;
};

struct ExportModel {
  std::string title;            // "Incident INC-42", "Run 1a2b3c4d5e6f", ...
  std::string selection_text;   // how the runs were chosen, one line
  std::string journal_path;
  std::string generator;        // "runbook 0.1.0"
  int64_t generated_at_us = 0;
  TimeRenderer times;
  int excerpt_lines = 0;

  std::vector<RunView> runs;    // in start order
  std::vector<journal::FindingRecord> findings;    // critical, warning, info; each by time
  std::vector<journal::ApprovalRecord> approvals;  // by time
  std::vector<Note> notes;                         // by time
  EventStats events;            // over all exported runs
  std::optional<int64_t> started_at_us;   // the first run's start
  std::optional<int64_t> finished_at_us;  // the last end, when every run has ended
  Integrity integrity;

  std::vector<std::string> run_ids() const;
  const RunView* FindRun(const std::string& id) const;
  // The incident ids of the runs, each once, in run order.
  std::vector<std::string> incidents() const;
  // The worst run status: failed, cancelled, interrupted, waiting, running,
  // succeeded (in that order of precedence).
  journal::RunStatus outcome() const;
};

struct BuildOptions {
  Selection selection;
  TimeRenderer times;
  StepDescriber describe;       // may be empty
  int excerpt_lines = 10;       // first and last lines of each output kept
  std::string generator = "runbook";
  int64_t now_us = 0;           // the document's date; 0 = now
  bool verify = true;           // run CheckIntegrity (integrity stays empty otherwise)
};

// The runs `selection` names, each once, in start order, with source text.
// Errors: InvalidArgument for a run reference that matches nothing or is
// ambiguous (the journal's message), NotFound when the selection is empty
// ("no runs of incident 'X' in the journal", "no runs started between ...").
Result<std::vector<journal::RunRecord>> SelectRuns(const journal::Journal& journal, const Selection& selection,
                                                   const TimeRenderer& times);

// SelectRuns, then everything else. `reader` reads the same journal file.
Result<ExportModel> BuildExportModel(const journal::Journal& journal, EvidenceReader& reader,
                                     const BuildOptions& options);

}  // namespace runbook::report
