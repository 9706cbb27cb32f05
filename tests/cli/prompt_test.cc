// Acceptance: "On a terminal, the engine prompts" (SPEC.md §5). The real
// binary runs on a pseudo-terminal; the test answers the approval prompt as
// an operator would (an input, then yes) and the run continues in the same
// process, with the decision journaled under the OS user.
#include <gtest/gtest.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "journal/identity.h"
#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

// A `runbook` process on a pty: what it writes to the terminal, and answers.
class PtyRun {
 public:
  PtyRun(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    pid_ = forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      std::vector<char*> a, e;
      for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
      a.push_back(nullptr);
      for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
      e.push_back(nullptr);
      execve(a[0], a.data(), e.data());
      _exit(127);
    }
  }
  ~PtyRun() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
  }
  bool started() const { return pid_ > 0; }
  // Reads until `text` has appeared (true) or the deadline passes / EOF.
  bool WaitFor(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (seen_.find(text, consumed_) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) return false;  // EIO once the child is gone
      seen_.append(buf, static_cast<size_t>(n));
    }
    consumed_ = seen_.find(text, consumed_) + text.size();
    return true;
  }
  void Type(const std::string& line) { ASSERT_EQ(write(master_, line.data(), line.size()), (ssize_t)line.size()); }
  int Wait() {
    // Drain so the child never blocks on a full terminal.
    WaitFor("\x01never\x01", std::chrono::seconds(30));
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const std::string& seen() const { return seen_; }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  bool reaped_ = false;
  std::string seen_;
  size_t consumed_ = 0;
};

TEST(CliPrompt, OperatorAnswersTheApprovalOnTheTerminalAndTheRunGoesOn) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("incident", R"(name: incident
steps:
  - id: classify
    type: approval
    prompt: Classify the emergency
    inputs:
      severity: {type: enum, values: [critical, high, medium], required: true}
  - id: act
    needs: [classify]
    run: echo "acting on ${{ steps.classify.outputs.severity }}"
)");
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=/tmp", "NO_COLOR=1", "RUNBOOK_JOURNAL=" + box.journal_path(),
                                  "RUNBOOK_PATH=" + box.dir()};
  PtyRun run({RUNBOOK_BINARY, "run", rb}, env);
  ASSERT_TRUE(run.started());
  ASSERT_TRUE(run.WaitFor("Classify the emergency")) << run.seen();
  ASSERT_TRUE(run.WaitFor("severity (critical, high, medium)")) << run.seen();
  run.Type("catastrophic\n");
  ASSERT_TRUE(run.WaitFor("severity")) << "a bad value is refused and asked again: " << run.seen();
  run.Type("high\n");
  ASSERT_TRUE(run.WaitFor("approve as " + journal::UserName() + "?")) << run.seen();
  run.Type("y\n");
  ASSERT_TRUE(run.WaitFor("comment (optional):")) << run.seen();
  run.Type("paged the DBA\n");
  EXPECT_EQ(run.Wait(), 0) << run.seen();

  auto j = box.OpenJournal();
  auto runs = j->ListRuns(journal::RunFilter{});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  const std::string id = (*runs)[0].id;
  EXPECT_EQ(box.RawLogs(id, "act"), "acting on high\n");
  auto approvals = j->GetApprovals(id);
  ASSERT_TRUE(approvals.ok());
  ASSERT_EQ(approvals->size(), 1u);
  EXPECT_EQ((*approvals)[0].approver, journal::UserName());
  EXPECT_EQ((*approvals)[0].comment, "paged the DBA");
  EXPECT_EQ((*approvals)[0].inputs_json, R"({"severity":"high"})");
}

TEST(CliPrompt, LaterLeavesTheRunWaiting) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("gate", "name: gate\nsteps:\n  - id: ok\n    type: approval\n");
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=/tmp", "NO_COLOR=1", "RUNBOOK_JOURNAL=" + box.journal_path(),
                                  "RUNBOOK_PATH=" + box.dir()};
  PtyRun run({RUNBOOK_BINARY, "run", rb}, env);
  ASSERT_TRUE(run.WaitFor("approve as")) << run.seen();
  run.Type("l\n");
  EXPECT_EQ(run.Wait(), 3) << run.seen();
  EXPECT_NE(run.seen().find("waiting: ok"), std::string::npos) << run.seen();
}

TEST(CliPrompt, OtherStepsLinesWaitUntilTheQuestionIsAnswered) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("gate", R"(name: gate
steps:
  - id: ok
    type: approval
    prompt: Go ahead?
  - id: side
    run: sleep 0.3; echo side-done >&2; exit 1
    continue_on_error: true
)");
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=/tmp", "NO_COLOR=1", "RUNBOOK_JOURNAL=" + box.journal_path(),
                                  "RUNBOOK_PATH=" + box.dir()};
  PtyRun run({RUNBOOK_BINARY, "run", rb}, env);
  ASSERT_TRUE(run.WaitFor("approve as")) << run.seen();
  // `side` ends while the question is open: its lines must not land in it.
  run.WaitFor("\x01never\x01", std::chrono::seconds(2));
  EXPECT_EQ(run.seen().find("side failed"), std::string::npos) << run.seen();
  run.Type("y\n");
  ASSERT_TRUE(run.WaitFor("comment (optional):")) << run.seen();
  run.Type("\n");
  EXPECT_EQ(run.Wait(), 0) << run.seen();
  const std::string& seen = run.seen();
  size_t comment = seen.find("comment (optional):");
  size_t side = seen.find("side failed");
  ASSERT_NE(side, std::string::npos) << seen;
  EXPECT_GT(side, comment) << seen;
  EXPECT_NE(seen.find("side ! side-done", side), std::string::npos) << seen;
}

}  // namespace
}  // namespace runbook::clitest
