// The journal's schema history: forward migrations compiled into the binary
// (journal/schema.sql is the resulting schema, kept for readers and checked
// against these by journal_tests), and the routine that brings a database up
// to date. A journal is audit evidence: migrations only ever move forward,
// a journal newer than this binary is refused, and nothing is ever dropped
// to "start over". Called by Journal::Open on its calling thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "engine/status.h"
#include "journal/sqlite.h"

namespace runbook::journal {

// PRAGMA user_version of a journal written by this binary.
inline constexpr int kSchemaVersion = 3;
// PRAGMA application_id of every journal: "RBKJ".
inline constexpr int32_t kApplicationId = 0x52424B4A;

struct Migration {
  int version;           // the user_version the database has after `sql` ran
  std::string_view sql;  // DDL only; no PRAGMA user_version
};

// Every migration, in order: Migrations()[i].version == i + 1.
std::span<const Migration> Migrations();

// Reads only: the file's schema version (0: empty, no schema yet) when `db`
// is empty or a journal this binary can migrate; otherwise the errors of
// MigrateToCurrent. Lets Open refuse a file before changing anything in it
// (even its journal mode), and skip migrating a current one.
Result<int64_t> ReadJournalVersion(sqlite::Db& db);
// ReadJournalVersion without the version.
Status CheckIsJournal(sqlite::Db& db);

// Brings `db` to kSchemaVersion. A current journal is only read (no write
// lock, no SQL beyond three PRAGMA reads); otherwise one IMMEDIATE
// transaction (Db::BeginImmediate: concurrent openers serialize and the
// second finds the first's result). Errors:
//   "journal schema version 7 is newer than this runbook (supports 3); upgrade runbook"
//   "PATH is not a runbook journal (it is another application's SQLite database)"
//   "PATH: database is locked (other processes held the write lock for 60 s)"
Status MigrateToCurrent(sqlite::Db& db);

}  // namespace runbook::journal
