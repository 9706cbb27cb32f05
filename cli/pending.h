// Where a waiting run's decisions are to be made. A `runbook` step waits
// while its child run waits for an approval; `runbook approve PARENT STEP`
// cannot decide it, the child's step can. PendingDecisions follows such a
// step down through its child runs (at most 8 deep, as children nest) to the
// steps that ask for a decision, so that `run`, `show` and `approve` can name
// the command that works. Used by the CLI; reads the journal only.
#pragma once

#include <string>
#include <vector>

#include "journal/journal.h"

namespace runbook::cli {

struct PendingDecision {
  std::string run_id;  // the run whose step asks
  std::string step;    // the step that asks
};

// The decisions waiting step `step` of run `run_id` stands for: itself when it
// asks for an approval; the waiting steps of its child run (recursively)
// when it is a `runbook` step waiting for that child. Empty when nothing is
// known (the step is not waiting, or the journal cannot be read).
std::vector<PendingDecision> PendingDecisions(const journal::Journal& j, const std::string& run_id,
                                              const std::string& step);

// "runbook approve C assess, then runbook resume P": the commands that
// continue run `run_id` past `waiting_step`, whose decisions are `pending`
// (PendingDecisions; when empty, the step's own).
std::string DecideHint(const std::vector<PendingDecision>& pending, const std::string& run_id,
                       const std::string& waiting_step);

}  // namespace runbook::cli
