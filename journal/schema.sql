-- The runbook journal, schema version 3: the complete schema a journal has
-- once every migration in journal/migrations.cc has run. This file is the
-- reference for readers of the format (docs/journal.md explains each column)
-- and the script that gives a new journal its schema (the build embeds it;
-- older journals are upgraded by the migrations). journal_tests checks that
-- executing this file and running the migrations give the same tables,
-- columns, constraints and indexes.
--
-- Conventions: timestamps are INTEGER microseconds since the Unix epoch (UTC);
-- *_json columns hold JSON text; ids of runs are 12 lowercase hex characters;
-- enumerations are stored as their lowercase names.

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
-- hash are the hash chain (journal/chain.h, docs/journal.md): hash = SHA-256
-- of the row's canonical encoding, prev_hash = the previous row's hash; NULL
-- only in rows written before the chain existed.
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

-- Captured output, append-only, byte-exact. A row with `spill` set (version
-- 3) holds no data: its spill_bytes bytes are at spill_offset in the spill
-- file JOURNAL.blobs/<spill> ("RUN_ID/STEP.ATTEMPT.STREAM").
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
, spill TEXT, spill_offset INTEGER, spill_bytes INTEGER
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

PRAGMA application_id = 1380076362;              -- 0x52424B4A, "RBKJ"
PRAGMA user_version = 3;
