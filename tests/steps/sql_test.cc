// The `sql` step against real SQLite files in a temporary directory: first
// the synchronous core (steps/sql_query.h) — types, bound arguments, the
// read-only guard, write mode, limits, locks, cancellation — then the
// executor through the real Runner and journal: expect, timeouts and outputs
// read by later steps. Time bounds are generous (a loaded 2-core machine):
// they only separate "stopped on cancel" from "ran the query to its end".
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/loader.h"
#include "engine/runner.h"
#include "steps/registry.h"
#include "steps/sql_query.h"

namespace runbook::steps {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A query that runs for minutes unless interrupted.
const char kEndlessQuery[] =
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) SELECT count(*) AS n FROM c";
const char kRefusal[] = "query would modify the database; set mode: write to allow it";
const char kInjection[] = "'; DROP TABLE x; --";

fs::path TestDir(const std::string& prefix) {
  fs::path dir = fs::temp_directory_path() / (prefix + "-" + std::to_string(getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs fixture SQL on `path` (created if missing) with the plain C API.
void Exec(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// Inserts `value` into x(name) with a bound parameter.
void InsertName(const fs::path& path, const std::string& value) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO x(name) VALUES (?)", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_text(st, 1, value.c_str(), -1, SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

std::string FileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SqlQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir("sql-query-test");
    db_ = dir_ / "app.db";
    Exec(db_,
         "CREATE TABLE x(id INTEGER PRIMARY KEY, name TEXT, score REAL, note TEXT, data BLOB);"
         "INSERT INTO x VALUES (1, 'alice', 9.5, NULL, x'00FF10');"
         "INSERT INTO x VALUES (2, 'bob', 7, 'second', NULL);");
  }
  void TearDown() override { fs::remove_all(dir_); }

  sql::Query Q(const std::string& text, sql::Mode mode = sql::Mode::kRead) {
    sql::Query q;
    q.database = db_.string();
    q.text = text;
    q.mode = mode;
    return q;
  }
  sql::QueryResult Run(const sql::Query& q) {
    sql::QueryInterrupt interrupt;
    return sql::RunQuery(q, interrupt);
  }
  long long Count(const std::string& from) {
    auto r = Run(Q("SELECT count(*) AS n FROM " + from));
    EXPECT_TRUE(r.status.ok()) << r.status.message();
    return r.rows.empty() ? -1 : r.rows[0].at("n").as_int64();
  }

  fs::path dir_;
  fs::path db_;
};

TEST_F(SqlQueryTest, RowsAreObjectsWithSqliteTypesMapped) {
  auto r = Run(Q("SELECT id, name, score, note, data FROM x ORDER BY id"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.columns, (std::vector<std::string>{"id", "name", "score", "note", "data"}));
  ASSERT_EQ(r.rows.size(), 2u);
  const auto& a = r.rows[0].as_object();
  EXPECT_TRUE(a.at("id").is_int64());
  EXPECT_EQ(a.at("id").as_int64(), 1);
  EXPECT_EQ(a.at("name").as_string(), "alice");
  EXPECT_TRUE(a.at("score").is_double());
  EXPECT_EQ(a.at("score").as_double(), 9.5);
  EXPECT_TRUE(a.at("note").is_null());
  EXPECT_EQ(a.at("data").as_string(), "AP8Q");  // base64 of 00 FF 10
  const auto& b = r.rows[1].as_object();
  EXPECT_TRUE(b.at("score").is_double()) << "a REAL column keeps 7 as a double";
  EXPECT_TRUE(b.at("data").is_null());
  EXPECT_EQ(r.statements, 1);
  EXPECT_EQ(r.changes, 0);
}

TEST_F(SqlQueryTest, ListArgsAreBoundSoAnInjectionStaysAValue) {
  InsertName(db_, kInjection);
  auto q = Q("SELECT id, name FROM x WHERE name = ?");
  q.args = sql::Query::Args::kList;
  q.positional = {boost::json::value(kInjection)};
  auto r = Run(q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].at("name").as_string(), kInjection);

  // In write mode as well: the value is inserted as text, nothing is dropped.
  auto w = Q("INSERT INTO x(name) VALUES (?)", sql::Mode::kWrite);
  w.args = sql::Query::Args::kList;
  w.positional = {boost::json::value(kInjection)};
  auto wr = Run(w);
  ASSERT_TRUE(wr.status.ok()) << wr.status.message();
  EXPECT_EQ(wr.changes, 1);
  EXPECT_EQ(Count("x"), 4);
  EXPECT_EQ(Count("x WHERE name = '''; DROP TABLE x; --'"), 2);
}

TEST_F(SqlQueryTest, ArgValuesKeepTheirTypes) {
  auto q = Q("SELECT typeof(?1) AS t1, ?1 AS v1, typeof(?2) AS t2, typeof(?3) AS t3, ?4 AS v4, typeof(?5) AS t5, "
             "?6 AS v6, typeof(?6) AS t6, ?7 AS v7");
  q.args = sql::Query::Args::kList;
  q.positional = {boost::json::value(42),   boost::json::value("42"),
                  boost::json::value(1.5),  boost::json::value(true),
                  boost::json::value(nullptr), boost::json::parse(R"([1,"a"])"),
                  boost::json::parse(R"({"k":null})")};
  auto r = Run(q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  const auto& row = r.rows.at(0).as_object();
  EXPECT_EQ(row.at("t1").as_string(), "integer");
  EXPECT_EQ(row.at("v1").as_int64(), 42);
  EXPECT_EQ(row.at("t2").as_string(), "text");
  EXPECT_EQ(row.at("t3").as_string(), "real");
  EXPECT_EQ(row.at("v4").as_int64(), 1);
  EXPECT_EQ(row.at("t5").as_string(), "null");
  EXPECT_EQ(row.at("v6").as_string(), R"([1,"a"])");
  EXPECT_EQ(row.at("t6").as_string(), "text");
  EXPECT_EQ(row.at("v7").as_string(), R"({"k":null})");
}

TEST_F(SqlQueryTest, MappingArgsBindColonAtAndDollarNames) {
  auto q = Q("SELECT name FROM x WHERE id = :id OR name = @name OR note = $note ORDER BY id");
  q.args = sql::Query::Args::kMapping;
  q.named = {{"id", boost::json::value(1)}, {"name", boost::json::value("nobody")}, {"note", boost::json::value("second")}};
  auto r = Run(q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].at("name").as_string(), "alice");
  EXPECT_EQ(r.rows[1].at("name").as_string(), "bob");
}

TEST_F(SqlQueryTest, ArgumentMismatchesAreErrors) {
  struct Case {
    std::string sql;
    sql::Query::Args args;
    std::vector<boost::json::value> positional;
    std::vector<std::pair<std::string, boost::json::value>> named;
    std::string error;
  };
  const Case cases[] = {
      {"SELECT ?", sql::Query::Args::kNone, {}, {}, "query has parameters (?) but the step has no 'args'"},
      {"SELECT ?, ?", sql::Query::Args::kList, {1}, {}, "query has 2 parameters but 'args' has 1 value"},
      {"SELECT 1", sql::Query::Args::kList, {1}, {}, "query has 0 parameters but 'args' has 1 value"},
      {"SELECT :a", sql::Query::Args::kList, {1}, {}, "query uses named parameters (:name); give 'args' as a mapping"},
      {"SELECT ?", sql::Query::Args::kMapping, {}, {{"a", 1}}, "query uses positional parameters (?); give 'args' as a list"},
      {"SELECT :a", sql::Query::Args::kMapping, {}, {{"b", 1}}, "query parameter ':a' has no value in 'args'"},
      {"SELECT :a", sql::Query::Args::kMapping, {}, {{"a", 1}, {"b", 2}},
       "'args' has 'b' but the query has no parameter :b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    auto q = Q(c.sql);
    q.args = c.args;
    q.positional = c.positional;
    q.named = c.named;
    auto r = Run(q);
    EXPECT_EQ(r.status.message(), c.error);
  }
}

TEST_F(SqlQueryTest, ReadModeRefusesEveryWriteAndLeavesTheFileUnchanged) {
  fs::path other = dir_ / "other.db";
  Exec(other, "CREATE TABLE t(a); INSERT INTO t VALUES (1);");
  const std::string before = FileBytes(db_), other_before = FileBytes(other);
  const std::string writes[] = {
      "INSERT INTO x(name) VALUES ('eve')",
      "UPDATE x SET name = 'eve'",
      "DELETE FROM x",
      "CREATE TABLE y(a)",
      "DROP TABLE x",
      "CREATE INDEX xi ON x(name)",
      "SELECT 1; DELETE FROM x",
      "ATTACH '" + other.string() + "' AS o; INSERT INTO o.t VALUES (2)",
      "ATTACH '" + other.string() + "' AS o; DELETE FROM o.t",
      "VACUUM INTO '" + (dir_ / "copy.db").string() + "'",
      "PRAGMA user_version = 7",
  };
  for (const auto& sql : writes) {
    SCOPED_TRACE(sql);
    auto r = Run(Q(sql));
    EXPECT_EQ(r.status.message(), kRefusal);
  }
  EXPECT_EQ(FileBytes(db_), before);
  EXPECT_EQ(FileBytes(other), other_before);
  EXPECT_FALSE(fs::exists(dir_ / "copy.db"));
  EXPECT_EQ(Count("x"), 2);
}

TEST_F(SqlQueryTest, WriteModeWritesAndCountsChanges) {
  auto r = Run(Q("UPDATE x SET score = score + 1", sql::Mode::kWrite));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.changes, 2);
  EXPECT_FALSE(r.has_result);
  EXPECT_TRUE(r.rows.empty());
  auto after = Run(Q("SELECT score FROM x WHERE id = 1"));
  EXPECT_EQ(after.rows.at(0).at("score").as_double(), 10.5);
  // RETURNING makes a write produce rows.
  auto ret = Run(Q("DELETE FROM x WHERE id = 2 RETURNING name", sql::Mode::kWrite));
  ASSERT_TRUE(ret.status.ok()) << ret.status.message();
  ASSERT_EQ(ret.rows.size(), 1u);
  EXPECT_EQ(ret.rows[0].at("name").as_string(), "bob");
}

TEST_F(SqlQueryTest, AMissingDatabaseIsNeverCreated) {
  for (auto mode : {sql::Mode::kRead, sql::Mode::kWrite}) {
    auto q = Q("CREATE TABLE t(a)", mode);
    q.database = (dir_ / "missing.db").string();
    auto r = Run(q);
    EXPECT_EQ(r.status.message(), "database does not exist: " + q.database);
    EXPECT_FALSE(fs::exists(dir_ / "missing.db"));
  }
  // Attaching a missing file in write mode does not create it either.
  auto a = Run(Q("ATTACH '" + (dir_ / "new.db").string() + "' AS n", sql::Mode::kWrite));
  EXPECT_FALSE(a.status.ok());
  EXPECT_FALSE(fs::exists(dir_ / "new.db"));
}

TEST_F(SqlQueryTest, APathIsNeverReadAsUriParameters) {
  fs::path odd = dir_ / "odd?mode=rwc#x%41.db";
  Exec(odd, "CREATE TABLE t(a); INSERT INTO t VALUES (5);");
  auto q = Q("SELECT a FROM t");
  q.database = odd.string();
  auto r = Run(q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows.at(0).at("a").as_int64(), 5);
  q.database = (dir_ / "nothing?mode=rwc").string();
  EXPECT_EQ(Run(q).status.message(), "database does not exist: " + q.database);
  EXPECT_FALSE(fs::exists(dir_ / "nothing"));
}

TEST_F(SqlQueryTest, ErrorsCarryThePathAndSqlitesMessage) {
  auto r = Run(Q("SELECT * FROM nope"));
  EXPECT_EQ(r.status.message(), db_.string() + ": no such table: nope");
  r = Run(Q("SELEC 1"));
  EXPECT_EQ(r.status.message(), db_.string() + ": near \"SELEC\": syntax error");
  fs::path text = dir_ / "notes.txt";
  std::ofstream(text) << "this is not a database, just some text long enough to have a header\n";
  auto q = Q("SELECT 1 FROM sqlite_master");
  q.database = text.string();
  EXPECT_EQ(Run(q).status.message(), text.string() + ": file is not a database");
  q.database = dir_.string();
  EXPECT_EQ(Run(q).status.message(), dir_.string() + ": is a directory, not a database file");
  EXPECT_EQ(Run(Q(" -- nothing\n ; ")).status.message(), "'query' has no SQL statement");
}

TEST_F(SqlQueryTest, SeveralStatementsRunInOrderAndTheLastResultIsKept) {
  auto r = Run(Q("CREATE TABLE t(a);\n"
                 "INSERT INTO t VALUES (1);\n"
                 "SELECT 'first' AS which;\n"
                 "INSERT INTO t VALUES (2);\n"
                 "SELECT count(*) AS n FROM t;\n"
                 "-- a trailing comment\n",
                 sql::Mode::kWrite));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.statements, 5);
  EXPECT_EQ(r.changes, 2);
  EXPECT_EQ(r.columns, std::vector<std::string>{"n"});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].at("n").as_int64(), 2);
  // A later statement's error names it.
  auto bad = Run(Q("SELECT 1; SELECT * FROM nope"));
  EXPECT_EQ(bad.status.message(), db_.string() + ": statement 2: no such table: nope");
}

TEST_F(SqlQueryTest, ArgsWithSeveralStatementsAreRefusedBeforeAnythingRuns) {
  auto q = Q("CREATE TABLE t(a); INSERT INTO t VALUES (?)", sql::Mode::kWrite);
  q.args = sql::Query::Args::kList;
  q.positional = {boost::json::value(1)};
  EXPECT_EQ(Run(q).status.message(),
            "'args' cannot be used with several statements in 'query'; use one statement, or one step per statement");
  EXPECT_EQ(Count("sqlite_master WHERE name = 't'"), 0);
  // A trailing ';' or comment is not another statement.
  auto one = Q("SELECT ? AS v; -- the value\n");
  one.args = sql::Query::Args::kList;
  one.positional = {boost::json::value("ok")};
  auto r = Run(one);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows.at(0).at("v").as_string(), "ok");
}

TEST_F(SqlQueryTest, ATransactionLeftOpenIsAnErrorAndRolledBack) {
  auto r = Run(Q("BEGIN; DELETE FROM x", sql::Mode::kWrite));
  EXPECT_EQ(r.status.message(), db_.string() + ": query left a transaction open (BEGIN without COMMIT); it was rolled back");
  EXPECT_EQ(Count("x"), 2);
  auto ok = Run(Q("BEGIN; DELETE FROM x WHERE id = 2; COMMIT", sql::Mode::kWrite));
  ASSERT_TRUE(ok.status.ok()) << ok.status.message();
  EXPECT_EQ(Count("x"), 1);
}

TEST_F(SqlQueryTest, MoreRowsThanTheCapFailsAndAskForLimit) {
  const std::string cte = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10001) ";
  auto r = Run(Q(cte + "SELECT n FROM c"));
  EXPECT_EQ(r.status.message(), "query returned more than 10000 rows; add LIMIT");
  EXPECT_TRUE(r.rows.empty());
  auto limited = Run(Q(cte + "SELECT n FROM c LIMIT 10000"));
  ASSERT_TRUE(limited.status.ok()) << limited.status.message();
  EXPECT_EQ(limited.rows.size(), 10000u);
  auto q = Q("SELECT zeroblob(1000) AS b, ? AS s");
  q.args = sql::Query::Args::kList;
  q.positional = {boost::json::value(std::string(3000, 'a'))};
  q.max_bytes = 2048;
  EXPECT_EQ(Run(q).status.message(), "query result is larger than 2048 bytes; select fewer rows or columns");
}

TEST_F(SqlQueryTest, ALockedDatabaseFailsAfterTheBusyTimeout) {
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto q = Q("SELECT count(*) FROM x");
  q.busy_timeout = milliseconds(300);
  auto t0 = Clock::now();
  auto r = Run(q);
  auto waited = Clock::now() - t0;
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  EXPECT_EQ(r.status.message(), db_.string() + ": database is locked (gave up after 300ms)");
  EXPECT_GE(waited, milliseconds(250));
}

TEST_F(SqlQueryTest, CancelInterruptsARunningQueryAndALockWait) {
  for (bool locked : {false, true}) {
    SCOPED_TRACE(locked ? "waiting for a lock" : "running");
    sqlite3* holder = nullptr;
    if (locked) {
      ASSERT_EQ(sqlite3_open(db_.c_str(), &holder), SQLITE_OK);
      ASSERT_EQ(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    }
    auto q = Q(locked ? "SELECT count(*) FROM x" : kEndlessQuery);
    q.busy_timeout = std::chrono::minutes(5);
    sql::QueryInterrupt interrupt;
    sql::QueryResult r;
    auto t0 = Clock::now();
    std::thread worker([&] { r = sql::RunQuery(q, interrupt); });
    std::this_thread::sleep_for(milliseconds(200));
    interrupt.Cancel();
    worker.join();
    auto took = Clock::now() - t0;
    if (holder) sqlite3_close(holder);
    EXPECT_EQ(r.status.code(), Status::Code::kCancelled) << r.status.message();
    EXPECT_EQ(r.status.message(), "cancelled");
    EXPECT_LT(took, std::chrono::seconds(20));
  }
  // Cancelled before it starts: nothing is opened.
  sql::QueryInterrupt early;
  early.Cancel();
  EXPECT_EQ(sql::RunQuery(Q("SELECT 1"), early).status.code(), Status::Code::kCancelled);
}

TEST_F(SqlQueryTest, InvalidUtf8TextIsReplacedSoRowsStayValidJson) {
  auto r = Run(Q("SELECT CAST(x'41FF42C3A9' AS TEXT) AS t"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows.at(0).at("t").as_string(), "A\xEF\xBF\xBD" "B\xC3\xA9");
  EXPECT_NO_THROW(boost::json::parse(boost::json::serialize(r.rows)));
}

TEST(SqlFormatTest, TableShowsColumnsRowsAndCounts) {
  sql::QueryResult r;
  r.has_result = true;
  r.columns = {"id", "name"};
  r.rows.push_back({{"id", 1}, {"name", "alice"}});
  r.rows.push_back({{"id", 22}, {"name", nullptr}});
  r.rows.push_back({{"id", 3}, {"name", "multi\nline"}});
  EXPECT_EQ(sql::FormatTable(r, 100),
            "id | name\n"
            "---+------------\n"
            "1  | alice\n"
            "22 | NULL\n"
            "3  | multi\\nline\n"
            "(3 rows)\n");
  EXPECT_EQ(sql::FormatTable(r, 1),
            "id | name\n"
            "---+------\n"
            "1  | alice\n"
            "(showing the first 1 of 3 rows)\n");
  sql::QueryResult w;
  w.changes = 1;
  EXPECT_EQ(sql::FormatTable(w, 100), "1 row changed\n");
}

TEST(SqlSchemaTest, LoadingRefusesExpressionsInQueryAndTextRowThresholds) {
  Diagnostics diags;
  auto spec = LoadRunbookText(R"(
steps:
  - id: q
    type: sql
    database: /tmp/x.db
    query: SELECT * FROM users WHERE name = '${{ params.who }}'
    expect: {rows: "== 'one'"}
  - {id: r, type: sql, database: /tmp/x.db, query: SELECT 1, args: "oops"}
)",
                              "t.yaml", BuiltinStepTypes(), diags);
  std::string all = diags.FormatAll();
  EXPECT_NE(all.find("step 'q': 'query' must not contain ${{ }}; pass values through 'args' (bound, never spliced)"),
            std::string::npos) << all;
  EXPECT_NE(all.find("step 'q': expect: 'rows' compares the number of rows with a number, like \"> 0\""),
            std::string::npos) << all;
  EXPECT_NE(all.find("step 'r': 'args' must be a list (for ?) or a mapping (for :name)"), std::string::npos) << all;
}

// --- Through the Runner ---------------------------------------------------------

class SqlStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir("sql-step-test");
    db_ = dir_ / "app.db";
    Exec(db_, "CREATE TABLE x(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO x VALUES (1, 'alice');");
    auto j = journal::Journal::Open((dir_ / "journal.db").string());
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(j).value();
    executors_.Add("sql", MakeSqlExecutor());
  }
  void TearDown() override {
    if (journal_) (void)journal_->Close();
    fs::remove_all(dir_);
  }

  // `yaml` with DB replaced by the fixture's path.
  RunSummary Run(std::string yaml, boost::json::object params = {}) {
    for (size_t at; (at = yaml.find("DB")) != std::string::npos;) yaml.replace(at, 2, db_.string());
    Diagnostics diags;
    auto spec = LoadRunbookText(yaml, "t.yaml", BuiltinStepTypes(), diags);
    EXPECT_TRUE(spec) << diags.FormatAll();
    if (!spec) return {};
    rb_ = Compile(std::move(*spec), BuiltinStepTypes(), diags);
    EXPECT_TRUE(rb_) << diags.FormatAll();
    if (!rb_) return {};
    Runner runner(io_, *journal_, executors_, nullptr);
    RunRequest req;
    req.runbook = &*rb_;
    for (const auto& p : rb_->spec.params)
      if (p.default_value) req.params[p.name] = *p.default_value;
    for (const auto& [k, v] : params) req.params[k] = v;
    req.handle_signals = false;
    RunSummary s = runner.Run(req);
    EXPECT_TRUE(journal_->SyncBlocking().ok());
    return s;
  }
  journal::AttemptRecord Attempt(const std::string& run, const std::string& step) {
    for (auto& a : journal_->GetAttempts(run).value())
      if (a.step_id == step) return a;
    ADD_FAILURE() << "no attempt of " << step;
    return {};
  }
  std::string Output(const std::string& run, const std::string& step) {
    std::string text;
    for (const auto& c : journal_->GetOutput(run, step).value()) text += c.data;
    return text;
  }

  fs::path dir_;
  fs::path db_;
  boost::asio::io_context io_;
  ExecutorRegistry executors_;
  std::unique_ptr<journal::Journal> journal_;
  std::optional<CompiledRunbook> rb_;
};

TEST_F(SqlStepTest, OutputsAreTypedAndUsableByLaterSteps) {
  auto s = Run(R"(
steps:
  - id: q
    type: sql
    database: DB
    query: SELECT id AS n, name FROM x
  - id: r
    needs: [q]
    type: sql
    database: DB
    query: SELECT ?1 + 1 AS m, typeof(?1) AS t, ?2 AS name
    args: ["${{ steps.q.outputs.rows[0].n }}", "${{ steps.q.outputs.rows[0].name }}"]
outputs:
  m: ${{ steps.r.outputs.rows[0].m }}
  t: ${{ steps.r.outputs.rows[0].t }}
  name: ${{ steps.r.outputs.rows[0].name }}
  count: ${{ steps.q.outputs.row_count }}
)");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_EQ(s.outputs.at("m").as_int64(), 2);
  EXPECT_EQ(s.outputs.at("t").as_string(), "integer");
  EXPECT_EQ(s.outputs.at("name").as_string(), "alice");
  EXPECT_EQ(s.outputs.at("count").as_int64(), 1);
  auto a = Attempt(s.run_id, "q");
  EXPECT_EQ(boost::json::parse(a.outputs_json),
            boost::json::parse(R"({"rows":[{"n":1,"name":"alice"}],"row_count":1})"));
  EXPECT_EQ(Output(s.run_id, "q"),
            "n | name\n"
            "--+------\n"
            "1 | alice\n"
            "(1 row)\n");
}

TEST_F(SqlStepTest, AParameterValueIsBoundNotSpliced) {
  auto s = Run(R"(
params:
  who: {type: string}
steps:
  - id: add
    type: sql
    database: DB
    mode: write
    query: INSERT INTO x(name) VALUES (:who)
    args: {who: "${{ params.who }}"}
  - id: check
    needs: [add]
    type: sql
    database: DB
    query: SELECT count(*) AS n FROM x WHERE name = ?
    args: ["${{ params.who }}"]
    expect: {rows: "== 1"}
outputs:
  n: ${{ steps.check.outputs.rows[0].n }}
)",
               {{"who", kInjection}});
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_EQ(s.outputs.at("n").as_int64(), 1);
  EXPECT_EQ(Output(s.run_id, "add"), "1 row changed\n");
}

TEST_F(SqlStepTest, ExpectRowsPassesOrFailsTheStepWithItsOutputs) {
  auto s = Run(R"(
steps:
  - {id: some, type: sql, database: DB, query: SELECT * FROM x, expect: {rows: "> 0"}}
  - {id: none, type: sql, database: DB, query: SELECT * FROM x WHERE id < 0, expect: {rows: "> 0"}}
  - {id: few, type: sql, database: DB, query: SELECT * FROM x, expect: {rows: "<= 0.5"}}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempt(s.run_id, "some").status, journal::AttemptStatus::kSucceeded);
  auto none = Attempt(s.run_id, "none");
  EXPECT_EQ(none.status, journal::AttemptStatus::kFailed);
  EXPECT_EQ(none.error, "expected rows > 0, got 0");
  EXPECT_EQ(boost::json::parse(none.outputs_json), boost::json::parse(R"({"rows":[],"row_count":0})"));
  EXPECT_EQ(Attempt(s.run_id, "few").error, "expected rows <= 0.5, got 1");
}

TEST_F(SqlStepTest, ReadModeRefusalAndMissingDatabaseFailTheStep) {
  const std::string before = FileBytes(db_);
  auto s = Run(R"(
steps:
  - {id: del, type: sql, database: DB, query: DELETE FROM x}
  - {id: gone, type: sql, database: "DB.missing", mode: write, query: SELECT 1}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempt(s.run_id, "del").error, kRefusal);
  EXPECT_EQ(Attempt(s.run_id, "gone").error, "database does not exist: " + db_.string() + ".missing");
  EXPECT_EQ(FileBytes(db_), before);
  EXPECT_FALSE(fs::exists(db_.string() + ".missing"));
}

TEST_F(SqlStepTest, AStepTimeoutInterruptsALongQuery) {
  auto t0 = Clock::now();
  auto s = Run(std::string(R"(
steps:
  - id: slow
    type: sql
    database: DB
    timeout: 300ms
    query: )") + kEndlessQuery + "\n");
  auto took = Clock::now() - t0;
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = Attempt(s.run_id, "slow");
  EXPECT_EQ(a.status, journal::AttemptStatus::kTimedOut);
  EXPECT_EQ(a.error, "timed out after 300ms");
  EXPECT_LT(took, std::chrono::seconds(20)) << "the query was not interrupted";
}

TEST_F(SqlStepTest, TheRunTimeoutCancelsALongQuery) {
  auto t0 = Clock::now();
  auto s = Run(std::string(R"(
timeout: 300ms
steps:
  - id: slow
    type: sql
    database: DB
    query: )") + kEndlessQuery + "\n");
  auto took = Clock::now() - t0;
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(s.error, "run timed out after 300ms");
  EXPECT_EQ(Attempt(s.run_id, "slow").status, journal::AttemptStatus::kCancelled);
  EXPECT_LT(took, std::chrono::seconds(20)) << "the query was not interrupted";
}

TEST_F(SqlStepTest, ALongQueryDoesNotHoldUpOtherSteps) {
  // Queries run off the run's thread: b reads and finishes while a's query
  // is still running (until a's timeout interrupts it).
  auto s = Run(std::string(R"(
steps:
  - id: a
    type: sql
    database: DB
    timeout: 2s
    continue_on_error: true
    query: )") + kEndlessQuery + R"(
  - {id: b, type: sql, database: DB, query: SELECT count(*) AS n FROM x}
)");
  auto a = Attempt(s.run_id, "a");
  auto b = Attempt(s.run_id, "b");
  EXPECT_EQ(a.status, journal::AttemptStatus::kTimedOut);
  EXPECT_EQ(b.status, journal::AttemptStatus::kSucceeded) << b.error;
  ASSERT_TRUE(a.finished_at_us && b.finished_at_us);
  EXPECT_LT(*b.finished_at_us, *a.finished_at_us) << "b waited for a's query to end";
}

}  // namespace
}  // namespace runbook::steps
