// The inspect commands (list, validate, plan, graph) through the real CLI
// wiring, in process, with their exact output where it is API.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "steps/registry.h"

namespace runbook::cli {
namespace {

namespace fs = std::filesystem;

struct CliResult {
  int code;
  std::string out, err;
};

CliResult Cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  CliEnv env(out, err, steps::BuiltinStepTypes(), "");
  args.insert(args.begin(), "runbook");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), env);
  return {code, out.str(), err.str()};
}

std::string Fixture(const std::string& rel) { return std::string(RUNBOOK_TEST_DATA) + "/fixtures/" + rel; }
std::string Shipped() { return std::string(RUNBOOK_SOURCE_DIR) + "/runbooks"; }

TEST(Validate, PrintsEveryErrorOfEveryFileAndExits2) {
  auto r = Cli({"validate", Fixture("invalid/many-errors.yaml"), Fixture("invalid/cycle-three.yaml"),
                Fixture("valid/every-type.yaml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("many-errors.yaml:2:10: error: 'fail_on' must be one of never, warning, critical"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("many-errors.yaml:10:13: error: step 'second' needs unknown step 'frist' (did you mean "
                       "'first'?)"),
            std::string::npos);
  EXPECT_NE(r.err.find("cycle-three.yaml:3:9: error: dependency cycle: a -> c -> b -> a"), std::string::npos);
  EXPECT_NE(r.err.find("2 of 3 runbooks have errors"), std::string::npos) << r.err;
}

TEST(Validate, AllShippedRunbooksAreValid) {
  auto r = Cli({"--runbooks", Shipped(), "validate"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ok: "), std::string::npos);
}

TEST(Validate, JsonListsDiagnosticsWithPositions) {
  auto r = Cli({"--json", "validate", Fixture("invalid/unknown-type.yaml")});
  EXPECT_EQ(r.code, 2);
  auto v = boost::json::parse(r.out).as_array();
  ASSERT_EQ(v.size(), 1u);
  const auto& d = v[0].at("diagnostics").as_array().at(0).as_object();
  EXPECT_EQ(d.at("line").as_int64(), 4);
  EXPECT_EQ(d.at("column").as_int64(), 11);
  EXPECT_EQ(d.at("message").as_string(), "step 'migrate': unknown type 'shel' (did you mean 'shell'?)");
}

TEST(Validate, RefusesPathsThatAreNotRunbooks) {
  auto r = Cli({"validate", "../../etc/passwd"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is neither a runbook name"), std::string::npos) << r.err;
}

TEST(List, ShowsNameCategoryScheduleAndTitle) {
  auto r = Cli({"--runbooks", Shipped(), "list"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("daily-health-check"), std::string::npos);
  EXPECT_NE(r.out.find("0 8 * * *"), std::string::npos);
  EXPECT_NE(r.out.find("Morning system health check"), std::string::npos);
}

TEST(Plan, ListsStepsInExecutionOrderWithResolvedParamsAndConditions) {
  auto r = Cli({"plan", Fixture("valid/every-type.yaml"), "-p", "attacker_ip=10.0.0.66"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Topological order: classify before activate before block; handlers last.
  size_t classify = r.out.find(". classify [approval]");
  size_t activate = r.out.find(". activate [http]");
  size_t block = r.out.find(". block [shell]");
  size_t tell = r.out.find(". tell [notify]");
  ASSERT_NE(classify, std::string::npos) << r.out;
  EXPECT_LT(classify, activate);
  EXPECT_LT(activate, block);
  EXPECT_LT(block, tell);
  EXPECT_NE(r.out.find("attacker_ip = \"10.0.0.66\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-> runs (condition is true)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("secrets: ADMIN_TOKEN=***"), std::string::npos);
}

TEST(Plan, JsonIsTheDocumentedObject) {
  auto r = Cli({"--json", "plan", Fixture("valid/every-type.yaml")});
  ASSERT_EQ(r.code, 0) << r.err;
  auto o = boost::json::parse(r.out).as_object();
  EXPECT_EQ(o.at("plan_version").as_int64(), 1);
  EXPECT_EQ(o.at("runbook").as_string(), "every-type");
  const auto& steps = o.at("steps").as_array();
  ASSERT_EQ(steps.size(), 11u);
  const auto& block = steps[2].as_object();
  EXPECT_EQ(block.at("id").as_string(), "block");
  EXPECT_EQ(block.at("decision").as_string(), "skipped (condition is false)");
  EXPECT_TRUE(block.at("approval").as_bool());
  EXPECT_EQ(steps.back().at("block").as_string(), "finally");
  // Secrets never appear in a plan.
  EXPECT_EQ(r.out.find("Bearer s"), std::string::npos);
}

TEST(Plan, ParameterViolationsAreAllReported) {
  auto r = Cli({"plan", Fixture("valid/every-type.yaml"), "-p", "severity=extreme", "-p", "attacker_ip=not an ip",
                "-p", "nope=1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("-p: error: unknown parameter 'nope' for runbook 'every-type'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("parameter 'severity' value 'extreme' is not one of critical, high, medium"),
            std::string::npos);
  EXPECT_NE(r.err.find("parameter 'attacker_ip' value 'not an ip' does not match pattern"), std::string::npos);
}

TEST(Plan, ParamFileIsStrictAndSiteProfileIsLenient) {
  fs::path dir = fs::temp_directory_path() / ("rb-plan-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "site.yaml") << "reason: from-site\nunrelated_key: ignored\n";
  std::ofstream(dir / "params.yaml") << "severity: medium\ntypo_key: 1\n";
  auto r = Cli({"--site", (dir / "site.yaml").string(), "plan", Fixture("valid/every-type.yaml")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("reason = \"from-site\""), std::string::npos);
  r = Cli({"plan", Fixture("valid/every-type.yaml"), "--param-file", (dir / "params.yaml").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("params.yaml:2:1: error: unknown parameter 'typo_key'"), std::string::npos) << r.err;
  fs::remove_all(dir);
}

TEST(Graph, DotOutputIsAcceptedByGraphviz) {
  auto r = Cli({"graph", Fixture("valid/every-type.yaml"), "--format", "dot"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"activate\" -> \"block\";"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("subgraph \"cluster_finally\""), std::string::npos);
  if (system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "graphviz 'dot' is not installed";
  fs::path dot = fs::temp_directory_path() / ("rb-graph-" + std::to_string(getpid()) + ".dot");
  std::ofstream(dot) << r.out;
  std::string cmd = "dot -Tsvg " + dot.string() + " -o " + dot.string() + ".svg";
  EXPECT_EQ(system(cmd.c_str()), 0);
  EXPECT_GT(fs::file_size(dot.string() + ".svg"), 500u);
  fs::remove(dot);
  fs::remove(dot.string() + ".svg");
}

TEST(Graph, MermaidHasOneEdgePerNeed) {
  auto r = Cli({"graph", Fixture("valid/every-type.yaml"), "--format", "mermaid"});
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("flowchart LR", 0), 0u);
  size_t edges = 0;
  for (size_t p = 0; (p = r.out.find(" --> ", p)) != std::string::npos; ++p) ++edges;
  EXPECT_EQ(edges, 4u);
}

TEST(Cli, UnknownSubcommandIsAUsageError) {
  auto r = Cli({"frobnicate"});
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace runbook::cli
