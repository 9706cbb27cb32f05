// Executing a run from the command line — shared by `runbook run` and
// `runbook resume`: the executors, the live progress, the approval prompter,
// child runs (`runbook` steps) loaded from the catalog with the site profile,
// the concurrency group's lock, and the report at the end (the run id on
// stdout, the outcome on stderr, or one JSON object with --json).
#pragma once

#include <memory>

#include "cli/cli.h"
#include "engine/runner.h"
#include "journal/journal.h"

namespace runbook::cli {

struct SessionOptions {
  bool yes = false;          // approve what can be approved without asking
  bool show_output = false;  // echo step output
};

// Runs `req` (its runbook must outlive the call) on `journal`, closes the
// journal, prints the outcome; returns the process exit code (SPEC.md §2).
int ExecuteRun(CliEnv& env, journal::Journal& journal, RunRequest req, const SessionOptions& opt);

}  // namespace runbook::cli
