// Acceptance: values never become syntax (SPEC.md §4). Hostile parameter
// values go into `run:` in double quotes, bare and in single quotes, and into
// `exec` argv; the marker file they try to create never appears, and every
// step prints the value exactly.
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

// A path in /tmp unique to this test process, removed before and after.
class Marker {
 public:
  explicit Marker(const std::string& tag)
      : path_("/tmp/pwned-" + std::to_string(::getpid()) + "-" + tag + "-" + std::to_string(::time(nullptr))) {
    ::unlink(path_.c_str());
  }
  ~Marker() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const char* kRunbook = R"(name: inject
params:
  v: {type: string, required: true}
steps:
  - id: double-quoted
    run: echo "${{ params.v }}"
  - id: bare
    run: echo ${{ params.v }}
  - id: single-quoted
    run: echo '${{ params.v }}'
  - id: mixed
    run: echo "[${{ params.v }}]" '[${{ params.v }}]' [${{ params.v }}]
  - id: bash-double-quoted
    shell: bash
    run: echo "${{ params.v }}"
  - id: exec-argv
    type: exec
    argv: [printf, '%s\n', "${{ params.v }}"]
  - id: exec-argv-embedded
    type: exec
    argv: [printf, '%s\n', "<${{ params.v }}>"]
  - id: exec-sh-arg
    type: exec
    argv: [sh, -c, 'echo "$1"', sh, "${{ params.v }}"]
)";

void ExpectInert(CliSandbox& box, const std::string& rb, const std::string& value, const Marker& marker) {
  SCOPED_TRACE("value: " + value);
  Outcome o = box.Run({"--json", "run", rb, "-p", "v=" + value});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_FALSE(FileExists(marker.path())) << "the value ran as shell code: " << marker.path() << " exists";
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  std::string run_id = JsonString(*summary, "run_id");
  const std::string line = value + "\n";
  EXPECT_EQ(box.RawLogs(run_id, "double-quoted"), line);
  EXPECT_EQ(box.RawLogs(run_id, "bare"), line);
  EXPECT_EQ(box.RawLogs(run_id, "single-quoted"), line);
  EXPECT_EQ(box.RawLogs(run_id, "mixed"), "[" + value + "] [" + value + "] [" + value + "]\n");
  EXPECT_EQ(box.RawLogs(run_id, "bash-double-quoted"), line);
  EXPECT_EQ(box.RawLogs(run_id, "exec-argv"), line);
  EXPECT_EQ(box.RawLogs(run_id, "exec-argv-embedded"), "<" + value + ">\n");
  EXPECT_EQ(box.RawLogs(run_id, "exec-sh-arg"), line);
  boost::json::value show = box.ShowJson(run_id);
  const auto* params = show.is_object() ? show.as_object().if_contains("params") : nullptr;
  ASSERT_TRUE(params && params->is_object()) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*params, "v"), value) << "the journal keeps the value as given";
}

TEST(CliInjection, DoubleQuoteBreakoutIsInertInRunAndArgv) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("inject", kRunbook);
  Marker marker("dq");
  ExpectInert(box, rb, "x\"; touch " + marker.path() + "; echo \"", marker);
}

TEST(CliInjection, SingleQuoteBreakoutIsInert) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("inject", kRunbook);
  Marker marker("sq");
  ExpectInert(box, rb, "x'; touch " + marker.path() + "; echo '", marker);
}

TEST(CliInjection, CommandSubstitutionAndGlobsAreInert) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("inject", kRunbook);
  Marker marker("subst");
  ExpectInert(box, rb, "$(touch " + marker.path() + ") `touch " + marker.path() + "` ${HOME} * $RUNBOOK_RUN_ID",
              marker);
}

}  // namespace
}  // namespace runbook::clitest
