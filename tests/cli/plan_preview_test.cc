// Acceptance: `runbook plan` and `run --dry-run` show, per typed step, the
// exact request, query, message or command it would send, with secrets
// masked (`preview` in the plan JSON), and --dry-run prints exactly the plan
// (that it runs nothing: exit_codes_test.cc).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

const char* kRunbook = R"yaml(name: emergency
params:
  reason: {type: string, required: true}
  role: {type: string, default: admin}
secrets:
  ADMIN_TOKEN: {env: ADMIN_TOKEN}
env:
  APP_URL: http://app.internal:5000
steps:
  - id: activate
    type: http
    method: POST
    url: ${{ env.APP_URL }}/api/maintenance/emergency
    query: {source: runbook}
    headers: {Authorization: "Bearer ${{ secrets.ADMIN_TOKEN }}"}
    json: {reason: "${{ params.reason }}", terminate_jobs: true}
  - id: admins
    type: sql
    database: /var/lib/app/app.db
    query: SELECT username FROM users WHERE role = ?
    args: ["${{ params.role }}"]
  - id: tell
    needs: [activate]
    type: notify
    channel: log
    message: "Emergency maintenance: ${{ params.reason }} (status ${{ steps.activate.outputs.status }})"
)yaml";

const std::string kToken = "tok-secret-77aa99bb";

const boost::json::object* PreviewOf(const boost::json::value& plan, const std::string& id) {
  for (const auto& s : plan.at("steps").as_array())
    if (s.at("id") == id.c_str()) return s.at("preview").if_object();
  return nullptr;
}

TEST(CliPlanPreview, TextShowsTheRequestQueryAndMessageWithSecretsMasked) {
  CliSandbox box;
  box.SetEnv("ADMIN_TOKEN", kToken);
  std::string rb = box.WriteRunbook("emergency", kRunbook);
  Outcome o = box.Run({"plan", rb, "-p", "reason=disk full"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  for (const char* line : {
           "       preview:\n"
           "         method: POST\n"
           "         url: http://app.internal:5000/api/maintenance/emergency?source=runbook\n"
           "         headers:\n"
           "           Authorization: Bearer ***\n"
           "           Content-Type: application/json\n"
           "         json: {\"reason\":\"disk full\",\"terminate_jobs\":true}\n",
           "         database: /var/lib/app/app.db\n"
           "         mode: read\n"
           "         query: SELECT username FROM users WHERE role = ?\n"
           "         args: [\"admin\"]\n",
           "         channel: log\n"
           "         message: Emergency maintenance: disk full (status ${{ steps.activate.outputs.status }})\n",
       })
    EXPECT_NE(o.out.find(line), std::string::npos) << "missing:\n" << line << "\nin:\n" << o.out;
  EXPECT_EQ(o.out.find(kToken), std::string::npos) << o.out;
}

TEST(CliPlanPreview, JsonHasAPreviewObjectPerStep) {
  CliSandbox box;
  box.SetEnv("ADMIN_TOKEN", kToken);
  std::string rb = box.WriteRunbook("emergency", kRunbook);
  Outcome o = box.Run({"--json", "plan", rb, "-p", "reason=disk full"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto plan = ParseJson(o.out, "plan --json");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->at("plan_version"), 1);
  const auto* http = PreviewOf(*plan, "activate");
  ASSERT_NE(http, nullptr) << o.out;
  EXPECT_EQ(http->at("headers").at("Authorization"), "Bearer ***");
  EXPECT_EQ(http->at("url"), "http://app.internal:5000/api/maintenance/emergency?source=runbook");
  EXPECT_EQ(http->at("json"), boost::json::parse(R"({"reason": "disk full", "terminate_jobs": true})"));
  const auto* sql = PreviewOf(*plan, "admins");
  ASSERT_NE(sql, nullptr);
  EXPECT_EQ(sql->at("query"), "SELECT username FROM users WHERE role = ?");
  EXPECT_EQ(sql->at("args"), boost::json::parse(R"(["admin"])"));
  const auto* notify = PreviewOf(*plan, "tell");
  ASSERT_NE(notify, nullptr);
  EXPECT_EQ(notify->at("message"), "Emergency maintenance: disk full (status ${{ steps.activate.outputs.status }})");
  EXPECT_EQ(o.out.find(kToken), std::string::npos) << o.out;
}

TEST(CliPlanPreview, DryRunPrintsExactlyThePlan) {
  CliSandbox box;
  box.SetEnv("ADMIN_TOKEN", kToken);
  std::string rb = box.WriteRunbook("emergency", kRunbook);
  for (bool json : {false, true}) {
    std::vector<std::string> plan_args = {"plan", rb, "-p", "reason=disk full"};
    std::vector<std::string> dry_args = {"run", rb, "-p", "reason=disk full", "--dry-run"};
    if (json) {
      plan_args.insert(plan_args.begin(), "--json");
      dry_args.insert(dry_args.begin(), "--json");
    }
    Outcome plan = box.Run(plan_args);
    Outcome dry = box.Run(dry_args);
    ASSERT_EQ(plan.exit_code, 0) << plan.Describe();
    ASSERT_EQ(dry.exit_code, 0) << dry.Describe();
    EXPECT_NE(dry.out.find("preview"), std::string::npos) << dry.out;
    EXPECT_EQ(dry.out, plan.out);
  }
}

}  // namespace
}  // namespace runbook::clitest
