// Acceptance: `runbook run` exit codes and the run states they go with
// (SPEC.md §2): 0 succeeded, 1 failed (on_failure ran), 2 definition or
// usage error with nothing journaled, 143 on SIGTERM (cancelled, finally
// ran); and --dry-run prints the plan and creates no run.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

// Runs recorded in the sandbox's journal (0 when there is no journal file).
size_t RunCount(CliSandbox& box) {
  if (!FileExists(box.journal_path())) return 0;
  auto j = box.OpenJournal();
  if (!j) return 0;
  auto runs = j->ListRuns({});
  EXPECT_TRUE(runs.ok()) << runs.status().message();
  return runs.ok() ? runs->size() : 0;
}

std::string RunIdOf(const Outcome& o) {
  auto summary = ParseJson(o.out, "run --json");
  return summary ? JsonString(*summary, "run_id") : "";
}

TEST(CliExitCodes, SucceededRunExitsZero) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("ok", "name: ok\nsteps:\n  - {id: a, run: echo a}\n  - {id: b, needs: [a], run: echo b}\n");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  boost::json::value show = box.ShowJson(RunIdOf(o));
  EXPECT_EQ(JsonString(show, "status"), "succeeded");
  EXPECT_EQ(show.at("exit_code").to_number<int>(), 0);
}

TEST(CliExitCodes, FailedStepExitsOneAndRunsOnFailure) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("bad", R"(name: bad
steps:
  - {id: a, run: echo a}
  - {id: broken, needs: [a], run: "echo failing >&2; exit 7"}
on_failure:
  - {id: page-someone, run: echo paged}
finally:
  - {id: tidy, run: echo tidy}
)");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 1) << o.Describe();
  std::string run_id = RunIdOf(o);
  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(JsonString(show, "status"), "failed");
  EXPECT_EQ(show.at("exit_code").to_number<int>(), 1);
  EXPECT_NE(JsonString(show, "error").find("broken"), std::string::npos) << JsonString(show, "error");
  const boost::json::object* broken = FindStep(show, "broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(JsonString(*broken, "status"), "failed");
  EXPECT_EQ(broken->at("exit_code").to_number<int>(), 7);
  const boost::json::object* page = FindStep(show, "page-someone");
  ASSERT_NE(page, nullptr) << "the on_failure step did not run: " << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*page, "block"), "on_failure");
  EXPECT_EQ(JsonString(*page, "status"), "succeeded");
  EXPECT_EQ(box.RawLogs(run_id, "page-someone"), "paged\n");
  const boost::json::object* tidy = FindStep(show, "tidy");
  ASSERT_NE(tidy, nullptr);
  EXPECT_EQ(JsonString(*tidy, "status"), "succeeded");
}

TEST(CliExitCodes, DefinitionErrorExitsTwoAndJournalsNothing) {
  CliSandbox box;
  std::string marker = box.Path("ran");
  std::string rb = box.WriteRunbook("cycle", "name: cycle\nsteps:\n"
                                    "  - {id: a, needs: [b], run: touch " + marker + "}\n"
                                    "  - {id: b, needs: [a], run: touch " + marker + "}\n");
  Outcome o = box.Run({"run", rb});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find("cycle.yaml:"), std::string::npos) << "errors carry file:line:col: " << o.err;
  EXPECT_NE(o.err.find("error:"), std::string::npos) << o.err;

  std::string typo = box.WriteRunbook("typo", "name: typo\nsteps:\n  - id: a\n    type: shell\n    runn: touch " +
                                                  marker + "\n");
  o = box.Run({"run", typo});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();

  std::string needs_param = box.WriteRunbook("needs-param", "name: needs-param\nparams:\n"
                                             "  host: {type: string, required: true}\nsteps:\n"
                                             "  - {id: a, run: touch " + marker + "}\n");
  o = box.Run({"run", needs_param});
  EXPECT_EQ(o.exit_code, 2) << "missing required parameter: " << o.Describe();
  o = box.Run({"run", needs_param, "--no-such-option"});
  EXPECT_EQ(o.exit_code, 2) << "unknown option: " << o.Describe();
  o = box.Run({"run", box.Path("does-not-exist.yaml")});
  EXPECT_EQ(o.exit_code, 2) << "missing runbook: " << o.Describe();

  EXPECT_FALSE(FileExists(marker)) << "a step ran";
  EXPECT_EQ(RunCount(box), 0u) << "a definition error created a run";
}

TEST(CliExitCodes, SigtermCancelsTheRunRunsFinallyAndExits143) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("term", R"(name: term
steps:
  - id: wait
    run: |
      touch )" + box.Path("started") + R"(
      sleep 1000
  - {id: never, needs: [wait], run: touch )" + box.Path("never.ran") + R"(}
finally:
  - {id: tidy, run: echo tidied}
)");
  auto run = box.Start({"--json", "run", rb});
  ASSERT_TRUE(WaitFor([&] { return FileExists(box.Path("started")) || run->Exited(); }, seconds(30)));
  ASSERT_TRUE(FileExists(box.Path("started"))) << run->Wait(seconds(1)).Describe();
  run->Signal(SIGTERM);
  Outcome o = run->Wait(seconds(60));
  ASSERT_EQ(o.exit_code, 143) << o.Describe();
  EXPECT_FALSE(FileExists(box.Path("never.ran")));
  std::string run_id = RunIdOf(o);
  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(JsonString(show, "status"), "cancelled") << boost::json::serialize(show);
  EXPECT_EQ(show.at("exit_code").to_number<int>(), 143);
  const boost::json::object* wait = FindStep(show, "wait");
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(JsonString(*wait, "status"), "cancelled");
  const boost::json::object* tidy = FindStep(show, "tidy");
  ASSERT_NE(tidy, nullptr) << "finally did not run: " << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*tidy, "status"), "succeeded");
  EXPECT_EQ(box.RawLogs(run_id, "tidy"), "tidied\n");
  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_GE(CountEventKinds(*j, run_id)["cancel"], 1);
}

TEST(CliDryRun, PrintsThePlanAndCreatesNoRun) {
  CliSandbox box;
  std::string marker = box.Path("ran");
  std::string rb = box.WriteRunbook("dry", "name: dry\nparams:\n  who: {type: string, default: world}\nsteps:\n"
                                    "  - {id: first-step, run: 'touch " + marker + "'}\n"
                                    "  - {id: second-step, needs: [first-step], run: 'echo \"hello ${{ params.who }}\"'}\n");
  Outcome o = box.Run({"run", rb, "--dry-run", "-p", "who=ops"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  size_t first = o.out.find("first-step"), second = o.out.find("second-step");
  EXPECT_NE(first, std::string::npos) << o.out;
  EXPECT_NE(second, std::string::npos) << o.out;
  EXPECT_LT(first, second) << "the plan is in execution order: " << o.out;
  EXPECT_NE(o.out.find("ops"), std::string::npos) << "resolved parameters are shown: " << o.out;

  Outcome json = box.Run({"--json", "run", rb, "--dry-run"});
  ASSERT_EQ(json.exit_code, 0) << json.Describe();
  EXPECT_TRUE(ParseJson(json.out, "run --dry-run --json"));

  EXPECT_FALSE(FileExists(marker)) << "--dry-run executed a step";
  EXPECT_EQ(RunCount(box), 0u) << "--dry-run created a run";
}

// The command line is built only for the commands named in the arguments
// (start-up time); help and errors must not notice.
TEST(CliUsage, HelpListsEveryCommandAndEachCommandItsOwnOptions) {
  CliSandbox box;
  Outcome top = box.Run({"--help"});
  EXPECT_EQ(top.exit_code, 0) << top.Describe();
  for (const char* command : {"list", "validate", "plan", "graph", "cron", "run", "runs", "show", "logs", "approve",
                              "resume", "cancel", "note", "journal", "stats", "schedule"})
    EXPECT_NE(top.out.find(std::string("\n  ") + command + " "), std::string::npos)
        << command << " missing from\n" << top.out;
  Outcome run_help = box.Run({"run", "--help"});
  EXPECT_EQ(run_help.exit_code, 0) << run_help.Describe();
  EXPECT_NE(run_help.out.find("--max-parallel"), std::string::npos) << run_help.out;
  Outcome journal_help = box.Run({"--help", "journal"});  // the flag first
  EXPECT_EQ(journal_help.exit_code, 0) << journal_help.Describe();
  for (const char* sub : {"verify", "export", "prune"})
    EXPECT_NE(journal_help.out.find(sub), std::string::npos) << sub << " missing from\n" << journal_help.out;
}

TEST(CliUsage, UnknownCommandsAndOptionsAreUsageErrors) {
  CliSandbox box;
  Outcome unknown = box.Run({"rn", "x.yaml"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.Describe();
  EXPECT_NE(unknown.err.find("runbook --help"), std::string::npos) << unknown.err;
  Outcome bad_option = box.Run({"runs", "--no-such-option"});
  EXPECT_EQ(bad_option.exit_code, 2) << bad_option.Describe();
  EXPECT_NE(bad_option.err.find("--no-such-option"), std::string::npos) << bad_option.err;
}

TEST(CliUsage, AnOptionValueThatIsACommandNameChangesNothing) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("ok", "name: ok\nsteps:\n  - {id: a, run: echo a}\n");
  ASSERT_EQ(box.Run({"run", rb}).exit_code, 0);
  // A runbook directory called "show" (`runs` reads none); the command is `runs`.
  Outcome o = box.Run({"--runbooks", "show", "--json", "runs"});
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_NE(o.out.find("\"ok\""), std::string::npos) << o.out;
}

}  // namespace
}  // namespace runbook::clitest
