// Stale-run detection on Open (SPEC §5): a 'running' run whose engine
// process is gone becomes 'interrupted'; live, waiting and foreign-host runs
// are left alone. Dead processes are real: forked children, reaped.
#include <sys/wait.h>
#include <unistd.h>

#include "journal_test_util.h"

namespace runbook::journal {
namespace {

using JournalStaleTest = JournalTest;

// The pid of a process that has exited and been reaped.
int64_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

AttemptRecord Attempt(const std::string& run, const std::string& step, AttemptStatus status) {
  AttemptRecord a;
  a.run_id = run;
  a.step_id = step;
  a.status = status;
  a.started_at_us = 10;
  if (IsFinished(status)) a.finished_at_us = 20;
  return a;
}

TEST_F(JournalStaleTest, RunOfADeadEngineBecomesInterruptedOnTheNextOpen) {
  int64_t dead = DeadPid();
  {
    auto j = OpenJournal();
    RunRecord r = MakeRun("deaddeaddead");
    r.process.pid = dead;
    j->CreateRun(r);
    j->PutAttempt(Attempt(r.id, "done", AttemptStatus::kSucceeded));
    j->PutAttempt(Attempt(r.id, "busy", AttemptStatus::kRunning));
    j->PutAttempt(Attempt(r.id, "next", AttemptStatus::kPending));
    ASSERT_TRUE(j->SyncBlocking().ok());
    EXPECT_EQ(j->GetRun(r.id)->status, RunStatus::kRunning);  // not checked while open
  }
  int64_t before = NowMicros();
  auto j = OpenJournal();
  EXPECT_EQ(j->interrupted_on_open(), std::vector<std::string>{"deaddeaddead"});
  auto run = j->GetRun("deaddeaddead");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, RunStatus::kInterrupted);
  ASSERT_TRUE(run->finished_at_us.has_value());
  EXPECT_GE(*run->finished_at_us, before);
  std::string host = HostName();
  EXPECT_EQ(run->error, "engine process " + std::to_string(dead) + " on " + host + " is gone");

  auto events = j->GetEvents("deaddeaddead");
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().kind, "interrupted");
  EXPECT_EQ(events->front().actor, "runbook");
  EXPECT_EQ(events->front().message, "engine process " + std::to_string(dead) + " on " + host +
                                         " is gone; run marked interrupted");

  auto attempts = j->GetAttempts("deaddeaddead");
  ASSERT_EQ(attempts->size(), 3u);
  EXPECT_EQ((*attempts)[0].status, AttemptStatus::kSucceeded);
  EXPECT_EQ((*attempts)[0].error, "");
  for (int i : {1, 2}) {
    EXPECT_EQ((*attempts)[i].status, AttemptStatus::kFailed) << i;
    EXPECT_EQ((*attempts)[i].error, "interrupted: engine died");
    EXPECT_EQ((*attempts)[i].finished_at_us, run->finished_at_us);
  }

  // Marked once: the next open finds nothing to do.
  j.reset();
  j = OpenJournal();
  EXPECT_TRUE(j->interrupted_on_open().empty());
  EXPECT_EQ(j->GetEvents("deaddeaddead")->size(), 1u);
}

TEST_F(JournalStaleTest, RunOfOurOwnLiveProcessStaysRunning) {
  { OpenJournal()->CreateRun(MakeRun("a1a1a1a1a1a1")); }  // CurrentProcess()
  auto j = OpenJournal();
  EXPECT_TRUE(j->interrupted_on_open().empty());
  EXPECT_EQ(j->GetRun("a1a1a1a1a1a1")->status, RunStatus::kRunning);
}

TEST_F(JournalStaleTest, ReusedPidWithAnotherStartTimeIsStale) {
  {
    RunRecord r = MakeRun("b2b2b2b2b2b2");
    r.process.start_time += 1;  // our pid, but a process that started at another time
    OpenJournal()->CreateRun(r);
  }
  auto j = OpenJournal();
  EXPECT_EQ(j->GetRun("b2b2b2b2b2b2")->status, RunStatus::kInterrupted);
}

TEST_F(JournalStaleTest, RunFromBeforeAReBootIsStale) {
  if (BootId().empty()) GTEST_SKIP() << "no /proc/sys/kernel/random/boot_id here";
  {
    RunRecord r = MakeRun("c3c3c3c3c3c3");
    r.process.boot_id = "00000000-0000-0000-0000-000000000000";
    OpenJournal()->CreateRun(r);
  }
  auto j = OpenJournal();
  EXPECT_EQ(j->GetRun("c3c3c3c3c3c3")->status, RunStatus::kInterrupted);
}

TEST_F(JournalStaleTest, WaitingRunIsNotStaleEvenThoughItsProcessExited) {
  {
    RunRecord r = MakeRun("d4d4d4d4d4d4");
    r.process.pid = DeadPid();
    r.status = RunStatus::kWaiting;
    OpenJournal()->CreateRun(r);
  }
  auto j = OpenJournal();
  EXPECT_EQ(j->GetRun("d4d4d4d4d4d4")->status, RunStatus::kWaiting);
  EXPECT_TRUE(j->GetEvents("d4d4d4d4d4d4")->empty());
}

TEST_F(JournalStaleTest, RunOnAnotherHostIsLeftAlone) {
  {
    RunRecord r = MakeRun("e5e5e5e5e5e5");
    r.process.host = HostName() + "-elsewhere";
    r.process.pid = DeadPid();
    OpenJournal()->CreateRun(r);
  }
  auto j = OpenJournal();
  EXPECT_EQ(j->GetRun("e5e5e5e5e5e5")->status, RunStatus::kRunning);
}

TEST_F(JournalStaleTest, DetectionCanBeTurnedOff) {
  {
    RunRecord r = MakeRun("f6f6f6f6f6f6");
    r.process.pid = DeadPid();
    OpenJournal()->CreateRun(r);
  }
  OpenOptions options;
  options.mark_stale_runs = false;
  auto j = OpenJournal(options);
  EXPECT_EQ(j->GetRun("f6f6f6f6f6f6")->status, RunStatus::kRunning);
}

TEST_F(JournalStaleTest, ResumedRunIsWatchedUnderItsNewProcess) {
  {
    auto j = OpenJournal();
    RunRecord r = MakeRun("a7a7a7a7a7a7");
    r.process.pid = DeadPid();
    r.status = RunStatus::kWaiting;  // the first engine exited waiting for approval
    j->CreateRun(r);
    j->ResumeRun(r.id, CurrentProcess());  // `runbook resume` in this process
  }
  auto j = OpenJournal();
  EXPECT_EQ(j->GetRun("a7a7a7a7a7a7")->status, RunStatus::kRunning);
}

TEST_F(JournalStaleTest, AZombieEngineCountsAsDead) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  // Wait until the child has exited but leave it unreaped.
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
  ProcessIdentity zombie = CurrentProcess();
  zombie.pid = pid;
  zombie.start_time = ProcessStartTime(pid).value_or(-1);
  EXPECT_NE(zombie.start_time, -1);
  EXPECT_FALSE(ProcessIsAlive(zombie));
  waitpid(pid, nullptr, 0);
  EXPECT_FALSE(ProcessIsAlive(zombie));
  EXPECT_TRUE(ProcessIsAlive(CurrentProcess()));
}

}  // namespace
}  // namespace runbook::journal
