// Where the journal lives and how its file comes to exist: the default path
// (SPEC §2) and the careful creation of the file (private directories, a
// 0600 file, never through a symbolic link). Used by Journal::Open and by the
// CLI for --journal's default. Free functions; thread-safe.
#pragma once

#include <string>

#include "engine/status.h"

namespace runbook::journal {

// $RUNBOOK_JOURNAL, else $XDG_STATE_HOME/runbook/journal.db (when absolute),
// else ~/.local/state/runbook/journal.db.
std::string DefaultJournalPath();

// Makes sure `path` is a regular file we may open: creates the missing parent
// directories with mode 0700 and the file with mode 0600 (open(2) with
// O_CREAT|O_NOFOLLOW). Errors:
//   "journal path is a symbolic link: PATH"
//   "PATH is not a runbook journal (not a regular file)"
//   "cannot create directory DIR: <strerror>", "cannot open journal PATH: <strerror>"
Status CreateJournalFile(const std::string& path);

// For commands that read or maintain an existing journal without creating it
// (verify, prune): `path` must exist, be a regular file reached without a
// symbolic link, and start like a SQLite database. Errors:
//   "no journal at PATH", "journal path is a symbolic link: PATH",
//   "PATH is not a runbook journal (not a regular file | the file is empty |
//   file is not a database)"
Status CheckExistingJournalFile(const std::string& path);

}  // namespace runbook::journal
