// Fault injection through the journal seam (issue #8): the Runner with a
// scripted process launcher and a real journal whose write transactions start
// failing in the middle of a run (OpenOptions::before_commit_for_testing, as a
// full disk or an I/O error would). The engine must stop launching steps —
// dependents, independent ones not yet started and `finally` alike — cancel
// what runs, and end the run failed with the journal's reason.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "engine/loader.h"
#include "engine/runner.h"
#include "journal/identity.h"
#include "journal/start_log.h"
#include "steps/process_step.h"
#include "steps/registry.h"
#include "tests/fakes/fake_process_launcher.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;
using fakes::FakeProcessLauncher;
using std::chrono::milliseconds;

class RunnerFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("runner-faults-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    executors_.Add("shell", steps::MakeShellExecutor(launcher_));
  }
  void TearDown() override {
    if (journal_) (void)journal_->Close();
    fs::remove_all(dir_);
  }

  // Opens the journal; every write transaction fails (before COMMIT) once
  // `broken(db)` says so.
  void OpenJournal(std::function<bool(journal::sqlite::Db&)> broken) {
    journal::OpenOptions options;
    options.before_commit_for_testing = [broken = std::move(broken)](journal::sqlite::Db& db) {
      return broken(db) ? Status::IoError("disk I/O error (injected)") : Status::Ok();
    };
    auto j = journal::Journal::Open((dir_ / "journal.db").string(), options);
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(j).value();
  }

  RunSummary Run(const std::string& yaml) {
    Diagnostics diags;
    auto spec = LoadRunbookText(yaml, "t.yaml", steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(spec) << diags.FormatAll();
    rb_ = Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(rb_) << diags.FormatAll();
    Runner runner(io_, *journal_, executors_, nullptr);
    RunRequest req;
    req.runbook = &*rb_;
    req.max_parallel = 4;
    req.handle_signals = false;
    return runner.Run(req);
  }

  // The scripts the launcher was asked to run (the last argv element of
  // `sh -e -c SCRIPT`).
  std::vector<std::string> Launched() const {
    std::vector<std::string> out;
    for (const auto& r : launcher_.requests()) out.push_back(r.argv.empty() ? "" : r.argv.back());
    return out;
  }

  fs::path dir_;
  boost::asio::io_context io_;
  FakeProcessLauncher launcher_;
  ExecutorRegistry executors_;
  std::unique_ptr<journal::Journal> journal_;
  std::optional<CompiledRunbook> rb_;
};

// Counts rows of `sql` inside the failing transaction (the rows it is about
// to commit included).
bool Any(journal::sqlite::Db& db, const char* sql) {
  auto n = db.QueryInt(sql);
  return n.ok() && *n > 0;
}

TEST_F(RunnerFaultsTest, JournalFailingMidRunStopsLaunchingStepsAndFailsTheRunWithTheReason) {
  // The group commit that records `first` finishing is the first to fail.
  // `dependent` may start before that commit (its start is in the start
  // log; journal/start_log.h); nothing starts once the failure is known.
  OpenJournal([](journal::sqlite::Db& db) {
    return Any(db, "SELECT count(*) FROM events WHERE kind = 'step_finished' AND step_id = 'first'");
  });
  launcher_.On([](const steps::ProcessRequest& r) { return !r.argv.empty() && r.argv.back() == "echo slow"; },
               FakeProcessLauncher::Runs(std::chrono::hours(1)));
  RunSummary s = Run(R"(name: t
steps:
  - {id: slow, run: echo slow}
  - {id: first, run: echo first}
  - {id: dependent, needs: [first], if: "${{ always() }}", run: echo dependent}
  - {id: later, needs: [first, slow], if: "${{ always() }}", run: echo later}
finally:
  - {id: tidy, run: echo tidy}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_NE(s.error.find("journal write failed"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("disk I/O error (injected)"), std::string::npos) << s.error;
  std::vector<std::string> launched = Launched();
  ASSERT_GE(launched.size(), 2u);
  EXPECT_EQ(launched[0], "echo slow");
  EXPECT_EQ(launched[1], "echo first");
  for (const char* never : {"echo later", "echo tidy"})
    EXPECT_EQ(std::count(launched.begin(), launched.end(), never), 0) << never << " launched after the journal broke";
  EXPECT_EQ(launcher_.running(), 0) << "the running step was not stopped";
  Status sticky = journal_->writer_status();
  EXPECT_FALSE(sticky.ok());
  EXPECT_NE(sticky.message().find("disk I/O error (injected)"), std::string::npos) << sticky.message();
}

TEST_F(RunnerFaultsTest, AGroupCommitFailingAfterAStepStartedStopsThatStepAndTheRun) {
  // Creating the run commits (a barrier); the group with the first step's
  // start does not. The step started (its start is in the start log), and is
  // stopped as soon as the failure is known, without waiting for it to end.
  OpenJournal([](journal::sqlite::Db& db) {
    return Any(db, "SELECT count(*) FROM events WHERE kind = 'step_started'");
  });
  launcher_.On([](const steps::ProcessRequest& r) { return !r.argv.empty() && r.argv.back() == "echo a"; },
               FakeProcessLauncher::Runs(std::chrono::hours(1)));
  RunSummary s = Run(R"(name: t
steps:
  - {id: a, run: echo a}
  - {id: b, needs: [a], run: echo b}
finally:
  - {id: tidy, run: echo tidy}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_NE(s.error.find("disk I/O error (injected)"), std::string::npos) << s.error;
  EXPECT_EQ(Launched(), std::vector<std::string>{"echo a"});
  EXPECT_EQ(launcher_.running(), 0) << "the running step was not stopped";
}

TEST_F(RunnerFaultsTest, AStartLogThatCannotBeWrittenRunsNothing) {
  // The barrier before a step's process starts is its line in the start
  // log; a directory where the file should be makes it fail.
  OpenJournal([](journal::sqlite::Db&) { return false; });
  fs::create_directories(journal::StartLogPath((dir_ / "journal.db").string(), journal::CurrentProcess()));
  RunSummary s = Run(R"(name: t
steps:
  - {id: a, run: echo a}
  - {id: b, run: echo b}
finally:
  - {id: tidy, run: echo tidy}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_NE(s.error.find("cannot create the start log"), std::string::npos) << s.error;
  EXPECT_TRUE(Launched().empty()) << "a step ran although its start could not be recorded";
  // The journal itself still works, and says so: the run failed with the
  // reason, its attempts failed without starting.
  auto run = journal_->GetRun(s.run_id);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, journal::RunStatus::kFailed);
  EXPECT_NE(run->error.find("cannot create the start log"), std::string::npos) << run->error;
  auto attempts = journal_->GetAttempts(s.run_id);
  ASSERT_TRUE(attempts.ok());
  for (const auto& a : *attempts) {
    EXPECT_EQ(a.status, journal::AttemptStatus::kFailed) << a.step_id;
    EXPECT_NE(a.error.find("not started"), std::string::npos) << a.error;
  }
}

}  // namespace
}  // namespace runbook
