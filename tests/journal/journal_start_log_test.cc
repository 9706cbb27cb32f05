// The start log (journal/start_log.h) and the commit window it allows: a
// step's start is in a file of the process's own before the step runs, in
// the journal after the next group commit, and in the journal anyway when
// the process dies first (the next Open adds it). Processes that die are
// real: forked children that _exit without closing anything.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "journal/start_log.h"
#include "journal/verify.h"
#include "journal_test_util.h"

namespace runbook::journal {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

AttemptRecord Running(const std::string& run, const std::string& step, int attempt, int64_t started_us,
                      Block block = Block::kMain) {
  AttemptRecord a;
  a.run_id = run;
  a.step_id = step;
  a.block = block;
  a.attempt = attempt;
  a.status = AttemptStatus::kRunning;
  a.started_at_us = started_us;
  return a;
}

EventRecord Started(const std::string& run, const std::string& step, int attempt, const std::string& message) {
  EventRecord e = JournalTest::MakeEvent(run, "step_started", message);
  e.step_id = step;
  e.attempt = attempt;
  return e;
}

// The start logs beside the journal (their names hold the writer's identity).
std::vector<std::string> StartLogs(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().starts_with("journal.db-starts-")) out.push_back(entry.path().string());
  return out;
}

OpenOptions LongWindow() {
  OpenOptions o;
  o.commit_window = std::chrono::hours(1);  // nothing commits without a barrier
  return o;
}

using StartLogTest = JournalTest;

TEST_F(StartLogTest, ALineReadsBackAsTheStartItRecordsAndACutLastLineIsSkipped) {
  EventRecord e = Started("b1b1b1b1b1b1", "check \"disk\"", 3, "attempt 3 of 5");
  e.data_json = R"({"note":"line\nbreak"})";
  std::string line = StartLogLine(Running("b1b1b1b1b1b1", "check \"disk\"", 3, 1234567, Block::kOnFailure), e);
  ASSERT_EQ(line.back(), '\n');
  std::string second = StartLogLine(Running("b1b1b1b1b1b1", "b", 1, 99), Started("b1b1b1b1b1b1", "b", 1, "started"));
  {
    std::ofstream out(dir_ + "/log");
    out << line << "not json\n" << second.substr(0, second.size() / 2);  // a write cut short
  }
  auto starts = ReadStartLog(dir_ + "/log");
  ASSERT_TRUE(starts.ok()) << starts.status().message();
  ASSERT_EQ(starts->size(), 1u);
  const LoggedStart& s = starts->front();
  EXPECT_EQ(s.attempt.run_id, "b1b1b1b1b1b1");
  EXPECT_EQ(s.attempt.step_id, "check \"disk\"");
  EXPECT_EQ(s.attempt.block, Block::kOnFailure);
  EXPECT_EQ(s.attempt.attempt, 3);
  EXPECT_EQ(s.attempt.status, AttemptStatus::kRunning);
  EXPECT_EQ(s.attempt.started_at_us, 1234567);
  EXPECT_EQ(s.event.kind, "step_started");
  EXPECT_EQ(s.event.ts_us, 1234567);
  EXPECT_EQ(s.event.message, "attempt 3 of 5");
  EXPECT_EQ(s.event.actor, "alice@box");
  EXPECT_EQ(s.event.data_json, R"({"note":"line\nbreak"})");
  EXPECT_EQ(s.event.attempt, 3);

  auto none = ReadStartLog(dir_ + "/missing");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StartLogTest, AStartIsInTheStartLogAtOnceInTheJournalAfterTheCommitAndCloseRemovesTheFile) {
  auto j = OpenJournal(LongWindow());
  j->CreateRun(MakeRun("a1a1a1a1a1a1"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  ASSERT_TRUE(
      j->StartAttempt(Running("a1a1a1a1a1a1", "probe", 1, 5000), Started("a1a1a1a1a1a1", "probe", 1, "started")).ok());

  const std::string log = StartLogPath(path_, CurrentProcess());
  auto starts = ReadStartLog(log);
  ASSERT_TRUE(starts.ok()) << starts.status().message();
  ASSERT_EQ(starts->size(), 1u);
  EXPECT_EQ(starts->front().attempt.step_id, "probe");
  EXPECT_TRUE(j->GetAttempts("a1a1a1a1a1a1")->empty()) << "committed before the window ended";
  EXPECT_EQ(fs::status(log).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);

  ASSERT_TRUE(j->SyncBlocking().ok());
  auto attempts = j->GetAttempts("a1a1a1a1a1a1");
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ(attempts->front().status, AttemptStatus::kRunning);
  EXPECT_EQ(j->GetEvents("a1a1a1a1a1a1")->back().kind, "step_started");

  ASSERT_TRUE(j->Close().ok());
  EXPECT_FALSE(fs::exists(log));
  EXPECT_TRUE(StartLogs(dir_).empty());
}

TEST_F(StartLogTest, StartsOfAnEngineThatDiedBeforeTheirCommitAreAddedWhenItsRunIsMarkedInterrupted) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The engine: creates its run (committed), starts `a` (committed) and
    // `b` (only in the start log), and dies.
    auto j = Journal::Open(path_, LongWindow());
    if (!j.ok()) _exit(2);
    RunRecord r = MakeRun("deadbeefdead");  // this process
    (*j)->CreateRun(r);
    if (!(*j)->SyncBlocking().ok()) _exit(3);
    if (!(*j)->StartAttempt(Running(r.id, "a", 1, 2000), Started(r.id, "a", 1, "started")).ok()) _exit(4);
    if (!(*j)->SyncBlocking().ok()) _exit(5);
    EventRecord e = Started(r.id, "b", 2, "attempt 2 of 3");
    e.data_json = R"({"why":"retry"})";
    if (!(*j)->StartAttempt(Running(r.id, "b", 2, 3000, Block::kFinally), e).ok()) _exit(6);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_EQ(StartLogs(dir_).size(), 1u);
  {
    // The dead engine's journal alone has `b` nowhere.
    auto raw = RawDb();
    EXPECT_EQ(*raw->QueryInt("SELECT count(*) FROM step_attempts WHERE step_id = 'b'"), 0);
  }

  auto j = OpenJournal();
  EXPECT_EQ(j->interrupted_on_open(), std::vector<std::string>{"deadbeefdead"});
  auto attempts = j->GetAttempts("deadbeefdead");
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].step_id, "a");
  const AttemptRecord& b = (*attempts)[1];
  EXPECT_EQ(b.step_id, "b");
  EXPECT_EQ(b.attempt, 2);
  EXPECT_EQ(b.block, Block::kFinally);
  EXPECT_EQ(b.started_at_us, 3000);
  for (const AttemptRecord& a : *attempts) {
    EXPECT_EQ(a.status, AttemptStatus::kFailed) << a.step_id;
    EXPECT_EQ(a.error, "interrupted: engine died") << a.step_id;
  }
  auto events = j->GetEvents("deadbeefdead");
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].kind, "step_started");
  EXPECT_EQ((*events)[0].step_id, "a");
  const EventRecord& started_b = (*events)[1];
  EXPECT_EQ(started_b.kind, "step_started");
  EXPECT_EQ(started_b.step_id, "b");
  EXPECT_EQ(started_b.attempt, 2);
  EXPECT_EQ(started_b.ts_us, 3000);
  EXPECT_EQ(started_b.message, "attempt 2 of 3");
  EXPECT_EQ(started_b.actor, "alice@box");
  EXPECT_EQ(started_b.data_json, R"({"why":"retry"})");
  EXPECT_EQ((*events)[2].kind, "interrupted");
  EXPECT_TRUE(StartLogs(dir_).empty()) << "the dead engine's start log is left";

  ASSERT_TRUE(j->Close().ok());
  auto report = VerifyJournal(path_);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->ok) << (report->problems.empty() ? "" : report->problems.front().message);

  // Added once: the next open finds nothing to do.
  j = OpenJournal();
  EXPECT_TRUE(j->interrupted_on_open().empty());
  EXPECT_EQ(j->GetEvents("deadbeefdead")->size(), 3u);
}

TEST_F(StartLogTest, AStartLogThatCannotBeReadLeavesTheRunRunningUntilItCan) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto j = Journal::Open(path_, LongWindow());
    if (!j.ok()) _exit(2);
    RunRecord r = MakeRun("c0c0c0c0c0c0");
    (*j)->CreateRun(r);
    if (!(*j)->SyncBlocking().ok()) _exit(3);
    if (!(*j)->StartAttempt(Running(r.id, "a", 1, 2000), Started(r.id, "a", 1, "started")).ok()) _exit(4);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto logs = StartLogs(dir_);
  ASSERT_EQ(logs.size(), 1u);
  // A directory cannot be read as a file (as root, permissions would not stop it).
  const std::string saved = logs[0] + ".saved";
  fs::rename(logs[0], saved);
  fs::create_directory(logs[0]);
  {
    auto j = OpenJournal();
    EXPECT_TRUE(j->interrupted_on_open().empty());
    EXPECT_EQ(j->GetRun("c0c0c0c0c0c0")->status, RunStatus::kRunning);
  }
  fs::remove(logs[0]);
  fs::rename(saved, logs[0]);
  auto j = OpenJournal();
  EXPECT_EQ(j->interrupted_on_open(), std::vector<std::string>{"c0c0c0c0c0c0"});
  ASSERT_EQ(j->GetAttempts("c0c0c0c0c0c0")->size(), 1u);
  EXPECT_EQ(j->GetAttempts("c0c0c0c0c0c0")->front().error, "interrupted: engine died");
}

TEST_F(StartLogTest, TheStartLogIsEmptiedOnceEverythingInItIsCommitted) {
  auto j = OpenJournal(LongWindow());
  j->CreateRun(MakeRun("e1e1e1e1e1e1"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  const std::string log = StartLogPath(path_, CurrentProcess());
  // Past the 64 KiB after which a committed log is emptied.
  for (int i = 1; fs::exists(log) ? fs::file_size(log) < (80 << 10) : true; ++i) {
    std::string step = "step-" + std::to_string(i);
    ASSERT_TRUE(j->StartAttempt(Running("e1e1e1e1e1e1", step, 1, i), Started("e1e1e1e1e1e1", step, 1, "started")).ok());
  }
  ASSERT_TRUE(j->SyncBlocking().ok());
  // Emptied by whoever committed last: this thread, or the writer (whose
  // window 1,024 records end), just after it answered the barrier.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fs::file_size(log) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(1));
  EXPECT_EQ(fs::file_size(log), 0u);
  // And it goes on from the start.
  ASSERT_TRUE(
      j->StartAttempt(Running("e1e1e1e1e1e1", "last", 1, 1), Started("e1e1e1e1e1e1", "last", 1, "started")).ok());
  auto starts = ReadStartLog(log);
  ASSERT_EQ(starts->size(), 1u);
  EXPECT_EQ(starts->front().attempt.step_id, "last");
  // A short log is left as it is: emptying it costs more than it saves.
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_GT(fs::file_size(log), 0u);
}

TEST_F(StartLogTest, AJournalThatFailedKeepsItsStartLogAtClose) {
  std::atomic<bool> broken{false};
  OpenOptions o = LongWindow();
  o.before_commit_for_testing = [&broken](sqlite::Db&) {
    return broken ? Status::IoError("disk I/O error (injected)") : Status::Ok();
  };
  auto j = OpenJournal(o);
  j->CreateRun(MakeRun("f1f1f1f1f1f1"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  broken = true;
  ASSERT_TRUE(j->StartAttempt(Running("f1f1f1f1f1f1", "a", 1, 1), Started("f1f1f1f1f1f1", "a", 1, "started")).ok());
  EXPECT_FALSE(j->Close().ok());
  // The run is still 'running' in the journal; once this process is gone,
  // an Open adds `a` from here.
  ASSERT_EQ(StartLogs(dir_).size(), 1u);
  EXPECT_EQ(ReadStartLog(StartLogs(dir_)[0])->size(), 1u);
  // A journal that refuses writes refuses starts too, before logging them.
  Status refused = j->StartAttempt(Running("f1f1f1f1f1f1", "b", 1, 1), Started("f1f1f1f1f1f1", "b", 1, "started"));
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(ReadStartLog(StartLogs(dir_)[0])->size(), 1u);
}

using CommitWindowTest = JournalTest;

TEST_F(CommitWindowTest, RecordsWaitForTheWindowAndABarrierEndsItAtOnce) {
  {
    auto j = OpenJournal(LongWindow());
    j->CreateRun(MakeRun("d1d1d1d1d1d1"));
    std::this_thread::sleep_for(milliseconds(50));
    EXPECT_FALSE(j->GetRun("d1d1d1d1d1d1").ok()) << "committed before the window ended";
    std::promise<Status> done;
    j->Sync([&done](Status s) { done.set_value(s); });  // through the writer, in its window
    ASSERT_TRUE(done.get_future().get().ok());
    EXPECT_TRUE(j->GetRun("d1d1d1d1d1d1").ok());
  }
  OpenOptions o;
  o.commit_window = milliseconds(30);
  auto j = OpenJournal(o);
  auto t0 = std::chrono::steady_clock::now();
  j->CreateRun(MakeRun("d2d2d2d2d2d2"));
  while (!j->GetRun("d2d2d2d2d2d2").ok()) std::this_thread::sleep_for(milliseconds(1));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(25));
}

TEST_F(CommitWindowTest, AFailureWatcherHearsOfAFailedGroupCommitOnceAndNotAfterUnwatch) {
  std::atomic<bool> broken{false};
  OpenOptions o;
  o.before_commit_for_testing = [&broken](sqlite::Db&) {
    return broken ? Status::IoError("disk I/O error (injected)") : Status::Ok();
  };
  auto j = OpenJournal(o);
  std::atomic<int> heard{0}, unwatched{0};
  std::string message;
  uint64_t id = j->WatchFailure([&](Status s) {
    message = s.message();
    ++heard;
  });
  uint64_t gone = j->WatchFailure([&](Status) { ++unwatched; });
  EXPECT_NE(id, 0u);
  j->UnwatchFailure(gone);
  j->CreateRun(MakeRun("e2e2e2e2e2e2"));
  ASSERT_TRUE(j->SyncBlocking().ok());
  EXPECT_EQ(heard, 0);

  broken = true;
  j->AppendEvent(MakeEvent("e2e2e2e2e2e2", "note"));  // committed by the writer, no barrier
  while (heard == 0) std::this_thread::sleep_for(milliseconds(1));
  EXPECT_NE(message.find("disk I/O error (injected)"), std::string::npos) << message;
  EXPECT_FALSE(j->SyncBlocking().ok());
  EXPECT_EQ(heard, 1);
  EXPECT_EQ(unwatched, 0);
  // Watching a journal that has failed already hears of it at once.
  int late = 0;
  EXPECT_EQ(j->WatchFailure([&late](Status) { ++late; }), 0u);
  EXPECT_EQ(late, 1);
  j->UnwatchFailure(id);
}

}  // namespace
}  // namespace runbook::journal
