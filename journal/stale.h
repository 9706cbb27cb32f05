// Internal to the journal: stale-run detection (SPEC §5). A run whose engine
// process died (kill -9, power loss) stays 'running' in the journal; the next
// process that opens the journal marks it 'interrupted' so that `resume` can
// continue it. Called by Journal::Open on its calling thread, with the
// writer's connection, before the writer thread starts.
#pragma once

#include <string>
#include <vector>

#include "engine/status.h"
#include "journal/sqlite.h"

namespace runbook::journal {

// Reads first and returns at once when no run is stale (the usual case: no
// write lock). Otherwise, in one IMMEDIATE transaction (Db::BeginImmediate):
// every run with status 'running' recorded on
// `host` whose engine process is gone (ProcessIsAlive) becomes 'interrupted'
// with finished_at = now_us and error "engine process PID on HOST is gone";
// an 'interrupted' event (actor "runbook") is appended; its attempts still
// pending, waiting or running become 'failed' with error "interrupted: engine
// died". Runs in 'waiting' are left alone (the engine exits while waiting for
// an approval). Before that, the starts in the dead engine's start log
// (journal/start_log.h, next to `journal_path`) that the journal lacks are
// added as 'running' attempts with their step_started events; the start log
// is removed after the commit. A start log that exists but cannot be read
// fails the whole transaction (the runs stay 'running'). Returns the ids of
// the runs it marked.
Result<std::vector<std::string>> MarkStaleRuns(sqlite::Db& db, const std::string& journal_path,
                                               const std::string& host, int64_t now_us);

}  // namespace runbook::journal
