#include "report/integrity.h"

#include <algorithm>
#include <optional>

#include "journal/sha256.h"
#include "journal/verify.h"

namespace runbook::report {

Integrity CheckIntegrity(const std::string& journal_path, const std::vector<journal::RunRecord>& runs) {
  Integrity x;
  bool sources_ok = true;
  std::vector<std::string> ids;
  for (const auto& r : runs) {
    ids.push_back(r.id);
    SourceCheck c{r.id, r.runbook, r.source_path, r.content_hash, journal::Sha256Hex(r.source_text)};
    sources_ok &= c.ok();
    x.sources.push_back(std::move(c));
  }
  Result<journal::VerifyReport> report = journal::VerifyJournal(journal_path, ids);
  if (!report.ok()) {
    x.error = report.status().message();
    return x;
  }
  x.verified = true;
  x.ok = report->ok && sources_ok;
  x.events_checked = report->events_checked;
  x.runs_checked = report->runs_checked;
  x.attempts_checked = report->attempts_checked;
  x.pruned_gaps = report->pruned_gaps;
  x.legacy_events = report->legacy_events;
  x.first_bad_seq = report->first_bad_seq;
  x.head_seq = report->last_seq;
  x.head_hash = report->head_hash;
  x.problem_count = std::max<int64_t>(report->problems_found, static_cast<int64_t>(report->problems.size()));
  for (const auto& p : report->problems) {
    if (x.problems.size() >= kMaxIntegrityProblems) break;
    x.problems.push_back(p.message);
  }
  return x;
}

}  // namespace runbook::report
