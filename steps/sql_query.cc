#include "steps/sql_query.h"

#include "engine/masker.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <boost/json/object.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "engine/duration.h"
#include "engine/expr/expr.h"
#include "engine/json_text.h"

namespace runbook::steps::sql {

void QueryInterrupt::Cancel() {
  cancelled_.store(true, std::memory_order_release);
  std::lock_guard<std::mutex> lock(mu_);
  if (db_) sqlite3_interrupt(db_);
}

bool QueryInterrupt::Attach(sqlite3* db) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled()) return false;
  db_ = db;
  return true;
}

void QueryInterrupt::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  db_ = nullptr;
}

namespace {

using Clock = std::chrono::steady_clock;

const char kReadOnlyRefusal[] = "query would modify the database; set mode: write to allow it";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Keeps the connection attached to the interrupt while it is open.
class AttachGuard {
 public:
  explicit AttachGuard(QueryInterrupt& i) : interrupt_(i) {}
  ~AttachGuard() {
    if (attached_) interrupt_.Detach();
  }
  bool Attach(sqlite3* db) { return attached_ = interrupt_.Attach(db); }

 private:
  QueryInterrupt& interrupt_;
  bool attached_ = false;
};

// The busy handler: waits for a lock in short sleeps so that a cancel is
// seen quickly, and gives up after the timeout ("database is locked").
struct BusyWait {
  QueryInterrupt* interrupt;
  std::chrono::milliseconds timeout;
  Clock::time_point started;
};

int OnBusy(void* arg, int count) {
  auto* w = static_cast<BusyWait*>(arg);
  if (count == 0) w->started = Clock::now();
  if (w->interrupt->cancelled()) return 0;
  auto left = w->timeout - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - w->started);
  if (left.count() <= 0) return 0;
  std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));
  return 1;
}

int OnProgress(void* arg) { return static_cast<QueryInterrupt*>(arg)->cancelled() ? 1 : 0; }

// "file:///abs/path?mode=ro": a URI whose path cannot carry parameters of
// its own (every byte outside [A-Za-z0-9-._~/] is percent-encoded).
std::string FileUri(const std::string& absolute_path, Mode mode) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string uri = "file://";
  for (unsigned char c : absolute_path) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  uri += mode == Mode::kRead ? "?mode=ro" : "?mode=rw";
  return uri;
}

// True if `p..end` holds anything but blanks, ';' and comments.
bool HasMoreSql(const char* p, const char* end) {
  while (p < end) {
    if (isspace(static_cast<unsigned char>(*p)) || *p == ';') {
      ++p;
    } else if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
      while (p < end && *p != '\n') ++p;
    } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
      const char* close = nullptr;
      for (const char* q = p + 2; q + 1 < end; ++q)
        if (q[0] == '*' && q[1] == '/') {
          close = q;
          break;
        }
      if (!close) return false;  // an unterminated comment runs to the end
      p = close + 2;
    } else {
      return true;
    }
  }
  return false;
}

// Bytes of `s` with every invalid UTF-8 sequence replaced by U+FFFD, so that
// rows always serialize to valid JSON.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) {
      // Overlong forms, surrogates and values above U+10FFFF are invalid too.
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if (len == 2) ok = c >= 0xC2;
      if (len == 3) ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
      if (len == 4) ok = !(c == 0xF0 && c1 < 0x90) && c <= 0xF4 && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// "16 MiB", or "2048 bytes" for a limit that is not a whole number of MiB.
std::string SizeText(size_t bytes) {
  constexpr size_t kMiB = 1024 * 1024;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

int BindValue(sqlite3_stmt* stmt, int index, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return sqlite3_bind_null(stmt, index);
    case boost::json::kind::bool_: return sqlite3_bind_int(stmt, index, v.get_bool() ? 1 : 0);
    case boost::json::kind::int64: return sqlite3_bind_int64(stmt, index, v.get_int64());
    case boost::json::kind::uint64:
      if (v.get_uint64() <= static_cast<uint64_t>(INT64_MAX))
        return sqlite3_bind_int64(stmt, index, static_cast<sqlite3_int64>(v.get_uint64()));
      return sqlite3_bind_double(stmt, index, static_cast<double>(v.get_uint64()));
    case boost::json::kind::double_: return sqlite3_bind_double(stmt, index, v.get_double());
    case boost::json::kind::string: {
      const auto& s = v.get_string();
      return sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    case boost::json::kind::array:
    case boost::json::kind::object: {
      std::string text = JsonText(v);
      return sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
  }
  return SQLITE_MISUSE;
}

class QueryRun {
 public:
  QueryRun(const Query& q, QueryInterrupt& interrupt) : q_(q), interrupt_(interrupt), attach_(interrupt) {}

  QueryResult Run() {
    QueryResult r;
    r.status = RunAll(r);
    if (!r.status.ok()) {
      if (r.status.code() == Status::Code::kCancelled || interrupt_.cancelled()) r.status = Status::Cancelled("cancelled");
      r.columns.clear();
      r.rows.clear();
    }
    return r;
  }

 private:
  Status Error(const std::string& message) const { return Status::IoError(q_.database + ": " + message); }
  Status SqliteError(int rc) {
    if ((rc & 0xff) == SQLITE_INTERRUPT || interrupt_.cancelled()) return Status::Cancelled("cancelled");
    std::string msg = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_BUSY) msg += " (gave up after " + FormatDuration(q_.busy_timeout) + ")";
    // Statement numbers only help once there is more than one.
    return Error((current_ > 1 ? "statement " + std::to_string(current_) + ": " : std::string()) + msg);
  }

  Status Open() {
    if (q_.database.empty()) return Status::InvalidArgument("'database' is empty");
    struct stat st;
    if (stat(q_.database.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound("database does not exist: " + q_.database);
      return Error(strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) return Error("is a directory, not a database file");
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(q_.database, ec);
    if (ec) return Error(ec.message());
    int flags = SQLITE_OPEN_URI | (q_.mode == Mode::kRead ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(FileUri(abs.string(), q_.mode).c_str(), &raw, flags, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) return SqliteError(rc);
    sqlite3* db = db_.get();
    sqlite3_extended_result_codes(db, 1);
    if (!attach_.Attach(db)) return Status::Cancelled("cancelled");
    busy_ = BusyWait{&interrupt_, q_.busy_timeout, Clock::now()};
    sqlite3_busy_handler(db, OnBusy, &busy_);
    sqlite3_progress_handler(db, 1000, OnProgress, &interrupt_);
    // No writes to the schema table, no functions with side effects run
    // from views or triggers of a file we do not control.
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    if (q_.mode == Mode::kRead) {
      rc = sqlite3_exec(db, "PRAGMA query_only = 1", nullptr, nullptr, nullptr);
      if (rc != SQLITE_OK) return SqliteError(rc);
    }
    return Status::Ok();
  }

  Status Bind(sqlite3_stmt* stmt) {
    int count = sqlite3_bind_parameter_count(stmt);
    bool named = false;
    for (int i = 1; i <= count; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      if (name && name[0] != '?') named = true;
    }
    if (q_.args == Query::Args::kNone) {
      if (count == 0) return Status::Ok();
      return Status::InvalidArgument("query has parameters (" + std::string(named ? ":name" : "?") +
                                     ") but the step has no 'args'");
    }
    if (q_.args == Query::Args::kList && named)
      return Status::InvalidArgument("query uses named parameters (:name); give 'args' as a mapping");
    if (q_.args == Query::Args::kMapping && count > 0 && !named)
      return Status::InvalidArgument("query uses positional parameters (?); give 'args' as a list");
    if (q_.args == Query::Args::kList) {
      if (static_cast<size_t>(count) != q_.positional.size())
        return Status::InvalidArgument("query has " + std::to_string(count) + " parameter" + (count == 1 ? "" : "s") +
                                       " but 'args' has " + std::to_string(q_.positional.size()) + " value" +
                                       (q_.positional.size() == 1 ? "" : "s"));
      for (int i = 1; i <= count; ++i) {
        int rc = BindValue(stmt, i, q_.positional[i - 1]);
        if (rc != SQLITE_OK) return SqliteError(rc);
      }
      return Status::Ok();
    }
    std::vector<bool> used(q_.named.size(), false);
    for (int i = 1; i <= count; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      if (!name || name[0] == '?') return Status::InvalidArgument("query mixes positional (?) and named parameters");
      std::string key = name + 1;
      size_t k = 0;
      while (k < q_.named.size() && q_.named[k].first != key) ++k;
      if (k == q_.named.size())
        return Status::InvalidArgument("query parameter '" + std::string(name) + "' has no value in 'args'");
      used[k] = true;
      int rc = BindValue(stmt, i, q_.named[k].second);
      if (rc != SQLITE_OK) return SqliteError(rc);
    }
    for (size_t k = 0; k < used.size(); ++k)
      if (!used[k])
        return Status::InvalidArgument("'args' has '" + q_.named[k].first + "' but the query has no parameter :" +
                                       q_.named[k].first);
    return Status::Ok();
  }

  boost::json::value Column(sqlite3_stmt* stmt, int i, size_t& bytes) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER: return sqlite3_column_int64(stmt, i);
      case SQLITE_FLOAT: return sqlite3_column_double(stmt, i);
      case SQLITE_TEXT: {
        const char* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        std::string_view text(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
        bytes += text.size();
        return boost::json::string(ValidUtf8(text));
      }
      case SQLITE_BLOB: {
        const void* p = sqlite3_column_blob(stmt, i);
        std::string_view blob(static_cast<const char*>(p), p ? static_cast<size_t>(sqlite3_column_bytes(stmt, i)) : 0);
        bytes += blob.size() * 4 / 3;
        return boost::json::string(runbook::Base64(blob));  // BLOBs appear in rows as base64
      }
      default: return nullptr;
    }
  }

  // Steps one prepared statement to the end; keeps its rows if it has columns.
  Status Execute(sqlite3_stmt* stmt, QueryResult& r) {
    int ncols = sqlite3_column_count(stmt);
    std::vector<std::string> columns;
    boost::json::array rows;
    for (int i = 0; i < ncols; ++i) {
      const char* name = sqlite3_column_name(stmt, i);
      columns.push_back(name ? ValidUtf8(name) : "column" + std::to_string(i + 1));
    }
    size_t bytes = 0;
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(rc);
      if (rows.size() >= q_.max_rows)
        return Status::FailedPrecondition("query returned more than " + std::to_string(q_.max_rows) +
                                          " rows; add LIMIT");
      boost::json::object row;
      for (int i = 0; i < ncols; ++i) {
        row[columns[i]] = Column(stmt, i, bytes);
        bytes += columns[i].size() + 8;
      }
      if (bytes > q_.max_bytes)
        return Status::FailedPrecondition("query result is larger than " + SizeText(q_.max_bytes) +
                                          "; select fewer rows or columns");
      rows.push_back(std::move(row));
    }
    if (ncols > 0) {
      r.has_result = true;
      r.columns = std::move(columns);
      r.rows = std::move(rows);
    }
    return Status::Ok();
  }

  Status RunAll(QueryResult& r) {
    if (interrupt_.cancelled()) return Status::Cancelled("cancelled");
    if (q_.text.find('\0') != std::string::npos) return Status::InvalidArgument("'query' contains a NUL byte");
    if (Status s = Open(); !s.ok()) return s;
    sqlite3* db = db_.get();
    const sqlite3_int64 changes_before = sqlite3_total_changes64(db);
    const char* p = q_.text.data();
    const char* end = p + q_.text.size();
    while (p < end) {
      if (interrupt_.cancelled()) return Status::Cancelled("cancelled");
      const char* tail = nullptr;
      sqlite3_stmt* raw = nullptr;
      current_ = r.statements + 1;
      int rc = sqlite3_prepare_v2(db, p, static_cast<int>(end - p), &raw, &tail);
      StmtPtr stmt(raw);
      if (rc != SQLITE_OK) return SqliteError(rc);
      if (!tail || tail <= p) break;  // no progress: nothing more to read
      p = tail;
      if (!stmt) continue;  // only blanks or a comment
      ++r.statements;
      if (q_.args != Query::Args::kNone && (r.statements > 1 || HasMoreSql(p, end)))
        return Status::InvalidArgument(
            "'args' cannot be used with several statements in 'query'; use one statement, or one step per statement");
      if (q_.mode == Mode::kRead && !sqlite3_stmt_readonly(stmt.get()))
        return Status::FailedPrecondition(kReadOnlyRefusal);
      if (Status s = Bind(stmt.get()); !s.ok()) return s;
      if (Status s = Execute(stmt.get(), r); !s.ok()) return s;
    }
    if (r.statements == 0) return Status::InvalidArgument("'query' has no SQL statement");
    r.changes = sqlite3_total_changes64(db) - changes_before;
    if (!sqlite3_get_autocommit(db))
      return Error("query left a transaction open (BEGIN without COMMIT); it was rolled back");
    return Status::Ok();
  }

  const Query& q_;
  QueryInterrupt& interrupt_;
  BusyWait busy_{};
  int current_ = 0;  // 1-based number of the statement being prepared or run
  // Destroyed in reverse: the interrupt lets go of the connection first.
  DbPtr db_;
  AttachGuard attach_;
};

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// A cell as shown in the table: one line, at most 60 characters.
std::string Cell(const boost::json::value& v) {
  if (v.is_null()) return "NULL";
  std::string text = expr::ToDisplayString(v);
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80 && ++chars > 60) {
      out += "...";
      break;
    }
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace

QueryResult RunQuery(const Query& q, QueryInterrupt& interrupt) {
  try {
    QueryRun run(q, interrupt);
    return run.Run();
  } catch (const std::exception& e) {
    QueryResult r;
    r.status = Status::Internal(q.database + ": " + e.what());
    return r;
  }
}

std::string FormatTable(const QueryResult& r, size_t max_shown) {
  std::string out;
  if (r.has_result) {
    size_t shown = std::min(max_shown, r.rows.size());
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width;
    std::vector<std::string> header;
    for (const auto& c : r.columns) {
      header.push_back(Cell(boost::json::value(c)));
      width.push_back(DisplayWidth(header.back()));
    }
    for (size_t i = 0; i < shown; ++i) {
      std::vector<std::string> line;
      const auto& row = r.rows[i].as_object();
      for (size_t c = 0; c < r.columns.size(); ++c) {
        const boost::json::value* v = row.if_contains(r.columns[c]);
        line.push_back(v ? Cell(*v) : "NULL");
        width[c] = std::max(width[c], DisplayWidth(line.back()));
      }
      cells.push_back(std::move(line));
    }
    auto add_line = [&](const std::vector<std::string>& values) {
      std::string text;
      for (size_t c = 0; c < values.size(); ++c) {
        if (c > 0) text += " | ";
        text += values[c];
        if (c + 1 < values.size()) text.append(width[c] - DisplayWidth(values[c]), ' ');
      }
      out += text + "\n";
    };
    add_line(header);
    std::string rule;
    for (size_t c = 0; c < width.size(); ++c) rule += (c > 0 ? "-+-" : "") + std::string(width[c], '-');
    out += rule + "\n";
    for (const auto& line : cells) add_line(line);
    if (shown < r.rows.size())
      out += "(showing the first " + std::to_string(shown) + " of " + std::to_string(r.rows.size()) + " rows)\n";
    else
      out += "(" + std::to_string(r.rows.size()) + (r.rows.size() == 1 ? " row)\n" : " rows)\n");
  }
  if (r.changes > 0 || !r.has_result)
    out += std::to_string(r.changes) + (r.changes == 1 ? " row" : " rows") + " changed\n";
  return out;
}

}  // namespace runbook::steps::sql
