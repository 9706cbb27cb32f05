// Shared helpers of the scheduler tests: a temporary directory with a real
// journal, triggers built from text, times from ISO strings, and raw reads of
// the journal's schedule_slots and journal-level events. Test thread only.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/cron.h"
#include "journal/journal.h"
#include "journal/sqlite.h"
#include "sched/slot_store.h"
#include "sched/triggers.h"

namespace runbook::sched::test {

using std::chrono::sys_seconds;

// "2026-03-29T01:00:30Z" -> sys_seconds (UTC only).
inline sys_seconds At(const std::string& iso) {
  std::tm tm{};
  EXPECT_NE(strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << iso;
  return sys_seconds(std::chrono::seconds(timegm(&tm)));
}

inline int64_t Us(sys_seconds t) { return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count(); }

inline ScheduledTrigger MakeTrigger(const std::string& runbook, const std::string& expr, const std::string& tz = "UTC",
                                    CatchUp catch_up = CatchUp::kLast,
                                    std::vector<std::pair<std::string, std::string>> params = {}) {
  ScheduledTrigger t;
  t.runbook = runbook;
  t.invoke_as = runbook;
  t.cron = expr;
  t.timezone = tz;
  t.expr = cron::ParseCron(expr).value();
  t.tz = cron::LocateZone(tz).value();
  t.catch_up = catch_up;
  t.params = std::move(params);
  t.key = expr + " tz=" + (tz.empty() ? "system" : tz);
  return t;
}

struct EventRow {
  std::string run_id, kind, actor, message, data_json;
};

class SchedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "sched_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    journal_path_ = dir_ + "/journal.db";
    auto j = journal::Journal::Open(journal_path_);
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(*j);
    auto s = SlotStore::Open(journal_path_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    if (journal_) {
      EXPECT_TRUE(journal_->Close().ok());
    }
    journal_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }

  std::unique_ptr<journal::sqlite::Db> Raw() {
    auto db = journal::sqlite::Db::Open(journal_path_, SQLITE_OPEN_READWRITE);
    EXPECT_TRUE(db.ok());
    (*db)->SetBusyTimeout(10000);
    return std::move(*db);
  }

  // Journal-level events (run_id NULL) and events of runs, in order, after a Sync.
  std::vector<EventRow> Events() {
    EXPECT_TRUE(journal_->SyncBlocking().ok());
    auto db = Raw();
    auto st = db->Prepare("SELECT coalesce(run_id, ''), kind, actor, message, data_json FROM events ORDER BY seq");
    std::vector<EventRow> out;
    while (*st->Step()) out.push_back({st->Text(0), st->Text(1), st->Text(2), st->Text(3), st->Text(4)});
    return out;
  }
  std::vector<EventRow> EventsOfKind(const std::string& kind) {
    std::vector<EventRow> out;
    for (auto& e : Events())
      if (e.kind == kind) out.push_back(e);
    return out;
  }

  std::string dir_;
  std::string journal_path_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<SlotStore> store_;
};

}  // namespace runbook::sched::test
