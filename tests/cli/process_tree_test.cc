// Acceptance: no process of a step outlives it (SPEC.md §5). The step starts
// a background `sleep`, a grandchild (`sh -c 'sleep 1000 & ...; wait' &`) and
// a foreground `sleep 1000`, recording every pid; after a step timeout or a
// SIGINT to the engine, none of them exists any more and nothing is left in
// the step's process group. The check runs while the engine is still alive
// (a later step waits for the test's go-ahead), so a zombie the engine failed
// to reap would be seen too.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <sstream>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

// The step body: writes "main PID", "bg PID", "sub PID", "gc PID" to `pids`
// (main is the step's shell, i.e. its process group), then sleeps.
std::string TreeScript(const std::string& pids) {
  return "      echo \"main $$\" >> " + pids + "\n" +
         "      sleep 1000 &\n"
         "      echo \"bg $!\" >> " + pids + "\n" +
         "      sh -c 'sleep 1000 & echo \"gc $!\" >> " + pids + "; wait' &\n" +
         "      echo \"sub $!\" >> " + pids + "\n" +
         "      while ! grep -q '^gc ' " + pids + "; do sleep 0.01; done\n"
         "      sleep 1000\n";
}

// A step that says it is running (touches `ready`) and waits for `go`.
std::string GateScript(const std::string& ready, const std::string& go) {
  return "      touch " + ready + "\n" +
         "      while [ ! -e " + go + " ]; do sleep 0.05; done\n"
         "      echo gate-passed\n";
}

std::map<std::string, pid_t> ReadPids(const std::string& path) {
  std::map<std::string, pid_t> out;
  std::istringstream in(ReadFile(path));
  std::string name;
  long pid;
  while (in >> name >> pid) out[name] = static_cast<pid_t>(pid);
  return out;
}

// Kills whatever is left of the step's group when the test ends, so that a
// failing test does not leave sleeps behind.
struct GroupReaper {
  pid_t pgid = 0;
  ~GroupReaper() {
    if (pgid > 1) ::kill(-pgid, SIGKILL);
  }
};

// A process of the step still counts if it is not dead, or dead but not
// reaped by the engine (a zombie child of the engine). Dead orphans waiting
// for init to reap them are gone as far as the step is concerned.
bool StillThere(const ProcInfo& p, pid_t engine) { return p.state != 'Z' || p.ppid == engine; }

void ExpectStepProcessesGone(const std::map<std::string, pid_t>& pids, pid_t engine) {
  for (const auto& [name, pid] : pids) {
    auto p = ProcessInfo(pid);
    if (p && StillThere(*p, engine))
      ADD_FAILURE() << "the step's '" << name << "' process is still there: " << p->Describe()
                    << " (engine pid " << engine << ")";
  }
  pid_t pgid = pids.at("main");
  for (const ProcInfo& p : ProcessesInGroup(pgid))
    if (StillThere(p, engine))
      ADD_FAILURE() << "process left in the step's process group " << pgid << ": " << p.Describe()
                    << " (engine pid " << engine << ")";
}

TEST(CliProcessTree, StepTimeoutKillsTheStepsWholeProcessTree) {
  CliSandbox box;
  std::string pids = box.Path("pids");
  std::string rb = box.WriteRunbook("tree-timeout", "name: tree-timeout\nsteps:\n"
                                    "  - id: tree\n"
                                    "    timeout: 1s\n"
                                    "    run: |\n" + TreeScript(pids) +
                                    "  - id: probe\n"
                                    "    needs: [tree]\n"
                                    "    if: ${{ always() }}\n"
                                    "    timeout: 60s\n"
                                    "    run: |\n" + GateScript(box.Path("ready"), box.Path("go")));
  auto run = box.Start({"--json", "run", rb});
  GroupReaper reaper;
  bool ready = WaitFor([&] { return FileExists(box.Path("ready")) || run->Exited(); }, seconds(30));
  auto recorded = ReadPids(pids);
  if (recorded.count("main")) reaper.pgid = recorded["main"];
  ASSERT_TRUE(ready && FileExists(box.Path("ready")))
      << "the step after the timed-out one never started; " << run->Wait(seconds(1)).Describe();
  // (On a very loaded machine the 1 s timeout may come before the grandchild
  // wrote its line; the scan of the step's process group still covers it.)
  ASSERT_TRUE(recorded.count("main") && recorded.count("bg") && recorded.count("sub"))
      << "the step did not record its pids: " << ReadFile(pids);
  ExpectStepProcessesGone(recorded, run->pid());

  box.WriteFile("go", "");
  Outcome o = run->Wait(seconds(30));
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  boost::json::value show = box.ShowJson(JsonString(*summary, "run_id"));
  const boost::json::object* tree = FindStep(show, "tree");
  ASSERT_NE(tree, nullptr) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*tree, "status"), "timed_out") << boost::json::serialize(*tree);
  EXPECT_NE(JsonString(*tree, "error").find("timed out"), std::string::npos) << boost::json::serialize(*tree);
  const boost::json::object* probe = FindStep(show, "probe");
  ASSERT_NE(probe, nullptr);
  EXPECT_EQ(JsonString(*probe, "status"), "succeeded");
  EXPECT_EQ(JsonString(show, "status"), "failed");

  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(CountEventKinds(*j, JsonString(*summary, "run_id"))["timeout"], 1);
}

TEST(CliProcessTree, SigintCancelsTheRunKillsTheStepsTreeAndStillRunsFinally) {
  CliSandbox box;
  std::string pids = box.Path("pids");
  std::string rb = box.WriteRunbook("tree-int", "name: tree-int\nsteps:\n"
                                    "  - id: tree\n"
                                    "    run: |\n" + TreeScript(pids) +
                                    "  - id: never\n"
                                    "    needs: [tree]\n"
                                    "    run: touch " + box.Path("never.ran") + "\n"
                                    "finally:\n"
                                    "  - id: cleanup\n"
                                    "    timeout: 60s\n"
                                    "    run: |\n" + GateScript(box.Path("ready"), box.Path("go")));
  auto run = box.Start({"--json", "run", rb});
  GroupReaper reaper;
  bool started = WaitFor([&] { return ReadPids(pids).size() == 4 || run->Exited(); }, seconds(30));
  auto recorded = ReadPids(pids);
  if (recorded.count("main")) reaper.pgid = recorded["main"];
  ASSERT_TRUE(started && recorded.size() == 4)
      << "the step did not record its pids: " << ReadFile(pids) << "\n" << run->Wait(seconds(1)).Describe();
  // The premise: the step is its own process group, and its background
  // processes are in it.
  pid_t pgid = recorded["main"];
  EXPECT_EQ(ProcessGroupOf(pgid), pgid);
  EXPECT_NE(ProcessGroupOf(run->pid()), pgid);
  for (const char* name : {"bg", "sub", "gc"}) EXPECT_EQ(ProcessGroupOf(recorded[name]), pgid) << name;

  run->Signal(SIGINT);
  bool ready = WaitFor([&] { return FileExists(box.Path("ready")) || run->Exited(); }, seconds(30));
  ASSERT_TRUE(ready && FileExists(box.Path("ready")))
      << "the finally step did not start after SIGINT; " << run->Wait(seconds(1)).Describe();
  ExpectStepProcessesGone(recorded, run->pid());

  box.WriteFile("go", "");
  Outcome o = run->Wait(seconds(30));
  EXPECT_EQ(o.exit_code, 130) << o.Describe();
  EXPECT_FALSE(FileExists(box.Path("never.ran")));
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  std::string run_id = JsonString(*summary, "run_id");
  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(JsonString(show, "status"), "cancelled") << boost::json::serialize(show);
  const boost::json::object* tree = FindStep(show, "tree");
  ASSERT_NE(tree, nullptr) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*tree, "status"), "cancelled") << boost::json::serialize(*tree);
  const boost::json::object* cleanup = FindStep(show, "cleanup");
  ASSERT_NE(cleanup, nullptr) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*cleanup, "status"), "succeeded") << boost::json::serialize(*cleanup);
  EXPECT_EQ(JsonString(*cleanup, "block"), "finally");
  EXPECT_EQ(box.RawLogs(run_id, "cleanup"), "gate-passed\n");
  EXPECT_EQ(FindStep(show, "never") ? JsonString(*FindStep(show, "never"), "status") : "skipped", "skipped");
}

}  // namespace
}  // namespace runbook::clitest
