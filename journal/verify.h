// Journal verification: `runbook journal verify` and the export's evidence
// integrity section. VerifyJournal opens a journal read-only (it works while
// another process is writing it: it reads one consistent snapshot) and checks
//   - the hash chain of the events table: every row's hash recomputed from its
//     columns (journal/chain.h), every prev_hash equal to the hash of the row
//     before it, so an edited, deleted or inserted row is found; deletions
//     made by `runbook journal prune` are accepted because prune leaves a
//     `journal_pruned` anchor event that records the removed link;
//   - `PRAGMA integrity_check`;
//   - each run's content_hash == SHA-256(source_text);
//   - each finished attempt's stdout/stderr byte counts and SHA-256 digests
//     recomputed from output_chunks.
// The chain is global, so it is always checked whole; `run_ids` only narrows
// the per-run checks (and `runs_checked`). Owned by the journal module; any
// thread (it opens its own connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"

namespace runbook::journal {

struct VerifyProblem {
  int64_t seq = 0;          // the event's seq, 0 when the problem is not an event
  std::string run_id;       // "" when not about one run
  std::string step_id;      // "" when not about one step
  std::string message;      // one line: "event seq 123 (run abc, step x): hash mismatch — ..."
};

struct VerifyReport {
  bool ok = true;
  int64_t events_checked = 0;
  int64_t first_bad_seq = 0;        // 0 = none
  int64_t runs_checked = 0;
  int64_t attempts_checked = 0;     // finished attempts whose output was re-hashed
  int64_t legacy_events = 0;        // leading rows written before the chain existed (unverifiable)
  int64_t pruned_gaps = 0;          // gaps in the chain accepted because a journal_pruned anchor covers them
  int64_t problems_found = 0;       // all problems; `problems` keeps the first 1000
  int64_t last_seq = 0;             // seq of the chain's head (0: no events)
  std::string head_hash;            // hash of that row: keep it to detect a truncated tail later
  std::vector<VerifyProblem> problems;  // in the order found: integrity, chain, then rows
  // Run directories of JOURNAL.blobs whose run is not in the journal (left by
  // a prune interrupted between its commit and the deletion of the files, or
  // copied in from elsewhere). Not a problem of the evidence: said, not
  // failed. Checked only when the whole journal is verified.
  std::vector<std::string> stray_spill_dirs;  // paths
};

// Checks the journal at `path` (which must exist; it is never created or
// migrated). A non-ok Result means the file could not be read at all (missing,
// not a journal, too corrupt to open); a readable journal with broken evidence
// gives ok() with report.ok == false. `expected_head`, when given, is a
// previously recorded head hash ("SEQ:HASH" or just HASH) that must still be
// in the chain: this catches a truncated tail.
Result<VerifyReport> VerifyJournal(const std::string& path,
                                   std::optional<std::vector<std::string>> run_ids = std::nullopt,
                                   const std::string& expected_head = "");

}  // namespace runbook::journal
