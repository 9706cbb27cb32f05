// Shared fixture for the journal tests: a fresh temporary directory per test,
// record builders, a raw SQLite handle for poking at the file behind the
// Journal's back, and a PRAGMA integrity_check of every journal a test
// leaves behind. Single-threaded test code.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "journal/identity.h"
#include "journal/journal.h"
#include "journal/sha256.h"
#include "journal/sqlite.h"

namespace runbook::journal {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "journal_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = dir_ + "/journal.db";
  }

  void TearDown() override {
    for (const std::string& db : IntegrityChecked()) {
      auto raw = sqlite::Db::Open(db, SQLITE_OPEN_READONLY);
      ASSERT_TRUE(raw.ok()) << raw.status().message();
      auto result = (*raw)->QueryText("PRAGMA integrity_check");
      ASSERT_TRUE(result.ok()) << result.status().message();
      EXPECT_EQ(*result, "ok") << db;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The journals TearDown checks: by default the main one, if it is one.
  virtual std::vector<std::string> IntegrityChecked() {
    if (!check_integrity_ || !std::filesystem::exists(path_)) return {};
    return {path_};
  }

  std::unique_ptr<Journal> OpenJournal(const OpenOptions& options = {}) {
    auto j = Journal::Open(path_, options);
    EXPECT_TRUE(j.ok()) << j.status().message();
    return j.ok() ? std::move(*j) : nullptr;
  }

  // A second connection to the file, outside the Journal.
  std::unique_ptr<sqlite::Db> RawDb() {
    auto db = sqlite::Db::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    EXPECT_TRUE(db.ok()) << db.status().message();
    if (db.ok()) (*db)->SetBusyTimeout(10000);
    return db.ok() ? std::move(*db) : nullptr;
  }

  // Record builders (public: helpers outside the fixture use them too).
 public:
  static RunRecord MakeRun(const std::string& id, int64_t started_at_us = 1000) {
    RunRecord r;
    r.id = id;
    r.runbook = "daily-health-check";
    r.title = "Daily health check";
    r.source_path = "runbooks/daily-health-check.yaml";
    r.source_text = "name: daily-health-check\nsteps: []\n";
    r.content_hash = Sha256Hex(r.source_text);
    r.params_json = R"({"date":"2024-05-01"})";
    r.actor = "alice@box";
    r.process = CurrentProcess();
    r.started_at_us = started_at_us;
    return r;
  }

  static EventRecord MakeEvent(const std::string& run_id, const std::string& kind,
                               const std::string& message = "") {
    EventRecord e;
    e.run_id = run_id;
    e.kind = kind;
    e.actor = "alice@box";
    e.message = message;
    return e;
  }

 protected:
  std::string dir_;
  std::string path_;
  bool check_integrity_ = true;
};

}  // namespace runbook::journal
