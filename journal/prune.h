// Retention: `runbook journal prune` removes whole finished runs older than a
// cutoff, with every row that belongs to them (events, attempts, output,
// findings, approvals), optionally copying them to an archive journal first,
// and leaves a `journal_pruned` anchor event so that the hash chain still
// verifies across the gaps (docs/journal.md, "Pruning"). One IMMEDIATE
// transaction on its own connection; call from any thread. Journal-level
// events (run_id NULL) and runs still running or waiting are never removed.
// The runs' spill files (journal/spill.h) are copied beside the archive
// before the transaction commits, and deleted once it has.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"

namespace runbook::journal {

struct PruneOptions {
  int64_t finished_before_us = 0;  // remove runs that finished before this time
  int keep_runs = 0;               // but never the N newest runs of each runbook
  std::string archive_path;        // "" = no archive; else a journal file (created 0600) to copy them to
  bool dry_run = false;            // count only; change nothing
  std::string actor;               // who prunes: the anchor event's actor (user@host)
  int64_t now_us = 0;              // the anchor's ts (0 = now)
};

struct PruneReport {
  std::vector<std::string> run_ids;  // removed (or, dry run, would be), oldest first
  int64_t events = 0, attempts = 0, output_chunks = 0, output_bytes = 0, findings = 0, approvals = 0;
  int64_t gaps = 0;                  // ranges of the chain the anchor records
  int64_t anchor_seq = 0;            // 0 when nothing was removed, or dry run
  int64_t spill_files = 0;           // spill files removed (journal/spill.h)
  // What went wrong without stopping the prune: a spill file already missing
  // when it was to be archived, a spill directory that could not be removed
  // after the rows were (its files are orphans then; remove them by hand).
  std::vector<std::string> warnings;
};

// Errors: those of opening the journal (as Journal::Open words them), an
// archive that is not a journal, SQLite failures (the transaction is rolled
// back: nothing is removed).
Result<PruneReport> PruneJournal(const std::string& path, const PruneOptions& options);

}  // namespace runbook::journal
