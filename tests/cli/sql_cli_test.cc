// Acceptance: `sql` steps through the real binary against a real SQLite file.
// A hostile parameter is bound, not spliced; rows reach later steps and the
// runbook's outputs; the query's result is in the step's journaled output;
// read mode refuses a write; a step timeout interrupts a long query.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

// Runs fixture SQL on `path` (created if missing) with the plain C API.
void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// `text` with every "DB" replaced by `path`.
std::string WithDb(std::string text, const std::string& path) {
  for (size_t at; (at = text.find("DB")) != std::string::npos;) text.replace(at, 2, path);
  return text;
}

std::string RunId(const Outcome& o) {
  auto summary = ParseJson(o.out, "run --json");
  return summary ? JsonString(*summary, "run_id") : "";
}

class CliSql : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = box_.Path("app.db");
    Exec(db_,
         "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL);"
         "INSERT INTO users(name, role) VALUES ('alice', 'admin'), ('bob', 'viewer');");
  }
  CliSandbox box_;
  std::string db_;
};

TEST_F(CliSql, ABoundParameterStaysAValueAndRowsFeedLaterSteps) {
  const std::string who = "x'); DROP TABLE users; --";
  std::string rb = box_.WriteRunbook("sql-e2e", WithDb(R"(name: sql-e2e
params:
  who: {type: string, required: true}
steps:
  - id: add
    type: sql
    database: DB
    mode: write
    query: INSERT INTO users(name, role) VALUES (?, 'admin')
    args: ["${{ params.who }}"]
  - id: admins
    needs: [add]
    type: sql
    database: DB
    query: SELECT id, name FROM users WHERE role = :role ORDER BY id
    args: {role: admin}
    expect: {rows: "> 0"}
  - id: echo
    needs: [admins]
    type: exec
    argv: [printf, '%s|%s|%s\n', "${{ steps.admins.outputs.rows[1].name }}", "${{ steps.admins.outputs.rows[1].id }}",
           "${{ steps.admins.outputs.row_count }}"]
outputs:
  newest: ${{ steps.admins.outputs.rows[1].name }}
  admins: ${{ steps.admins.outputs.row_count }}
)",
                                                       db_));
  Outcome o = box_.Run({"--json", "run", rb, "-p", "who=" + who});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run_id = RunId(o);
  EXPECT_EQ(box_.RawLogs(run_id, "echo"), who + "|3|2\n");
  EXPECT_EQ(box_.RawLogs(run_id, "add"), "1 row changed\n");
  EXPECT_EQ(box_.RawLogs(run_id, "admins"),
            "id | name\n"
            "---+-" + std::string(who.size(), '-') + "\n"
            "1  | alice\n"
            "3  | " + who + "\n"
            "(2 rows)\n");
  boost::json::value show = box_.ShowJson(run_id);
  ASSERT_TRUE(show.is_object());
  const auto& outputs = show.at("outputs");
  EXPECT_EQ(JsonString(outputs, "newest"), who);
  EXPECT_EQ(outputs.at("admins"), boost::json::value(2));
  const boost::json::object* step = FindStep(show, "admins");
  ASSERT_TRUE(step);
  EXPECT_EQ(step->at("outputs").at("row_count"), boost::json::value(2));
  EXPECT_EQ(step->at("outputs").at("rows").as_array().size(), 2u);

  // The table is still there, with the value stored literally.
  Outcome check = box_.Run({"--json", "run", box_.WriteRunbook("count", WithDb(R"(name: count
steps:
  - {id: n, type: sql, database: DB, query: "SELECT count(*) AS n FROM users"}
outputs:
  n: ${{ steps.n.outputs.rows[0].n }}
)",
                                                                                 db_))});
  ASSERT_EQ(check.exit_code, 0) << check.Describe();
  auto summary = ParseJson(check.out, "run --json");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->at("outputs").at("n"), boost::json::value(3));
}

TEST_F(CliSql, ReadModeRefusesAWriteAndTheRunFails) {
  std::string before = ReadFile(db_);
  std::string rb = box_.WriteRunbook("wipe", WithDb(R"(name: wipe
steps:
  - {id: wipe, type: sql, database: DB, query: DELETE FROM users}
)",
                                                    db_));
  Outcome o = box_.Run({"--json", "run", rb});
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  boost::json::value show = box_.ShowJson(RunId(o));
  const boost::json::object* step = FindStep(show, "wipe");
  ASSERT_TRUE(step) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*step, "status"), "failed");
  EXPECT_EQ(JsonString(*step, "error"), "query would modify the database; set mode: write to allow it");
  EXPECT_EQ(ReadFile(db_), before);
}

TEST_F(CliSql, AStepTimeoutInterruptsALongQuery) {
  std::string rb = box_.WriteRunbook("slow", WithDb(R"(name: slow
steps:
  - id: slow
    type: sql
    database: DB
    timeout: 500ms
    query: |
      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000)
      SELECT count(*) AS n FROM c
)",
                                                    db_));
  auto t0 = std::chrono::steady_clock::now();
  Outcome o = box_.Run({"--json", "run", rb});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  EXPECT_LT(took, std::chrono::seconds(30)) << "the query ran on after the timeout";
  boost::json::value show = box_.ShowJson(RunId(o));
  const boost::json::object* step = FindStep(show, "slow");
  ASSERT_TRUE(step) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*step, "status"), "timed_out");
  EXPECT_EQ(JsonString(*step, "error"), "timed out after 500ms");
}

}  // namespace
}  // namespace runbook::clitest
