// RunDaemon in `once` mode with an injected clock: the runbooks' triggers are
// loaded from a real directory, due slots start real child processes (a
// stand-in script for the runbook binary that records its argv), and the
// journal ends up with the slots. The long-running daemon (timers, signals,
// reload) is tested end to end in tests/cli/schedule_cli_test.cc.
#include "sched/daemon.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "steps/registry.h"
#include "tests/sched/sched_test_util.h"

namespace runbook::sched {
namespace {

using test::At;
using test::Us;

constexpr const char* kTick = R"(name: tick
params:
  who: {type: string, default: nobody}
  count: {type: int, default: 1}
schedule:
  - cron: "* * * * *"
    timezone: UTC
    params: {who: "the scheduler", count: 3}
steps:
  - id: hello
    run: echo hello
)";

class DaemonTest : public test::SchedTest {
 protected:
  void SetUp() override {
    test::SchedTest::SetUp();
    runbooks_ = dir_ + "/runbooks";
    std::filesystem::create_directories(runbooks_);
    fake_ = WriteFile("fake-runbook", "#!/bin/sh\n"
                                      "printf '%s\\n' \"$@\" > " + dir_ + "/argv.$$\n"
                                      "echo 'a log line of the run' >&2\n"
                                      "echo '{\"run_id\":\"cafecafecafe\",\"status\":\"succeeded\",\"exit_code\":0,\"error\":\"\"}'\n");
    ::chmod(fake_.c_str(), 0755);
  }

  int Once(sys_seconds now) {
    DaemonOptions o;
    o.once = true;
    o.child = {fake_, journal_path_, runbooks_, ""};
    o.now = [now] { return now; };
    Catalog catalog({runbooks_});
    return RunDaemon(o, catalog, steps::BuiltinStepTypes(), *journal_, *store_);
  }

  // The argv files the fake binary wrote, one per child.
  std::vector<std::string> Argvs() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind("argv.", 0) != 0) continue;
      std::ifstream f(e.path());
      std::stringstream ss;
      ss << f.rdbuf();
      out.push_back(ss.str());
    }
    return out;
  }

  std::string runbooks_;
  std::string fake_;
};

TEST_F(DaemonTest, OnceStartsTheDueRunAsAChildAndRecordsTheSlot) {
  WriteFile("runbooks/tick.yaml", kTick);
  EXPECT_EQ(Once(At("2026-05-04T10:00:42Z")), 0);
  auto argvs = Argvs();
  ASSERT_EQ(argvs.size(), 1u);
  EXPECT_EQ(argvs[0], "--journal\n" + journal_path_ + "\n--runbooks\n" + runbooks_ +
                          "\n--json\nrun\ntick\n--trigger\ncron\n-p\ncount=3\n-p\nwho=the scheduler\n");
  auto rows = *store_->Rows("tick");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].slot_at_us, Us(At("2026-05-04T10:00:00Z")));
  EXPECT_EQ(rows[0].outcome, SlotOutcome::kFired);
  EXPECT_EQ(rows[0].run_id, "cafecafecafe");
  EXPECT_EQ(rows[0].reason, "run succeeded (exit 0)");
  EXPECT_EQ(rows[0].trigger_key, R"(* * * * * tz=UTC params={"count":3,"who":"the scheduler"})");
}

TEST_F(DaemonTest, ASecondOnceInTheSameMinuteFiresNothingAndTheNextMinuteFiresAgain) {
  WriteFile("runbooks/tick.yaml", kTick);
  EXPECT_EQ(Once(At("2026-05-04T10:00:05Z")), 0);
  EXPECT_EQ(Once(At("2026-05-04T10:00:50Z")), 0);
  EXPECT_EQ(Argvs().size(), 1u);
  EXPECT_EQ(Once(At("2026-05-04T10:01:01Z")), 0);
  EXPECT_EQ(Argvs().size(), 2u);
  EXPECT_EQ(store_->Rows("tick")->size(), 2u);
}

TEST_F(DaemonTest, ARunbookWithErrorsDoesNotKeepTheOthersFromFiring) {
  WriteFile("runbooks/tick.yaml", kTick);
  WriteFile("runbooks/broken.yaml", "name: broken\nschedule:\n  - cron: \"61 * * * *\"\nsteps: []\n");
  EXPECT_EQ(Once(At("2026-05-04T10:00:05Z")), 0);
  EXPECT_EQ(Argvs().size(), 1u);
  EXPECT_TRUE(store_->Rows("broken")->empty());
}

TEST_F(DaemonTest, OnceWithNothingDueReturnsAtOnce) {
  WriteFile("runbooks/nightly.yaml", "name: nightly\nschedule:\n  - cron: \"0 3 * * *\"\n    timezone: UTC\n"
                                      "steps:\n  - id: a\n    run: \"true\"\n");
  EXPECT_EQ(Once(At("2026-05-04T10:00:05Z")), 0);
  EXPECT_TRUE(Argvs().empty());
  EXPECT_TRUE(store_->Rows("nightly")->empty());
}

}  // namespace
}  // namespace runbook::sched
