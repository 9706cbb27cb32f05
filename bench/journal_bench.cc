// journal_bench: how fast the journal (journal/journal.h) takes events, next
// to raw SQLite doing the same inserts in batches, so that bench/harness.py can
// report the journal's rate as a share of what SQLite itself sustains on the
// same disk. Single process; each mode works in a fresh file under DIR.
//
//   journal_bench journal N DIR   N events through Journal::AppendEvent, one
//                                 SyncBlocking at the end (the writer thread
//                                 group-commits whatever is queued)
//   journal_bench steps N DIR     the engine's per-step pattern, N times, one
//                                 step after the other: PutAttempt(running) +
//                                 step_started event + SyncBlocking (the
//                                 barrier before a step starts), then
//                                 PutAttempt(succeeded) + step_finished event
//   journal_bench raw N DIR [B]   N rows into a table shaped like `events`
//                                 with the sqlite3 C API: WAL,
//                                 synchronous=NORMAL, one prepared statement,
//                                 B rows per transaction (default 1000)
//   journal_bench blobs MB DIR [CHUNK] [B]
//                                 MB megabytes of CHUNK-byte blobs (default
//                                 65536) into a table shaped like
//                                 `output_chunks`, B per transaction (default
//                                 1: the "one blob per transaction" figure)
//
// Prints one line "MODE: N items in S s = R items/s" (blobs: also MB/s).
// Exits 1 on any error. The clock covers the inserts and the final commit,
// not opening or creating the file.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "journal/identity.h"
#include "journal/journal.h"

namespace {

namespace jr = runbook::journal;
using Clock = std::chrono::steady_clock;

int Fail(const std::string& what) {
  std::fprintf(stderr, "journal_bench: %s\n", what.c_str());
  return 1;
}

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

void Report(const char* mode, long n, double s, const char* unit) {
  std::printf("%s: %ld %s in %.3f s = %.0f %s/s\n", mode, n, unit, s, static_cast<double>(n) / s, unit);
}

// An event like the engine's step_finished.
jr::EventRecord MakeEvent(const std::string& run_id, long i) {
  jr::EventRecord e;
  e.run_id = run_id;
  e.step_id = "step-" + std::to_string(i);
  e.attempt = 1;
  e.ts_us = jr::NowMicros();
  e.kind = "step_finished";
  e.actor = "bench@localhost";
  e.message = "succeeded";
  e.data_json = R"({"status":"succeeded","duration_ms":3,"exit_code":0})";
  return e;
}

std::unique_ptr<jr::Journal> OpenWithRun(const std::string& dir, std::string& run_id) {
  auto j = jr::Journal::Open(dir + "/journal.db");
  if (!j.ok()) {
    Fail(j.status().message());
    return nullptr;
  }
  run_id = jr::NewRunId();
  jr::RunRecord r;
  r.id = run_id;
  r.runbook = "journal-bench";
  r.content_hash = std::string(64, '0');
  r.source_text = "name: journal-bench\n";
  r.actor = "bench@localhost";
  r.process = jr::CurrentProcess();
  (*j)->CreateRun(std::move(r));
  if (auto s = (*j)->SyncBlocking(); !s.ok()) {
    Fail(s.message());
    return nullptr;
  }
  return std::move(*j);
}

int JournalEvents(long n, const std::string& dir) {
  std::string run_id;
  auto j = OpenWithRun(dir, run_id);
  if (!j) return 1;
  auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) j->AppendEvent(MakeEvent(run_id, i));
  if (auto s = j->SyncBlocking(); !s.ok()) return Fail(s.message());
  Report("journal", n, Seconds(t0), "events");
  return j->Close().ok() ? 0 : 1;
}

int JournalSteps(long n, const std::string& dir) {
  std::string run_id;
  auto j = OpenWithRun(dir, run_id);
  if (!j) return 1;
  auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) {
    jr::AttemptRecord a;
    a.run_id = run_id;
    a.step_id = "step-" + std::to_string(i);
    a.status = jr::AttemptStatus::kRunning;
    a.started_at_us = jr::NowMicros();
    j->PutAttempt(a);
    jr::EventRecord started = MakeEvent(run_id, i);
    started.kind = "step_started";
    started.message = "attempt 1 of 1";
    started.data_json = "{}";
    j->AppendEvent(std::move(started));
    if (auto s = j->SyncBlocking(); !s.ok()) return Fail(s.message());
    a.status = jr::AttemptStatus::kSucceeded;
    a.finished_at_us = jr::NowMicros();
    a.exit_code = 0;
    a.stdout_digest = {0, std::string(64, 'e')};
    a.stderr_digest = {0, std::string(64, 'e')};
    j->PutAttempt(std::move(a));
    j->AppendEvent(MakeEvent(run_id, i));
  }
  if (auto s = j->SyncBlocking(); !s.ok()) return Fail(s.message());
  double s = Seconds(t0);
  std::printf("steps: %ld steps in %.3f s = %.0f steps/s (%.1f us per step, 4 records + 1 barrier each)\n", n, s,
              static_cast<double>(n) / s, s * 1e6 / static_cast<double>(n));
  return j->Close().ok() ? 0 : 1;
}

// --- Raw SQLite --------------------------------------------------------------

class RawDb {
 public:
  ~RawDb() {
    if (st_) sqlite3_finalize(st_);
    if (db_) sqlite3_close(db_);
  }
  bool Open(const std::string& path) {
    return sqlite3_open(path.c_str(), &db_) == SQLITE_OK && Exec("PRAGMA journal_mode = WAL") &&
           Exec("PRAGMA synchronous = NORMAL");
  }
  bool Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return true;
    Fail(std::string(sql) + ": " + sqlite3_errmsg(db_));
    return false;
  }
  bool Prepare(const char* sql) {
    if (sqlite3_prepare_v2(db_, sql, -1, &st_, nullptr) == SQLITE_OK) return true;
    Fail(std::string(sql) + ": " + sqlite3_errmsg(db_));
    return false;
  }
  bool Step() {
    int rc = sqlite3_step(st_);
    sqlite3_reset(st_);
    if (rc == SQLITE_DONE) return true;
    Fail(std::string("insert: ") + sqlite3_errmsg(db_));
    return false;
  }
  sqlite3_stmt* st() { return st_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
};

void BindText(sqlite3_stmt* st, int i, const std::string& s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

int RawEvents(long n, const std::string& dir, long batch) {
  RawDb db;
  if (!db.Open(dir + "/raw.db")) return 1;
  if (!db.Exec("CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, step_id TEXT,"
               " attempt INTEGER, ts INTEGER NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,"
               " message TEXT NOT NULL DEFAULT '', data_json TEXT NOT NULL DEFAULT '{}', prev_hash TEXT,"
               " hash TEXT);"
               "CREATE INDEX events_by_run ON events (run_id, seq);") ||
      !db.Prepare("INSERT INTO events (run_id, step_id, attempt, ts, kind, actor, message, data_json)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"))
    return 1;
  const std::string run_id = jr::NewRunId();
  auto t0 = Clock::now();
  for (long i = 0; i < n;) {
    if (!db.Exec("BEGIN")) return 1;
    for (long k = 0; k < batch && i < n; ++k, ++i) {
      jr::EventRecord e = MakeEvent(run_id, i);  // the same work of building the row
      sqlite3_stmt* st = db.st();
      BindText(st, 1, e.run_id);
      BindText(st, 2, e.step_id);
      sqlite3_bind_int(st, 3, *e.attempt);
      sqlite3_bind_int64(st, 4, e.ts_us);
      BindText(st, 5, e.kind);
      BindText(st, 6, e.actor);
      BindText(st, 7, e.message);
      BindText(st, 8, e.data_json);
      if (!db.Step()) return 1;
    }
    if (!db.Exec("COMMIT")) return 1;
  }
  Report("raw", n, Seconds(t0), "events");
  return 0;
}

int RawBlobs(long megabytes, const std::string& dir, long chunk, long batch) {
  RawDb db;
  if (!db.Open(dir + "/blobs.db")) return 1;
  if (!db.Exec("CREATE TABLE output_chunks (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,"
               " step_id TEXT NOT NULL, attempt INTEGER NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,"
               " ts INTEGER NOT NULL, byte_offset INTEGER NOT NULL, data BLOB NOT NULL);"
               "CREATE UNIQUE INDEX output_by_attempt ON output_chunks (run_id, step_id, attempt, stream, seq);") ||
      !db.Prepare("INSERT INTO output_chunks (run_id, step_id, attempt, stream, seq, ts, byte_offset, data)"
                  " VALUES ('r', 's', 1, 'stdout', ?1, ?2, ?3, ?4)"))
    return 1;
  std::string data(static_cast<size_t>(chunk), 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 23);
  const long n = megabytes * 1000000 / chunk;
  auto t0 = Clock::now();
  for (long i = 0; i < n;) {
    if (!db.Exec("BEGIN")) return 1;
    for (long k = 0; k < batch && i < n; ++k, ++i) {
      sqlite3_stmt* st = db.st();
      sqlite3_bind_int64(st, 1, i);
      sqlite3_bind_int64(st, 2, jr::NowMicros());
      sqlite3_bind_int64(st, 3, i * chunk);
      sqlite3_bind_blob(st, 4, data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
      if (!db.Step()) return 1;
    }
    if (!db.Exec("COMMIT")) return 1;
  }
  double s = Seconds(t0);
  std::printf("blobs: %ld chunks of %ld bytes, %ld per transaction, in %.3f s = %.1f MB/s\n", n, chunk, batch, s,
              static_cast<double>(n * chunk) / 1e6 / s);
  return 0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: journal_bench journal|steps N DIR\n"
               "       journal_bench raw N DIR [ROWS_PER_TRANSACTION]\n"
               "       journal_bench blobs MB DIR [CHUNK_BYTES] [CHUNKS_PER_TRANSACTION]\n");
  return 2;
}

long Number(const char* s) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  return *end == '\0' && v > 0 ? v : -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return Usage();
  std::string mode = argv[1];
  long n = Number(argv[2]);
  std::string dir = argv[3];
  if (n < 0) return Usage();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(dir + ": " + ec.message());
  if (mode == "journal" && argc == 4) return JournalEvents(n, dir);
  if (mode == "steps" && argc == 4) return JournalSteps(n, dir);
  if (mode == "raw" && argc <= 5) {
    long batch = argc == 5 ? Number(argv[4]) : 1000;
    return batch < 0 ? Usage() : RawEvents(n, dir, batch);
  }
  if (mode == "blobs" && argc <= 6) {
    long chunk = argc >= 5 ? Number(argv[4]) : 65536;
    long batch = argc == 6 ? Number(argv[5]) : 1;
    return chunk < 0 || batch < 0 ? Usage() : RawBlobs(n, dir, chunk, batch);
  }
  return Usage();
}
