// Acceptance: `http` steps through the real binary against a real server on
// 127.0.0.1 (tests/fakes/http_test_server.h): an authenticated JSON POST
// whose response feeds a typed output, a header injection attempt from a
// parameter, a hanging server cut off by the step timeout, and HTTPS with a
// self-signed certificate.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

#include "tests/cli/cli_test_util.h"
#include "tests/fakes/http_test_server.h"

namespace runbook::clitest {
namespace {

using fakes::HttpTestServer;

std::unique_ptr<HttpTestServer> StartServer(const CliSandbox& box, bool tls = false) {
  std::string error;
  std::unique_ptr<HttpTestServer> s;
  if (tls) {
    if (!fakes::MakeSelfSignedCert(box.dir())) {
      ADD_FAILURE() << "openssl could not make a certificate";
      return nullptr;
    }
    s = HttpTestServer::Start(box.dir(), &error, box.Path("cert.pem"), box.Path("key.pem"));
  } else {
    s = HttpTestServer::Start(box.dir(), &error);
  }
  if (!s) ADD_FAILURE() << error;
  return s;
}

std::string AllJournaled(journal::Journal& j, const std::string& run_id) {
  std::string all;
  for (const auto& c : j.GetOutput(run_id, std::nullopt).value()) all += c.data;
  for (const auto& e : j.GetEvents(run_id).value()) all += e.message + "\n" + e.data_json + "\n";
  for (const auto& a : j.GetAttempts(run_id).value()) all += a.outputs_json + "\n" + a.error + "\n";
  return all;
}

TEST(CliHttp, AuthenticatedJsonPostFeedsATypedOutputAndTheTokenIsNeverJournaled) {
  CliSandbox box;
  auto server = StartServer(box);
  ASSERT_TRUE(server);
  const std::string token = "tok-6f1e2d3c4b5a";
  box.SetEnv("ADMIN_TOKEN", token);
  std::string rb = box.WriteRunbook("activate", R"(name: activate
params:
  reason: {type: string, required: true}
secrets:
  ADMIN_TOKEN: {env: ADMIN_TOKEN}
env:
  APP_URL: )" + server->base() + R"(
steps:
  - id: activate
    type: http
    method: POST
    url: ${{ env.APP_URL }}/echo
    headers: {Authorization: "Bearer ${{ secrets.ADMIN_TOKEN }}"}
    json: {reason: "${{ params.reason }}", terminate_jobs: true, grace_period: 30}
    expect: {status: [200, 202]}
  - id: state
    needs: [activate]
    type: http
    url: ${{ env.APP_URL }}/json
    outputs:
      active: {from: body, json: /is_active, type: bool}
outputs:
  active: ${{ steps.state.outputs.active }}
  status: ${{ steps.activate.outputs.status }}
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "reason=disk \"full\" & on fire"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->at("outputs").at("active"), true);
  EXPECT_EQ(summary->at("outputs").at("status"), 200);

  auto reqs = server->Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].at("method"), "POST");
  EXPECT_EQ(boost::json::value_to<std::string>(reqs[0].at("headers").at("authorization")), "Bearer " + token);
  auto body = boost::json::parse(std::string(reqs[0].at("body").as_string()));
  EXPECT_EQ(body, boost::json::parse(R"({"reason": "disk \"full\" & on fire", "terminate_jobs": true,
                                         "grace_period": 30})"));

  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  std::string journaled = AllJournaled(*j, JsonString(*summary, "run_id"));
  EXPECT_EQ(journaled.find(token), std::string::npos);
  EXPECT_NE(journaled.find("> POST " + server->base() + "/echo"), std::string::npos) << journaled;
}

TEST(CliHttp, LineBreakInAHeaderFromAParameterFailsTheStepAndSendsNothing) {
  CliSandbox box;
  auto server = StartServer(box);
  ASSERT_TRUE(server);
  std::string rb = box.WriteRunbook("inject", R"(name: inject
params:
  who: {type: string, required: true}
steps:
  - id: call
    type: http
    url: )" + server->base() + R"(/echo
    headers: {X-Requested-By: "${{ params.who }}"}
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "who=alice\r\nX-Admin: true"});
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  EXPECT_TRUE(server->Requests().empty());
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  auto attempts = j->GetAttempts(JsonString(*summary, "run_id")).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].error, "header 'X-Requested-By' contains a line break");
}

TEST(CliHttp, HangingServerTimesOutPromptlyAndIsRetried) {
  CliSandbox box;
  auto server = StartServer(box);
  ASSERT_TRUE(server);
  std::string rb = box.WriteRunbook("hang", R"(name: hang
steps:
  - id: call
    type: http
    url: )" + server->base() + R"(/hang
    timeout: 500ms
    retry: {attempts: 2, delay: 10ms}
)");
  auto t0 = std::chrono::steady_clock::now();
  Outcome o = box.Run({"--json", "run", rb}, milliseconds(90000));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  // The server never answers (it sleeps 120 s); only aborting gets us out.
  EXPECT_LT(elapsed, std::chrono::seconds(60));
  EXPECT_EQ(server->Requests().size(), 2u);
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  auto attempts = j->GetAttempts(JsonString(*summary, "run_id")).value();
  ASSERT_EQ(attempts.size(), 2u);
  for (const auto& a : attempts) {
    EXPECT_EQ(a.status, journal::AttemptStatus::kTimedOut);
    EXPECT_EQ(a.error, "timed out after 500ms");
  }
}

TEST(CliHttp, SelfSignedCertificateIsRefusedUnlessVerificationIsOffWhichIsJournaled) {
  CliSandbox box;
  auto server = StartServer(box, /*tls=*/true);
  ASSERT_TRUE(server);
  std::string url = server->base(/*https=*/true) + "/json";
  std::string strict = box.WriteRunbook("strict", "name: strict\nsteps:\n  - {id: call, type: http, url: '" + url + "'}\n");
  Outcome refused = box.Run({"--json", "run", strict});
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_NE(refused.err.find("TLS certificate of 127.0.0.1 not trusted: self-signed certificate"), std::string::npos)
      << refused.Describe();

  std::string lax = box.WriteRunbook(
      "lax", "name: lax\nsteps:\n  - {id: call, type: http, url: '" + url + "', tls_verify: false}\n");
  Outcome accepted = box.Run({"--json", "run", lax});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.Describe();
  auto summary = ParseJson(accepted.out, "run --json");
  ASSERT_TRUE(summary);
  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  bool warned = false;
  for (const auto& e : j->GetEvents(JsonString(*summary, "run_id")).value())
    warned |= e.kind == "warning" && e.message == "TLS certificate verification disabled for " + url;
  EXPECT_TRUE(warned);
  EXPECT_EQ(server->Requests().size(), 1u);
}

}  // namespace
}  // namespace runbook::clitest
