// `runbook journal backup DEST`: a consistent copy of a journal, taken while
// runs go on, for the post-incident review or off-site keeping. Copying the
// files by hand misses either the write-ahead log or the spill directory
// (docs/journal.md, "Copying a journal"); this copies both parts in the
// right order. Free function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"

namespace runbook::journal {

struct BackupReport {
  int64_t runs = 0;
  int64_t events = 0;
  int64_t spill_files = 0;
  std::vector<std::string> warnings;  // spill files the source's rows name but that are gone
};

// Copies the journal at `from` to `to`: the database through SQLite's online
// backup (one read snapshot, so every run, event and output row as they
// were at one instant, writers not held up), then the spill files the
// copy's rows point at, to `to`.blobs. The copy is made under a temporary
// name beside `to`, synced, and only then given its names, never replacing
// anything: `to` and `to`.blobs must not exist. On failure nothing is left.
// Errors: those of CheckExistingJournalFile for `from`;
//   "DEST exists; a backup never replaces a file" (also for DEST.blobs),
//   "cannot create DEST: <strerror>", SQLite's ("PATH: message"), the spill
//   files' (journal/spill.h).
Result<BackupReport> BackupJournal(const std::string& from, const std::string& to);

}  // namespace runbook::journal
