// Where the journal lives and how its file comes to exist: the default path
// (SPEC §2) and the careful creation of the file (private directories, a
// 0600 file, never through a symbolic link). Used by Journal::Open and by the
// CLI for --journal's default. Free functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace runbook::journal {

// $RUNBOOK_JOURNAL, else $XDG_STATE_HOME/runbook/journal.db (when absolute),
// else ~/.local/state/runbook/journal.db.
std::string DefaultJournalPath();

// Makes sure `path` is a regular file we may open: creates the missing parent
// directories with mode 0700 and a missing file with mode 0600, as a complete
// empty journal (EmptyJournalImage). The file appears whole or not at all: it
// is written under no name (O_TMPFILE) or a temporary one, then linked to
// `path`, which never replaces a file (when another process created it
// first, that one is used). `created`, if given, says whether this call
// created it. Never through a symbolic link. Errors:
//   "journal path is a symbolic link: PATH"
//   "PATH is not a runbook journal (not a regular file)"
//   "cannot create directory DIR: <strerror>", "cannot open journal PATH: <strerror>",
//   "cannot create journal PATH: <strerror>"
Status CreateJournalFile(const std::string& path, bool* created = nullptr);

// The file of a new, empty journal: the current schema (journal/schema.sql),
// WAL mode, no rows. Generated at build time by journal/gen/make_empty_journal.cc.
std::string_view EmptyJournalImage();

// For commands that read or maintain an existing journal without creating it
// (verify, prune): `path` must exist, be a regular file reached without a
// symbolic link, and start like a SQLite database. Errors:
//   "no journal at PATH", "journal path is a symbolic link: PATH",
//   "PATH is not a runbook journal (not a regular file | the file is empty |
//   file is not a database)"
// It reads the header through a descriptor of its own and closes it, which
// drops every POSIX lock this process holds on the file, SQLite's included:
// call it before this process opens a connection to the file, never while
// one is open.
Status CheckExistingJournalFile(const std::string& path);

}  // namespace runbook::journal
