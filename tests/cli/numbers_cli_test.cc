// Numbers that are not integers, as the on-call engineer and the reviewer
// read them: in `runbook run`'s summary, in a script, in `show --json` and in
// the export. Boost.JSON alone writes 0.5 as "5E-1" (engine/json_text.h).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

TEST(CliNumbers, FractionalOutputsReadAsPlainDecimalsEverywhere) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("numbers", R"(name: numbers
steps:
  - id: measure
    run: echo "load=0.5 tiny=0.0001 big=15000000000.5"
    outputs:
      load: {from: stdout, regex: 'load=([0-9.]+)', group: 1, type: number}
      tiny: {from: stdout, regex: 'tiny=([0-9.]+)', group: 1, type: number}
      big: {from: stdout, regex: 'big=([0-9.]+)', group: 1, type: number}
  - id: use
    needs: [measure]
    run: echo "got ${{ steps.measure.outputs.load }} ${{ steps.measure.outputs.tiny }} ${{ steps.measure.outputs.big }}"
outputs:
  load: ${{ steps.measure.outputs.load }}
  series: ${{ json('[0.25, 3.0, 1e-7]') }}
)");
  Outcome o = box.Run({"run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_NE(o.err.find("output load = 0.5\n"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("output series = [0.25,3.0,1e-07]\n"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("E-"), std::string::npos) << o.err;

  Outcome runs = box.Run({"--json", "runs"});
  auto list = ParseJson(runs.out, "runs --json");
  ASSERT_TRUE(list && list->is_array() && !list->as_array().empty()) << runs.Describe();
  std::string run = JsonString(list->as_array()[0], "id");
  Outcome logs = box.Run({"logs", run, "use"});
  EXPECT_NE(logs.out.find("got 0.5 0.0001 15000000000.5"), std::string::npos) << logs.Describe();

  Outcome show = box.Run({"--json", "show", run});
  EXPECT_NE(show.out.find(R"("load":0.5,"tiny":0.0001,"big":15000000000.5)"), std::string::npos) << show.out;
  Outcome md = box.Run({"journal", "export", run, "--format", "md"});
  EXPECT_EQ(md.exit_code, 0) << md.Describe();
  EXPECT_NE(md.out.find(R"("load":0.5)"), std::string::npos) << md.out;
  EXPECT_EQ(md.out.find("5E-1"), std::string::npos);
}

}  // namespace
}  // namespace runbook::clitest
