// The synchronous core of the `sql` step: runs the text of a `query` against a
// SQLite database file with bound arguments and returns typed rows. Blocking
// and Asio-free: the executor (steps/sql.cc) calls RunQuery() on a worker
// thread and cancels it from the run's io_context thread through a
// QueryInterrupt. RunQuery() never throws; every failure is a Status whose
// message names the database ("PATH: no such table: users").
//
// Read mode opens the file read-only (SQLITE_OPEN_READONLY, URI mode=ro), sets
// PRAGMA query_only and refuses, before running it, any statement that would
// write (sqlite3_stmt_readonly). Neither mode ever creates a database file.
#pragma once

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/status.h"

struct sqlite3;

namespace runbook::steps::sql {

enum class Mode { kRead, kWrite };

// Limits; exceeding one fails the query (nothing partial is returned).
inline constexpr size_t kMaxRows = 10000;
inline constexpr size_t kMaxResultBytes = 16 * 1024 * 1024;
inline constexpr std::chrono::milliseconds kBusyTimeout{5000};

struct Query {
  std::string database;  // a file path as the user wrote it (rendered)
  std::string text;      // one or more SQL statements separated by ';'
  Mode mode = Mode::kRead;
  // Arguments, already rendered to JSON values: none, a list (for `?` and
  // `?NNN`, in order) or a mapping (for `:name`, `@name`, `$name`; the key
  // without its prefix).
  enum class Args { kNone, kList, kMapping };
  Args args = Args::kNone;
  std::vector<boost::json::value> positional;                      // kList
  std::vector<std::pair<std::string, boost::json::value>> named;   // kMapping
  std::chrono::milliseconds busy_timeout = kBusyTimeout;
  size_t max_rows = kMaxRows;
  size_t max_bytes = kMaxResultBytes;
};

struct QueryResult {
  // Ok; Cancelled ("cancelled") if interrupted; otherwise why it failed.
  Status status;
  // Of the last statement that has result columns (a SELECT, a PRAGMA that
  // reports, ... RETURNING); empty if no statement has any.
  std::vector<std::string> columns;
  boost::json::array rows;  // objects: column name -> value
  bool has_result = false;  // some statement had result columns
  long long changes = 0;    // rows inserted, updated or deleted (all statements)
  int statements = 0;       // statements run
};

// A cancel request for one running query. Cancel() may be called from any
// thread, before, during or after RunQuery(); RunQuery() then stops at the
// next opportunity (sqlite3_interrupt, the progress handler, the busy wait)
// and reports Status::Cancelled. Shared between the executor and the worker.
class QueryInterrupt {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // For RunQuery(): the connection Cancel() interrupts while attached.
  // Attach returns false (and attaches nothing) if already cancelled.
  bool Attach(sqlite3* db);
  void Detach();

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  sqlite3* db_ = nullptr;  // guarded by mu_
};

// Opens q.database, runs every statement of q.text in order, closes. Blocks;
// any thread. Several statements may not take arguments.
QueryResult RunQuery(const Query& q, QueryInterrupt& interrupt);

// A plain-text table of `columns` and the first `max_shown` of `rows` for the
// journal, followed by a line with the row count (and the number of changed
// rows when there were changes).
std::string FormatTable(const QueryResult& r, size_t max_shown);

}  // namespace runbook::steps::sql
