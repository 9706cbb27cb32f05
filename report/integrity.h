// The export's "evidence integrity" section: whether the journal's hash chain
// and SQLite file verify (journal/verify.h, the same check as
// `runbook journal verify`), and, for each exported run, the recorded content
// hash of its runbook source next to one recomputed here. Everything the
// export says about integrity goes through CheckIntegrity, so the verifier's
// interface is used in this one place. Owned by the report module; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journal/records.h"

namespace runbook::report {

struct SourceCheck {
  std::string run_id;
  std::string runbook;
  std::string source_path;
  std::string recorded_sha256;  // runs.content_hash
  std::string computed_sha256;  // SHA-256 of runs.source_text, now
  bool ok() const { return recorded_sha256 == computed_sha256; }
};

struct Integrity {
  bool verified = false;        // the verifier ran to the end
  bool ok = false;              // ... and found nothing wrong, and every source hash matches
  std::string error;            // why the verifier could not run ("" when it ran)
  int64_t events_checked = 0;   // the whole journal's chain
  int64_t runs_checked = 0;
  int64_t attempts_checked = 0; // finished attempts whose output was re-hashed
  int64_t pruned_gaps = 0;      // gaps in the chain covered by a prune checkpoint
  int64_t legacy_events = 0;    // rows written before the chain existed (unverifiable)
  int64_t first_bad_seq = 0;    // 0 = none
  int64_t head_seq = 0;         // the chain's last event
  std::string head_hash;        // record it to detect a truncated tail later
  int64_t problem_count = 0;
  std::vector<std::string> problems;  // the first kMaxIntegrityProblems messages
  std::vector<SourceCheck> sources;   // one per exported run
};

inline constexpr size_t kMaxIntegrityProblems = 20;

// Verifies the journal at `journal_path` for `runs` (with source_text).
Integrity CheckIntegrity(const std::string& journal_path, const std::vector<journal::RunRecord>& runs);

}  // namespace runbook::report
