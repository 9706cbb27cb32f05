// Acceptance of `runbook schedule` and `runbook cron export` with the real
// binary and a real journal: a minutely trigger fires once per slot (also
// across two --once), downtime is caught up per catch_up, SIGTERM stops the
// daemon cleanly (cancelling or awaiting its runs), a new runbook file and
// SIGHUP reload it, and the exported crontab and units are exact.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

#include "journal/sqlite.h"
#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

struct Slot {
  std::string runbook, trigger_key, outcome, run_id, reason;
  int64_t slot_at_us = 0;
};

std::unique_ptr<journal::sqlite::Db> Raw(const std::string& path) {
  auto db = journal::sqlite::Db::Open(path, SQLITE_OPEN_READWRITE);
  EXPECT_TRUE(db.ok()) << db.status().message();
  if (!db.ok()) return nullptr;
  (*db)->SetBusyTimeout(10000);
  return std::move(*db);
}

std::vector<Slot> Slots(const std::string& journal_path, const std::string& runbook) {
  std::vector<Slot> out;
  auto db = Raw(journal_path);
  if (!db) return out;
  auto st = db->Prepare(
      "SELECT runbook, trigger_key, outcome, coalesce(run_id, ''), reason, slot_at FROM schedule_slots "
      "WHERE runbook = ?1 ORDER BY slot_at");
  st->BindText(1, runbook);
  while (*st->Step()) out.push_back({st->Text(0), st->Text(1), st->Text(2), st->Text(3), st->Text(4), st->Int(5)});
  return out;
}

// Kinds of the journal-level events (run_id NULL), in order.
std::vector<std::string> SchedulerEvents(const std::string& journal_path) {
  std::vector<std::string> out;
  auto db = Raw(journal_path);
  if (!db) return out;
  auto st = db->Prepare("SELECT kind, actor FROM events WHERE run_id IS NULL ORDER BY seq");
  while (*st->Step()) {
    EXPECT_EQ(st->Text(1), "scheduler");
    out.push_back(st->Text(0));
  }
  return out;
}

int64_t MinuteStartUs(int64_t now_s) { return (now_s - now_s % 60) * 1000000; }

// Makes sure the next ~15 s stay inside one minute.
void AwayFromAMinuteEnd() {
  std::time_t now = std::time(nullptr);
  if (now % 60 >= 45) std::this_thread::sleep_for(seconds(61 - now % 60));
}

std::vector<journal::RunRecord> Runs(CliSandbox& box) {
  auto j = box.OpenJournal();
  auto runs = j->ListRuns({});
  EXPECT_TRUE(runs.ok());
  return runs.ok() ? *runs : std::vector<journal::RunRecord>{};
}

TEST(CliSchedule, OnceFiresAMinutelyTriggerOnceAndASecondOnceInTheSameMinuteDoesNot) {
  CliSandbox box;
  box.WriteRunbook("tick", R"(name: tick
params:
  who: {type: string, default: nobody}
schedule:
  - cron: "* * * * *"
    timezone: UTC
    params: {who: cron}
steps:
  - id: hello
    run: echo "hello from ${{ params.who }}"
)");
  AwayFromAMinuteEnd();
  int64_t started = std::time(nullptr);
  Outcome first = box.Run({"schedule", "--once"});
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  Outcome second = box.Run({"schedule", "--once"});
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  ASSERT_EQ(started / 60, std::time(nullptr) / 60) << "the test crossed a minute";

  auto runs = Runs(box);
  ASSERT_EQ(runs.size(), 1u) << first.Describe() << second.Describe();
  EXPECT_EQ(runs[0].trigger, journal::Trigger::kCron);
  EXPECT_EQ(runs[0].status, journal::RunStatus::kSucceeded);
  EXPECT_EQ(runs[0].params_json, R"({"who":"cron"})");
  EXPECT_EQ(box.RawLogs(runs[0].id, "hello"), "hello from cron\n");

  auto slots = Slots(box.journal_path(), "tick");
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0].outcome, "fired");
  EXPECT_EQ(slots[0].run_id, runs[0].id);
  EXPECT_EQ(slots[0].slot_at_us, MinuteStartUs(started));
  EXPECT_EQ(slots[0].trigger_key, R"(* * * * * tz=UTC params={"who":"cron"})");
  EXPECT_EQ(slots[0].reason, "run succeeded (exit 0)");
  EXPECT_EQ(SchedulerEvents(box.journal_path()), std::vector<std::string>{"slot_fired"});
  EXPECT_NE(first.err.find("firing slot"), std::string::npos) << first.err;
}

TEST(CliSchedule, CatchUpLastRunsOneMissedSlotAfterDowntimeAndNoneRunsNothing) {
  CliSandbox box;
  for (const char* mode : {"last", "none"}) {
    box.WriteRunbook(std::string("yearly-") + mode, std::string("name: yearly-") + mode + R"(
schedule:
  - cron: "0 0 1 1 *"
    timezone: UTC
    catch_up: )" + mode + R"(
steps:
  - id: a
    run: "true"
)");
  }
  // Downtime: the journal says the last slot decided was 1 January two years ago.
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  int year = tm.tm_year + 1900;
  auto jan1 = [](int y) {
    std::tm t{};
    t.tm_year = y - 1900;
    t.tm_mday = 1;
    return static_cast<int64_t>(timegm(&t)) * 1000000;
  };
  box.OpenJournal();  // creates and migrates it
  {
    auto db = Raw(box.journal_path());
    for (const char* mode : {"last", "none"}) {
      auto st = db->Prepare(
          "INSERT INTO schedule_slots (runbook, trigger_key, slot_at, decided_at, outcome) "
          "VALUES (?1, '0 0 1 1 * tz=UTC', ?2, ?2, 'fired')");
      std::string name = std::string("yearly-") + mode;
      st->BindText(1, name);
      st->BindInt(2, jan1(year - 2));
      ASSERT_TRUE(st->Run().ok());
    }
  }
  Outcome out = box.Run({"schedule", "--once"});
  ASSERT_EQ(out.exit_code, 0) << out.Describe();

  auto runs = Runs(box);
  ASSERT_EQ(runs.size(), 1u) << out.Describe();
  EXPECT_EQ(runs[0].runbook, "yearly-last");
  auto last = Slots(box.journal_path(), "yearly-last");
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(last[1].slot_at_us, jan1(year - 1));
  EXPECT_EQ(last[1].outcome, "missed");
  EXPECT_EQ(last[2].slot_at_us, jan1(year));
  EXPECT_EQ(last[2].outcome, "fired");
  EXPECT_EQ(last[2].run_id, runs[0].id);
  auto none = Slots(box.journal_path(), "yearly-none");
  ASSERT_EQ(none.size(), 3u);
  EXPECT_EQ(none[1].outcome, "missed");
  EXPECT_EQ(none[2].outcome, "missed");
  EXPECT_EQ(none[2].run_id, "");
  auto events = SchedulerEvents(box.journal_path());
  EXPECT_EQ(std::count(events.begin(), events.end(), "slot_missed"), 2);
  EXPECT_EQ(std::count(events.begin(), events.end(), "slot_fired"), 1);

  // And again: nothing is left to decide.
  Outcome again = box.Run({"schedule", "--once"});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_EQ(Runs(box).size(), 1u);
}

std::string LongRunbook(CliSandbox& box) {
  return R"(name: long
schedule:
  - cron: "* * * * *"
    timezone: UTC
steps:
  - id: wait
    run: |
      echo $$ > )" + box.Path("step.tmp") + R"(
      mv )" + box.Path("step.tmp") + " " + box.Path("step") + R"(
      exec sleep 1000
)";
}

TEST(CliSchedule, SigtermCancelsTheRunningRunAndLeavesNoProcessBehind) {
  CliSandbox box;
  box.WriteRunbook("long", LongRunbook(box));
  AwayFromAMinuteEnd();
  auto daemon = box.Start({"schedule"});
  ASSERT_TRUE(WaitFor([&] { return FileExists(box.Path("step")) || daemon->Exited(); }, seconds(60)))
      << daemon->Stderr();
  ASSERT_TRUE(FileExists(box.Path("step"))) << daemon->Wait(seconds(1)).Describe();
  pid_t step = static_cast<pid_t>(std::atol(ReadFile(box.Path("step")).c_str()));
  auto runs = Runs(box);
  ASSERT_EQ(runs.size(), 1u);
  pid_t run_pid = static_cast<pid_t>(runs[0].process.pid);
  ASSERT_TRUE(ProcessInfo(run_pid)) << "the run's process";
  auto run_info = ProcessInfo(run_pid);
  EXPECT_EQ(run_info->ppid, daemon->pid());
  EXPECT_NE(run_info->pgrp, daemon->pid()) << "the run has its own process group";

  daemon->Signal(SIGTERM);
  Outcome out = daemon->Wait(seconds(120));
  EXPECT_EQ(out.exit_code, 0) << out.Describe();
  EXPECT_FALSE(ProcessInfo(run_pid)) << ProcessInfo(run_pid)->Describe();
  EXPECT_FALSE(ProcessInfo(step)) << ProcessInfo(step)->Describe();
  EXPECT_TRUE(ProcessesInGroup(run_info->pgrp).empty());
  auto after = Runs(box);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].status, journal::RunStatus::kCancelled);
  auto slots = Slots(box.journal_path(), "long");
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0].run_id, after[0].id);
  EXPECT_EQ(slots[0].reason.rfind("run cancelled", 0), 0u) << slots[0].reason;
  auto events = SchedulerEvents(box.journal_path());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), "scheduler_started");
  EXPECT_EQ(events.back(), "scheduler_stopped");
}

TEST(CliSchedule, OnStopWaitLetsTheRunningRunFinish) {
  CliSandbox box;
  box.WriteRunbook("short", R"(name: short
schedule:
  - cron: "* * * * *"
    timezone: UTC
steps:
  - id: work
    run: |
      touch )" + box.Path("started") + R"(
      sleep 3
      echo done
)");
  AwayFromAMinuteEnd();
  auto daemon = box.Start({"schedule", "--on-stop", "wait"});
  ASSERT_TRUE(WaitFor([&] { return FileExists(box.Path("started")) || daemon->Exited(); }, seconds(60)))
      << daemon->Stderr();
  daemon->Signal(SIGTERM);
  Outcome out = daemon->Wait(seconds(120));
  EXPECT_EQ(out.exit_code, 0) << out.Describe();
  auto runs = Runs(box);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, journal::RunStatus::kSucceeded);
  EXPECT_NE(out.err.find("waiting for 1 run(s) to end"), std::string::npos) << out.err;
}

TEST(CliSchedule, ANewRunbookFileIsScheduledWithoutARestartAndSighupReloads) {
  CliSandbox box;
  AwayFromAMinuteEnd();
  auto daemon = box.Start({"schedule"});
  ASSERT_TRUE(WaitFor([&] { return daemon->Stderr().find("start: 0 trigger(s)") != std::string::npos; }, seconds(30)))
      << daemon->Stderr();
  box.WriteRunbook("late", R"(name: late
schedule:
  - cron: "* * * * *"
    timezone: UTC
steps:
  - id: a
    run: "true"
)");
  EXPECT_TRUE(WaitFor([&] { return Slots(box.journal_path(), "late").size() == 1; }, seconds(30)))
      << daemon->Stderr();
  EXPECT_NE(daemon->Stderr().find("a runbook file changed: reloading"), std::string::npos) << daemon->Stderr();
  daemon->Signal(SIGHUP);
  EXPECT_TRUE(WaitFor([&] { return daemon->Stderr().find("SIGHUP: reloading") != std::string::npos; }, seconds(30)))
      << daemon->Stderr();
  daemon->Signal(SIGTERM);
  Outcome out = daemon->Wait(seconds(120));
  EXPECT_EQ(out.exit_code, 0) << out.Describe();
  EXPECT_EQ(Slots(box.journal_path(), "late").size(), 1u);
}

TEST(CliCronExport, CrontabIsExact) {
  CliSandbox box;
  box.WriteRunbook("daily", R"(name: daily
schedule:
  - cron: "0 8 * * *"
steps:
  - id: a
    run: "true"
)");
  box.WriteRunbook("berlin", R"(name: berlin
params:
  mode: {type: string, default: quick}
schedule:
  - cron: "30 2 * * 0"
    timezone: Europe/Berlin
    catch_up: none
    params: {mode: full check}
steps:
  - id: a
    run: "true"
)");
  Outcome out = box.Run({"cron", "export", "--binary", "/usr/local/bin/runbook"});
  ASSERT_EQ(out.exit_code, 0) << out.Describe();
  std::string common = "/usr/local/bin/runbook --journal " + box.journal_path() + " --runbooks " + box.dir();
  EXPECT_EQ(out.out, "# Cron triggers of the runbooks in " + box.dir() + R"(,
# generated by `runbook cron export`. Install with `crontab FILE` (this
# replaces the user's crontab) or merge it into one.
# Each line starts the run itself (trigger cron). Unlike `runbook schedule`,
# cron keeps no slot history: a slot missed while cron is not running is never
# run later, whatever the trigger's catch_up says.
# CRON_TZ (cronie) sets the zone of the lines after it; a cron without it
# runs every line in the system's zone.

# daily, trigger 1 of 1: "0 8 * * *" in the system's zone, catch_up: last
0 8 * * * )" + common + R"( run daily --trigger cron

# berlin, trigger 1 of 1: "30 2 * * 0" in Europe/Berlin, catch_up: none
# Daylight saving: cron applies its DST rules in the system's zone only. Unless
# that is Europe/Berlin too, a time skipped by the spring-forward change does
# not run, and one repeated at fall-back runs twice (runbook schedule: once each).
CRON_TZ=Europe/Berlin
30 2 * * 0 )" + common + R"( run berlin --trigger cron -p 'mode=full check'
)");
}

TEST(CliCronExport, SystemdUnitsGoToTheOutputDirectory) {
  CliSandbox box;
  box.WriteRunbook("nightly", R"(name: nightly
schedule:
  - cron: "15 3 * * MON-FRI"
    timezone: UTC
steps:
  - id: a
    run: "true"
)");
  std::string dir = box.Path("units");
  Outcome out = box.Run({"cron", "export", "--format", "systemd", "--output-dir", dir});
  ASSERT_EQ(out.exit_code, 0) << out.Describe();
  EXPECT_EQ(out.out, dir + "/runbook-nightly.service\n" + dir + "/runbook-nightly.timer\n");
  std::string timer = ReadFile(dir + "/runbook-nightly.timer");
  EXPECT_NE(timer.find("\nOnCalendar=Mon..Fri *-*-* 03:15:00 UTC\nAccuracySec=1s\nPersistent=true\n"
                       "Unit=runbook-nightly.service\n"),
            std::string::npos)
      << timer;
  std::string service = ReadFile(dir + "/runbook-nightly.service");
  std::string binary = std::filesystem::canonical(RUNBOOK_BINARY).string();
  EXPECT_NE(service.find("\nExecStart=" + binary + " --journal " + box.journal_path() + " --runbooks " + box.dir() +
                         " run nightly --trigger cron\n"),
            std::string::npos)
      << service;
}

TEST(CliCronExport, PrintsUnitsWithSeparatorsAndRefusesBrokenRunbooks) {
  CliSandbox box;
  box.WriteRunbook("nightly", "name: nightly\nschedule:\n  - cron: \"15 3 * * *\"\nsteps:\n  - id: a\n    run: \"true\"\n");
  Outcome out = box.Run({"cron", "export", "--format", "systemd"});
  ASSERT_EQ(out.exit_code, 0) << out.Describe();
  EXPECT_EQ(out.out.rfind("# ==> runbook-nightly.service <==\n", 0), 0u) << out.out;
  EXPECT_NE(out.out.find("\n\n# ==> runbook-nightly.timer <==\n"), std::string::npos) << out.out;
  box.WriteRunbook("broken", "name: broken\nschedule:\n  - cron: \"*/0 * * * *\"\nsteps: []\n");
  Outcome bad = box.Run({"cron", "export"});
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_NE(bad.err.find("step must be at least 1 in '*/0'"), std::string::npos) << bad.err;
  EXPECT_TRUE(bad.out.empty()) << bad.out;
}

}  // namespace
}  // namespace runbook::clitest
