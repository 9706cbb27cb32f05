// Internal to journal/verify*.cc: the Verifier that VerifyJournal runs on
// one read-only connection inside one read transaction. verify.cc holds the
// file checks, integrity_check and the hash chain; verify_rows.cc the checks
// of runs, attempts, output, findings and orphaned rows against the chain.
// One Verifier per call, on the calling thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "journal/sqlite.h"
#include "journal/verify.h"

namespace runbook::journal::verify_internal {

inline constexpr size_t kMaxProblems = 1000;

// "event seq 12 (run abc, step x)", "event seq 3 (journal-level)".
std::string EventPlace(int64_t seq, const std::string& run_id, const std::string& step_id);

class Verifier {
 public:
  Verifier(sqlite::Db& db, std::optional<std::vector<std::string>> run_ids) : db_(db) {
    if (run_ids) filter_.emplace(run_ids->begin(), run_ids->end());
  }

  // Every check, in order; a non-ok Status is a SQLite error (the snapshot
  // could not be read), not a finding.
  Status Run(const std::string& expected_head);
  VerifyReport TakeReport() {
    report_.problems_found = static_cast<int64_t>(report_.problems.size()) + dropped_;
    return std::move(report_);
  }

  // verify.cc
  Status CheckIntegrity();
  Status LoadAnchors();
  Status WalkChain(const std::string& expected_head);
  // verify_rows.cc
  Status CheckRuns();
  Status CheckRun(const std::string& run_id);
  Status CheckOrphans();

  // Records a problem (seq 0: not an event) and keeps first_bad_seq.
  void Problem(int64_t seq, std::string run_id, std::string step_id, std::string message);
  // Whether the per-run checks cover `run_id`.
  bool Checked(const std::string& run_id) const;

 private:
  struct AnchorRange {
    int64_t anchor_seq = 0;
    int64_t first_seq = 0;
    int64_t last_seq = 0;
  };

  sqlite::Db& db_;
  std::optional<std::set<std::string>> filter_;
  VerifyReport report_;
  int64_t dropped_ = 0;
  // (hash before the gap, hash of the gap's last row) -> the anchored range.
  std::map<std::pair<std::string, std::string>, AnchorRange> anchors_;
};

}  // namespace runbook::journal::verify_internal
