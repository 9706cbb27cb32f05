#include "journal/migrations.h"

#include <string>

#include "journal/schema_sql.h"  // generated from journal/schema.sql

namespace runbook::journal {

namespace {

// Version 1: the initial schema. Keep in step with journal/schema.sql (the
// JournalSchema tests compare them). Once released, a migration's text never
// changes: a new version appends a new migration.
constexpr std::string_view kVersion1 = R"sql(
-- One row per execution of a runbook. Its status and end columns are updated
-- as the run progresses; everything else is written once.
CREATE TABLE runs (
  id            TEXT PRIMARY KEY NOT NULL,
  runbook       TEXT NOT NULL,
  title         TEXT NOT NULL DEFAULT '',
  source_path   TEXT NOT NULL DEFAULT '',
  content_hash  TEXT NOT NULL,                   -- SHA-256 hex of source_text
  source_text   TEXT NOT NULL,
  params_json   TEXT NOT NULL DEFAULT '{}',
  trigger_kind  TEXT NOT NULL
                CHECK (trigger_kind IN ('manual', 'cron', 'resume', 'child', 'api')),
  actor         TEXT NOT NULL,                   -- user@host, or scheduler
  host          TEXT NOT NULL,                   -- the engine process's host,
  pid           INTEGER NOT NULL,                -- pid,
  process_start INTEGER NOT NULL,                -- /proc/PID/stat field 22,
  boot_id       TEXT NOT NULL DEFAULT '',        -- and boot: stale-run detection
  incident_id   TEXT,
  parent_run_id TEXT,
  status        TEXT NOT NULL
                CHECK (status IN ('running', 'waiting', 'succeeded', 'failed',
                                  'cancelled', 'interrupted')),
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER,
  exit_code     INTEGER,
  outputs_json  TEXT NOT NULL DEFAULT '{}',
  error         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_started_at ON runs (started_at);
CREATE INDEX runs_by_runbook ON runs (runbook, started_at);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_incident ON runs (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;

-- One row per attempt of a step; updated through its status transitions.
CREATE TABLE step_attempts (
  id            INTEGER PRIMARY KEY,
  run_id        TEXT NOT NULL REFERENCES runs (id),
  step_id       TEXT NOT NULL,
  block         TEXT NOT NULL CHECK (block IN ('main', 'on_failure', 'finally')),
  attempt       INTEGER NOT NULL CHECK (attempt >= 1),
  status        TEXT NOT NULL
                CHECK (status IN ('pending', 'waiting', 'running', 'succeeded', 'failed',
                                  'timed_out', 'skipped', 'cancelled')),
  started_at    INTEGER,
  finished_at   INTEGER,
  exit_code     INTEGER,
  outputs_json  TEXT NOT NULL DEFAULT '{}',
  error         TEXT NOT NULL DEFAULT '',
  stdout_bytes  INTEGER NOT NULL DEFAULT 0,      -- everything captured, and
  stdout_sha256 TEXT NOT NULL DEFAULT '',        -- its SHA-256 hex
  stderr_bytes  INTEGER NOT NULL DEFAULT 0,
  stderr_sha256 TEXT NOT NULL DEFAULT '',
  UNIQUE (run_id, step_id, attempt)
);

-- The timeline, append-only. seq is global and never reused. prev_hash and
-- hash are reserved for the hash chain (NULL in version 1).
CREATE TABLE events (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id        TEXT REFERENCES runs (id),       -- NULL: a journal-level event
  step_id       TEXT,
  attempt       INTEGER,
  ts            INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  actor         TEXT NOT NULL,
  message       TEXT NOT NULL DEFAULT '',
  data_json     TEXT NOT NULL DEFAULT '{}',
  prev_hash     TEXT,
  hash          TEXT
);
CREATE INDEX events_by_run ON events (run_id, seq);

-- Captured output, append-only, byte-exact.
CREATE TABLE output_chunks (
  id            INTEGER PRIMARY KEY,
  run_id        TEXT NOT NULL REFERENCES runs (id),
  step_id       TEXT NOT NULL,
  attempt       INTEGER NOT NULL,
  stream        TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  seq           INTEGER NOT NULL,                -- within (run, step, attempt, stream)
  ts            INTEGER NOT NULL,
  byte_offset   INTEGER NOT NULL,                -- of data's first byte in the stream
  data          BLOB NOT NULL
);
CREATE UNIQUE INDEX output_by_attempt ON output_chunks (run_id, step_id, attempt, stream, seq);
CREATE INDEX output_by_run ON output_chunks (run_id);

-- Results of check steps, append-only.
CREATE TABLE findings (
  id            INTEGER PRIMARY KEY,
  run_id        TEXT NOT NULL REFERENCES runs (id),
  step_id       TEXT NOT NULL,
  level         TEXT NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
  message       TEXT NOT NULL,
  value         TEXT NOT NULL DEFAULT '',
  threshold     TEXT NOT NULL DEFAULT '',
  ts            INTEGER NOT NULL
);
CREATE INDEX findings_by_run ON findings (run_id);

-- Human decisions on approvals, append-only.
CREATE TABLE approvals (
  id            INTEGER PRIMARY KEY,
  run_id        TEXT NOT NULL REFERENCES runs (id),
  step_id       TEXT NOT NULL,
  decision      TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
  approver      TEXT NOT NULL,                   -- the name decided with (--as)
  os_user       TEXT NOT NULL,                   -- who ran the command: user@host
  inputs_json   TEXT NOT NULL DEFAULT '{}',
  comment       TEXT NOT NULL DEFAULT '',
  ts            INTEGER NOT NULL
);
CREATE INDEX approvals_by_run ON approvals (run_id);
)sql";

// Version 2: the scheduler's slot bookkeeping (`runbook schedule`,
// docs/scheduling.md). One row per decided slot of a cron trigger; the UNIQUE
// key is what keeps a slot from being fired twice, across restarts and by two
// schedulers racing (the first INSERT wins). Keep in step with schema.sql.
constexpr std::string_view kVersion2 = R"sql(
-- The scheduler's decisions, one row per slot of a cron trigger: fired (a run
-- was started), skipped (the run's concurrency policy declined it) or missed
-- (not run in time and not caught up). run_id, outcome and reason may be
-- updated once the started run has ended; nothing is deleted.
CREATE TABLE schedule_slots (
  id            INTEGER PRIMARY KEY,
  runbook       TEXT NOT NULL,
  trigger_key   TEXT NOT NULL,                   -- "CRON tz=ZONE [params=JSON]"
  slot_at       INTEGER NOT NULL,                -- the slot's instant
  decided_at    INTEGER NOT NULL,
  decided_by    TEXT NOT NULL DEFAULT '',        -- scheduler process: host:pid
  outcome       TEXT NOT NULL CHECK (outcome IN ('fired', 'skipped', 'missed')),
  run_id        TEXT,                            -- the run started, once known
  reason        TEXT NOT NULL DEFAULT '',
  UNIQUE (runbook, trigger_key, slot_at)
);
)sql";

// Version 3: spill files (journal/spill.h). A row of output_chunks whose
// `spill` is set holds no data: its spill_bytes bytes are at spill_offset in
// the file JOURNAL.blobs/<spill>. NULL in every row written before, so older
// journals read as they were. Keep in step with schema.sql.
constexpr std::string_view kVersion3 = R"sql(
ALTER TABLE output_chunks ADD COLUMN spill TEXT;
ALTER TABLE output_chunks ADD COLUMN spill_offset INTEGER;
ALTER TABLE output_chunks ADD COLUMN spill_bytes INTEGER;
)sql";

constexpr Migration kMigrations[] = {
    {1, kVersion1},
    {2, kVersion2},
    {3, kVersion3},
};
static_assert(std::size(kMigrations) == kSchemaVersion, "one migration per schema version");

Status NotAJournal(const sqlite::Db& db, std::string_view why) {
  return Status::FailedPrecondition(db.path() + " is not a runbook journal (" + std::string(why) +
                                    ")");
}

// The file's schema version, or why it is not a journal we can use. The
// three reads must see one snapshot: another process may be creating the
// schema at this moment, and a version read before its commit with a table
// count read after it looks like another application's database. A savepoint
// is a read transaction on its own and nests inside the migration's BEGIN.
Result<int64_t> ReadVersionChecked(sqlite::Db& db);

Result<int64_t> JournalVersion(sqlite::Db& db) {
  if (Status s = db.Exec("SAVEPOINT journal_version"); !s.ok()) return s;
  Result<int64_t> version = ReadVersionChecked(db);
  (void)db.Exec("RELEASE journal_version");
  return version;
}

Result<int64_t> ReadVersionChecked(sqlite::Db& db) {
  Result<int64_t> version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  Result<int64_t> app = db.QueryInt("PRAGMA application_id");
  if (!app.ok()) return app.status();
  if (*app != 0 && *app != kApplicationId)
    return NotAJournal(db, "it is another application's SQLite database");
  if (*version == 0) {
    Result<int64_t> objects = db.QueryInt("SELECT count(*) FROM sqlite_schema");
    if (!objects.ok()) return objects.status();
    if (*objects != 0) return NotAJournal(db, "it is another application's SQLite database");
  } else if (*app != kApplicationId) {
    return NotAJournal(db, "it is another application's SQLite database");
  }
  if (*version > kSchemaVersion)
    return Status::FailedPrecondition("journal schema version " + std::to_string(*version) +
                                      " is newer than this runbook (supports " +
                                      std::to_string(kSchemaVersion) + "); upgrade runbook");
  return version;
}

Status MigrateInTransaction(sqlite::Db& db) {
  Result<int64_t> version = JournalVersion(db);
  if (!version.ok()) return version.status();
  // A new file gets the current schema in one script (it sets user_version
  // and application_id too): running the migrations one by one re-parses the
  // whole schema after each ALTER TABLE, a third of a new journal's start-up
  // (docs/performance.md). journal_tests check that both give one schema.
  if (*version == 0) return db.Exec(kSchemaSql);
  Result<int64_t> app = db.QueryInt("PRAGMA application_id");
  if (!app.ok()) return app.status();
  for (const Migration& m : kMigrations) {
    if (m.version <= *version) continue;
    if (Status s = db.Exec(m.sql); !s.ok()) return s;
    // PRAGMA takes no bound parameters; the value is our own constant.
    if (Status s = db.Exec("PRAGMA user_version = " + std::to_string(m.version)); !s.ok()) return s;
  }
  if (*app == 0) {
    if (Status s = db.Exec("PRAGMA application_id = " + std::to_string(kApplicationId)); !s.ok())
      return s;
  }
  return Status::Ok();
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

Result<int64_t> ReadJournalVersion(sqlite::Db& db) { return JournalVersion(db); }

Status CheckIsJournal(sqlite::Db& db) {
  Result<int64_t> version = JournalVersion(db);
  return version.ok() ? Status::Ok() : version.status();
}

Status MigrateToCurrent(sqlite::Db& db) {
  // Read first: almost every open finds the schema current, and then neither
  // takes the write lock (hundreds of processes opening one journal at once
  // would queue for it) nor parses any migration.
  Result<int64_t> version = JournalVersion(db);
  if (!version.ok()) return version.status();
  if (*version == kSchemaVersion) return Status::Ok();
  if (Status s = db.BeginImmediate(); !s.ok()) return s;
  Status s = MigrateInTransaction(db);
  if (s.ok()) s = db.Exec("COMMIT");
  if (!s.ok()) (void)db.Exec("ROLLBACK");
  return s;
}

}  // namespace runbook::journal
