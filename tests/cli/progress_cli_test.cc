// What `runbook run` prints when a step fails (cli/progress.h): the last
// lines of the step's stderr (or stdout when stderr is empty) under its ✘
// line, masked and with control characters made visible, so the on-call
// engineer sees why without `runbook logs`.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <string>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

std::string RunIdOf(const Outcome& o) {
  // The run id is the last line of stdout.
  std::string out = o.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
}

TEST(CliProgress, AFailedStepIsFollowedByTheLastLinesOfItsStderr) {
  CliSandbox box;
  box.SetEnv("TOKEN", "hunter2-secret-value");
  std::string rb = box.WriteRunbook("fails", R"(name: fails
secrets:
  TOKEN: {env: TOKEN}
steps:
  - id: noisy
    run: |
      echo "all good so far" >&2
      for i in 1 2 3 4 5 6 7; do echo "line $i" >&2; done
      printf 'token %s rejected\n' "$T" >&2
      printf 'colour \033[31mred\033[0m\n' >&2
      exit 2
    env: {T: "${{ secrets.TOKEN }}"}
    continue_on_error: true
  - id: stdout-only
    run: |
      echo "ERROR: disk full"
      exit 1
    continue_on_error: true
  - id: fine
    run: echo "a warning, not a failure" >&2
)");
  Outcome o = box.Run({"run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  const std::string run = RunIdOf(o);
  ASSERT_EQ(run.size(), 12u) << o.out;

  size_t failed = o.err.find("✘ noisy failed in ");
  ASSERT_NE(failed, std::string::npos) << o.err;
  size_t more = o.err.find("  noisy ! … (all of it: runbook logs " + run + " noisy)\n", failed);
  EXPECT_NE(more, std::string::npos) << o.err;
  // The last five lines, in order, after the failure.
  size_t at = more;
  for (const std::string line : {"line 5", "line 6", "line 7", "token *** rejected", "colour ?[31mred?[0m"}) {
    at = o.err.find(" noisy ! " + line + "\n", at);
    EXPECT_NE(at, std::string::npos) << line << "\n" << o.err;
  }
  EXPECT_EQ(o.err.find("noisy ! line 4"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("hunter2"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find('\033'), std::string::npos) << "no terminal escapes from the step: " << o.err;

  // Nothing on stderr: the last lines of stdout.
  size_t second = o.err.find("✘ stdout-only failed in ");
  ASSERT_NE(second, std::string::npos) << o.err;
  EXPECT_NE(o.err.find("  stdout-only | ERROR: disk full\n", second), std::string::npos) << o.err;
  // A step that succeeded shows nothing of its output.
  EXPECT_EQ(o.err.find("a warning, not a failure"), std::string::npos) << o.err;

  // `show` has the last three of those lines under each failed step's row.
  Outcome show = box.Run({"show", run});
  ASSERT_EQ(show.exit_code, 0) << show.Describe();
  const std::string pad(30, ' ');
  EXPECT_NE(show.out.find("exit code 2\n" + pad + "! line 7\n" + pad + "! token *** rejected\n" + pad +
                          "! colour ?[31mred?[0m\n"),
            std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("exit code 1\n" + pad + "| ERROR: disk full\n"), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find("a warning, not a failure"), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find("hunter2"), std::string::npos) << show.out;

  // And `show --json`, per step: the stream and the same lines; null for a
  // step that did not fail.
  boost::json::value json = box.ShowJson(run);
  std::map<std::string, boost::json::value> last_lines;
  for (const auto& step : json.at("steps").as_array())
    last_lines[std::string(step.at("id").as_string())] = step.at("last_lines");
  ASSERT_EQ(last_lines.size(), 3u) << json;
  EXPECT_EQ(last_lines["noisy"], boost::json::parse(R"({"stream": "stderr", "lines": ["line 7",
            "token *** rejected", "colour ?[31mred?[0m"]})"));
  EXPECT_EQ(last_lines["stdout-only"], boost::json::parse(R"({"stream": "stdout", "lines": ["ERROR: disk full"]})"));
  EXPECT_TRUE(last_lines["fine"].is_null()) << last_lines["fine"];
  EXPECT_EQ(boost::json::serialize(json).find("hunter2"), std::string::npos);
}

TEST(CliProgress, ShowReadsTheLastLinesOfAFailedStepsSpilledOutput) {
  CliSandbox box;
  // 3 MB of stderr: past the first MiB it is in a spill file.
  std::string rb = box.WriteRunbook("big", R"(name: big
steps:
  - id: flood
    run: |
      head -c 3000000 /dev/zero | tr '\0' 'x' | fold -w 100 >&2
      echo >&2
      echo "the real reason" >&2
      exit 4
)");
  Outcome o = box.Run({"run", rb});
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  const std::string run = RunIdOf(o);
  EXPECT_NE(o.err.find("  flood ! the real reason\n"), std::string::npos) << o.err.substr(0, 2000);
  Outcome show = box.Run({"show", run});
  ASSERT_EQ(show.exit_code, 0) << show.Describe();
  EXPECT_NE(show.out.find("exit code 4\n" + std::string(30, ' ') + "! " + std::string(100, 'x') + "\n" +
                          std::string(30, ' ') + "! " + std::string(100, 'x') + "\n" + std::string(30, ' ') +
                          "! the real reason\n"),
            std::string::npos)
      << show.out;
}

TEST(CliProgress, AChildRunsStepOfTheSameIdKeepsItsOwnLinesAndRun) {
  CliSandbox box;
  box.WriteRunbook("child", R"(name: child
steps:
  - id: work
    run: for i in 1 2 3 4 5 6 7; do echo "child line $i" >&2; sleep 0.05; done; exit 1
)");
  std::string parent = box.WriteRunbook("parent", R"(name: parent
steps:
  - id: work
    run: for i in 1 2 3 4 5 6 7; do echo "parent line $i" >&2; sleep 0.05; done; exit 1
    continue_on_error: true
  - id: call
    type: runbook
    runbook: child
)");
  Outcome o = box.Run({"run", parent});
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  const std::string run = RunIdOf(o);
  const std::string child = RunIdOfRunbook(box, "child");
  ASSERT_FALSE(child.empty());
  EXPECT_NE(o.err.find("work ! … (all of it: runbook logs " + run + " work)"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("work ! … (all of it: runbook logs " + child + " work)"), std::string::npos) << o.err;
  // Each pointer is followed by its own run's last lines, not a mix.
  for (const auto& [id, who] : {std::pair{run, std::string("parent")}, std::pair{child, std::string("child")}}) {
    size_t at = o.err.find("runbook logs " + id + " work)");
    ASSERT_NE(at, std::string::npos);
    for (int i = 3; i <= 7; ++i) {
      size_t next = o.err.find("work ! " + who + " line " + std::to_string(i) + "\n", at);
      EXPECT_NE(next, std::string::npos) << who << " " << i << "\n" << o.err;
      at = next == std::string::npos ? at : next;
    }
  }
}

TEST(CliProgress, WithShowOutputTheFailedStepsLinesAreNotRepeated) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("fails", R"(name: fails
steps:
  - id: broken
    run: |
      echo "cannot read /var/log/app.log" >&2
      printf 'is the disk mounted?\r\n' >&2
      exit 1
)");
  Outcome o = box.Run({"run", "--show-output", rb});
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  EXPECT_EQ(Occurrences(o.err, "broken ! cannot read /var/log/app.log"), 1) << o.err;
  Outcome quiet = box.Run({"run", rb});
  EXPECT_EQ(quiet.exit_code, 1) << quiet.Describe();
  size_t failed = quiet.err.find("✘ broken failed in ");
  ASSERT_NE(failed, std::string::npos) << quiet.err;
  EXPECT_NE(quiet.err.find("  broken ! cannot read /var/log/app.log\n", failed), std::string::npos) << quiet.err;
  // A CRLF line end is not shown; the line's own last character is.
  EXPECT_NE(quiet.err.find("  broken ! is the disk mounted?\n", failed), std::string::npos) << quiet.err;
  EXPECT_EQ(quiet.err.find("all of it"), std::string::npos) << "one line is all of it: " << quiet.err;
}

TEST(CliProgress, ATimedOutStepShowsWhatItLastSaid) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("slow", R"(name: slow
steps:
  - id: hangs
    timeout: 1s
    run: |
      echo "waiting for the lock on /var/lib/app" >&2
      sleep 30
)");
  Outcome o = box.Run({"run", rb});
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  size_t timed_out = o.err.find("✘ hangs timed_out in ");
  ASSERT_NE(timed_out, std::string::npos) << o.err;
  EXPECT_NE(o.err.find("  hangs ! waiting for the lock on /var/lib/app\n", timed_out), std::string::npos) << o.err;
}

}  // namespace
}  // namespace runbook::clitest
