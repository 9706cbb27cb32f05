// The `http` step: URL parsing and encoding, then the executor through the
// real Runner (real journal in a temp dir) against a real HTTP(S) server on
// 127.0.0.1 (tests/fakes/http_test_server.h): expectations, retries,
// timeouts, redirects, injection attempts, extraction, TLS verification.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "engine/loader.h"
#include "engine/runner.h"
#include "steps/http_url.h"
#include "steps/registry.h"
#include "tests/fakes/http_test_server.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using fakes::HttpTestServer;
using steps::ParseUrl;
using steps::UrlPart;

// --- URLs ------------------------------------------------------------------------

TEST(HttpUrl, ParsesHostPortPathAndQuery) {
  auto u = ParseUrl("HTTP://Example.COM:8080/a/b?x=1#frag");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/a/b?x=1");
  EXPECT_EQ(u->Authority(), "example.com:8080");
}

TEST(HttpUrl, DefaultsPortAndPathPerScheme) {
  auto u = ParseUrl("https://h");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->ToString(), "https://h/");
  auto q = ParseUrl("http://h?x=1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->port, 80);
  EXPECT_EQ(q->target, "/?x=1");
}

TEST(HttpUrl, ParsesBracketedIpv6Literal) {
  auto u = ParseUrl("http://[::1]:9000/x");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->host, "::1");
  EXPECT_TRUE(u->ipv6);
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->Authority(), "[::1]:9000");
}

TEST(HttpUrl, RefusesWhatWouldBreakTheRequest) {
  for (const char* bad : {"ftp://h/", "h/path", "http://user:pw@h/", "http://h/a b", "http://h/a\r\nX: y",
                          "http://h:0/", "http://h:70000/", "http://h:x/", "http://[::1/", "http:///x", "http://h_!/"}) {
    auto u = ParseUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) {
      EXPECT_TRUE(u.status().message().starts_with("invalid URL")) << u.status().message();
    }
  }
  EXPECT_EQ(ParseUrl("http://u:p@h/").status().message(),
            "invalid URL 'http://u:p@h/': credentials in the URL are not supported; send them in a header");
}

TEST(HttpUrl, EncodesBytesAServerWouldRefuseInTheTarget) {
  auto u = ParseUrl("http://h/a\"b/\xC3\xA9?q={x}");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->target, "/a%22b/%C3%A9?q=%7Bx%7D");
}

TEST(HttpUrl, ResolvesRedirectLocations) {
  auto base = ParseUrl("https://h:8443/api/v1/items?x=1").value();
  EXPECT_EQ(steps::ResolveLocation(base, "/login").value().ToString(), "https://h:8443/login");
  EXPECT_EQ(steps::ResolveLocation(base, "other?y=2").value().ToString(), "https://h:8443/api/v1/other?y=2");
  EXPECT_EQ(steps::ResolveLocation(base, "//cdn.example/x").value().ToString(), "https://cdn.example/x");
  EXPECT_EQ(steps::ResolveLocation(base, "http://elsewhere:81/y").value().ToString(), "http://elsewhere:81/y");
  EXPECT_EQ(steps::ResolveLocation(base, "/next?u=http://x/").value().ToString(), "https://h:8443/next?u=http://x/");
}

TEST(HttpUrl, PercentEncodesEverythingButUnreservedInQueryValues) {
  EXPECT_EQ(steps::PercentEncode("a b&c=d/\xC3\xA9~._-"), "a%20b%26c%3Dd%2F%C3%A9~._-");
  EXPECT_EQ(steps::AppendQuery("/p", {{"a", "1"}, {"b c", "x&y"}}), "/p?a=1&b%20c=x%26y");
  EXPECT_EQ(steps::AppendQuery("/p?z=0", {{"a", "1"}}), "/p?z=0&a=1");
}

TEST(HttpUrl, ValuesInPathOrQueryCannotChangeTheUrlsStructure) {
  EXPECT_EQ(steps::UrlPartAt("http://h:1"), UrlPart::kAuthority);
  EXPECT_EQ(steps::UrlPartAt("http://h/a/"), UrlPart::kPath);
  EXPECT_EQ(steps::UrlPartAt("http://h/a?x="), UrlPart::kQuery);
  EXPECT_EQ(steps::UrlPartAt(""), UrlPart::kAuthority);
  EXPECT_EQ(steps::EncodeUrlValue("u/1?admin=1#x %", UrlPart::kPath), "u/1%3Fadmin=1%23x%20%25");
  EXPECT_EQ(steps::EncodeUrlValue("a&b=c+d;e", UrlPart::kQuery), "a%26b%3Dc%2Bd%3Be");
  EXPECT_EQ(steps::EncodeUrlValue("http://base:1/api", UrlPart::kAuthority), "http://base:1/api");
}

// --- Through the runner ---------------------------------------------------------------

class HttpStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("http-step-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto j = journal::Journal::Open((dir_ / "journal.db").string());
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(j).value();
    executors_.Add("http", steps::MakeHttpExecutor());
  }
  void TearDown() override {
    server_.reset();
    if (journal_) (void)journal_->Close();
    fs::remove_all(dir_);
  }

  void StartServer(bool tls = false, const std::string& dns_name = "localhost") {
    std::string error;
    if (tls) {
      ASSERT_TRUE(fakes::MakeSelfSignedCert(dir_.string(), dns_name)) << "openssl could not make a certificate";
      server_ = HttpTestServer::Start(dir_.string(), &error, (dir_ / "cert.pem").string(),
                                      (dir_ / "key.pem").string());
    } else {
      server_ = HttpTestServer::Start(dir_.string(), &error);
    }
    ASSERT_TRUE(server_) << error;
  }

  // `yaml` with every "BASE" replaced by the server's base URL.
  RunSummary Run(std::string yaml, std::map<std::string, std::string> secrets = {}, bool https = false) {
    for (size_t at; server_ && (at = yaml.find("BASE")) != std::string::npos;)
      yaml.replace(at, 4, server_->base(https));
    Diagnostics diags;
    auto spec = LoadRunbookText(yaml, "t.yaml", steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(spec) << diags.FormatAll();
    if (!spec) return {};
    rb_ = Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(rb_) << diags.FormatAll();
    if (!rb_) return {};
    Runner runner(io_, *journal_, executors_, nullptr);
    RunRequest req;
    req.runbook = &*rb_;
    for (const auto& p : rb_->spec.params)
      if (p.default_value) req.params[p.name] = *p.default_value;
    req.secrets = std::move(secrets);
    req.max_parallel = 4;
    req.handle_signals = false;
    RunSummary s = runner.Run(req);
    EXPECT_TRUE(journal_->SyncBlocking().ok());
    return s;
  }

  std::vector<journal::AttemptRecord> Attempts(const std::string& run, const std::string& step = "call") {
    std::vector<journal::AttemptRecord> out;
    for (auto& a : journal_->GetAttempts(run).value())
      if (a.step_id == step) out.push_back(a);
    return out;
  }
  json::object Outputs(const std::string& run, const std::string& step = "call") {
    auto a = Attempts(run, step);
    if (a.empty()) return {};
    return json::parse(a.back().outputs_json).as_object();
  }
  std::string Journaled(const std::string& run) {
    std::string all;
    for (const auto& c : journal_->GetOutput(run, std::nullopt).value()) all += c.data;
    for (const auto& e : journal_->GetEvents(run).value()) all += e.message + "\n" + e.data_json + "\n";
    for (const auto& a : journal_->GetAttempts(run).value()) all += a.outputs_json + "\n" + a.error + "\n";
    return all;
  }
  std::vector<std::string> Warnings(const std::string& run) {
    std::vector<std::string> out;
    for (const auto& e : journal_->GetEvents(run).value())
      if (e.kind == "warning") out.push_back(e.message);
    return out;
  }

  fs::path dir_;
  boost::asio::io_context io_;
  ExecutorRegistry executors_;
  std::unique_ptr<journal::Journal> journal_;
  std::optional<CompiledRunbook> rb_;
  std::unique_ptr<HttpTestServer> server_;
};

TEST_F(HttpStepTest, UnmetStatusExpectationFailsWithExpectedAndActualStatus) {
  StartServer();
  auto s = Run("steps:\n  - {id: call, type: http, url: BASE/status/500, expect: {status: [200, 202]}}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = Attempts(s.run_id);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].status, journal::AttemptStatus::kFailed);
  EXPECT_EQ(a[0].error, "expected status 200 or 202, got 500");
  EXPECT_EQ(Outputs(s.run_id).at("status"), 500);
}

TEST_F(HttpStepTest, MetStatusExpectationSucceedsEvenForAnErrorStatus) {
  StartServer();
  auto s = Run("steps:\n  - {id: call, type: http, url: BASE/status/404, expect: {status: 404}}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded);
}

TEST_F(HttpStepTest, WithoutExpectAny2xxSucceedsAndAnythingElseFails) {
  StartServer();
  auto ok = Run("steps:\n  - {id: call, type: http, url: BASE/status/204}\n");
  EXPECT_EQ(ok.status, journal::RunStatus::kSucceeded);
  auto bad = Run("steps:\n  - {id: call, type: http, url: BASE/status/404}\n");
  EXPECT_EQ(bad.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempts(bad.run_id)[0].error, "expected a 2xx status, got 404");
}

TEST_F(HttpStepTest, OutputsStatusLowerCaseHeadersAndBodyAndExtractsJsonFromTheBody) {
  StartServer();
  auto s = Run(R"(
steps:
  - id: call
    type: http
    url: BASE/json
    outputs:
      active: {from: body, json: /is_active, type: bool}
      count: {from: body, json: /count, type: number}
outputs:
  active: ${{ steps.call.outputs.active }}
)");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  auto out = Outputs(s.run_id);
  EXPECT_EQ(out.at("status"), 200);
  EXPECT_EQ(out.at("active"), true);
  EXPECT_EQ(out.at("count"), 3);
  EXPECT_EQ(out.at("headers").at("content-type"), "application/json");
  // The body is offered to expressions but journaled as output excerpts,
  // not again inside the attempt's outputs.
  EXPECT_FALSE(out.contains("body"));
  EXPECT_NE(Journaled(s.run_id).find("\"is_active\": true"), std::string::npos);
  EXPECT_EQ(s.outputs.at("active"), true);
}

TEST_F(HttpStepTest, BearerTokenFromASecretReachesTheServerButNotTheJournal) {
  StartServer();
  const std::string token = "s3cr3t-t0ken-4242";
  auto s = Run(R"(
secrets:
  TOKEN: {env: NOT_USED_TOKEN}
steps:
  - id: call
    type: http
    method: POST
    url: BASE/echo
    headers: {Authorization: "Bearer ${{ secrets.TOKEN }}", X-Trace: abc}
    json: {token_check: "${{ secrets.TOKEN }}"}
)",
               {{"TOKEN", token}});
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  auto reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].at("method"), "POST");
  EXPECT_EQ(json::value_to<std::string>(reqs[0].at("headers").at("authorization")), "Bearer " + token);
  EXPECT_EQ(reqs[0].at("headers").at("x-trace"), "abc");
  std::string journaled = Journaled(s.run_id);
  EXPECT_EQ(journaled.find(token), std::string::npos) << journaled;
  // The exchange itself is journaled as readable output.
  EXPECT_NE(journaled.find("> POST " + server_->base() + "/echo"), std::string::npos) << journaled;
  EXPECT_NE(journaled.find("> Authorization: Bearer ***"), std::string::npos) << journaled;
  EXPECT_NE(journaled.find("< 200 OK"), std::string::npos) << journaled;
}

TEST_F(HttpStepTest, JsonBodyEscapesValuesAndKeepsTypesOfSingleExpressions) {
  StartServer();
  auto s = Run(R"(
params:
  reason: {type: string, default: "quote \" brace } newline \n end"}
  grace: {type: int, default: 30}
steps:
  - id: call
    type: http
    method: POST
    url: BASE/echo
    json:
      reason: "${{ params.reason }}"
      grace: ${{ params.grace }}
      label: "grace=${{ params.grace }}"
      nested: [true, 1.5, "${{ params.grace > 10 }}", null]
)");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  auto reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].at("headers").at("content-type"), "application/json");
  auto body = json::parse(std::string(reqs[0].at("body").as_string()));
  EXPECT_EQ(body.at("reason"), "quote \" brace } newline \n end");
  EXPECT_EQ(body.at("grace"), 30);
  EXPECT_EQ(body.at("label"), "grace=30");
  EXPECT_EQ(body.at("nested"), json::parse("[true, 1.5, true, null]"));
}

TEST_F(HttpStepTest, FailingServerIsRetriedAndEveryAttemptReachesIt) {
  StartServer();
  auto s = Run(R"(
steps:
  - {id: call, type: http, url: BASE/flaky/2, retry: {attempts: 3, delay: 10ms}}
)");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  auto a = Attempts(s.run_id);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].error, "expected a 2xx status, got 500");
  EXPECT_EQ(a[1].error, "expected a 2xx status, got 500");
  EXPECT_EQ(a[2].status, journal::AttemptStatus::kSucceeded);
  EXPECT_EQ(server_->Requests().size(), 3u);
}

TEST_F(HttpStepTest, HangingServerIsAbandonedPromptlyAtTheStepTimeout) {
  StartServer();
  auto t0 = std::chrono::steady_clock::now();
  auto s = Run("steps:\n  - {id: call, type: http, url: BASE/hang, timeout: 300ms}\n");
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = Attempts(s.run_id);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].status, journal::AttemptStatus::kTimedOut);
  EXPECT_EQ(a[0].error, "timed out after 300ms");
  // The server sleeps 120 s; anything near that means the request was not aborted.
  EXPECT_LT(elapsed, std::chrono::seconds(30));
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_F(HttpStepTest, FollowsRedirectsUpToTheLimit) {
  StartServer();
  auto s = Run("steps:\n  - {id: call, type: http, url: BASE/redirect/3}\n"
               "outputs:\n  body: ${{ steps.call.outputs.body }}\n");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_EQ(server_->Requests().size(), 4u);
  auto body = json::parse(std::string(s.outputs.at("body").as_string()));
  EXPECT_EQ(body.at("path"), "/redirect/0");

  auto over = Run("steps:\n  - {id: call, type: http, url: BASE/loop, max_redirects: 2}\n");
  EXPECT_EQ(over.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempts(over.run_id)[0].error, "too many redirects (more than 2)");
}

TEST_F(HttpStepTest, MaxRedirectsZeroReturnsTheRedirectItself) {
  StartServer();
  auto s = Run("steps:\n  - {id: call, type: http, url: BASE/loop, max_redirects: 0, expect: {status: 302}}\n");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_EQ(Outputs(s.run_id).at("headers").at("location"), "/loop");
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_F(HttpStepTest, SeeOtherTurnsAPostIntoAGetAnd307KeepsTheMethodAndBody) {
  StartServer();
  auto s = Run("steps:\n  - {id: call, type: http, method: POST, url: BASE/see-other, body: hello}\n");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  auto reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].at("method"), "GET");
  EXPECT_EQ(reqs[1].at("body"), "");

  auto keep = Run("steps:\n  - {id: call, type: http, method: PUT, url: 'BASE/redirect/1?code=307', body: hello}\n");
  ASSERT_EQ(keep.status, journal::RunStatus::kSucceeded) << keep.error;
  reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[3].at("method"), "PUT");
  EXPECT_EQ(reqs[3].at("body"), "hello");
}

TEST_F(HttpStepTest, RedirectToAnotherOriginDropsTheAuthorizationHeader) {
  StartServer();
  // Same server, other origin: "localhost" instead of "127.0.0.1".
  std::string other = "http://localhost:" + std::to_string(server_->port()) + "/echo";
  auto s = Run("steps:\n  - {id: call, type: http, url: 'BASE/to?url=" + other +
               "', headers: {Authorization: Bearer abc}}\n");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  auto reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].at("headers").at("authorization"), "Bearer abc");
  EXPECT_FALSE(reqs[1].at("headers").as_object().contains("authorization"));
}

TEST_F(HttpStepTest, LineBreakInAHeaderFromAParameterIsRefusedBeforeAnythingIsSent) {
  StartServer();
  auto s = Run(R"(
params:
  reason: {type: string, default: "ok\r\nX-Injected: yes"}
steps:
  - id: call
    type: http
    url: BASE/echo
    headers: {X-Reason: "${{ params.reason }}"}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempts(s.run_id)[0].error, "header 'X-Reason' contains a line break");
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(HttpStepTest, QueryValuesAndUrlValuesArePercentEncoded) {
  StartServer();
  auto s = Run(R"(
params:
  q: {type: string, default: "a b&admin=1#x/é"}
  user: {type: string, default: "bob?admin=1"}
steps:
  - id: call
    type: http
    url: BASE/echo/${{ params.user }}?pre=${{ params.q }}
    query: {q: "${{ params.q }}", n: "1"}
)");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  auto reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].at("path"), "/echo/bob%3Fadmin=1");
  EXPECT_EQ(reqs[0].at("query"),
            "pre=a%20b%26admin%3D1%23x/%C3%A9&q=a%20b%26admin%3D1%23x%2F%C3%A9&n=1");
}

TEST_F(HttpStepTest, ResponseBodyOverTheLimitFails) {
  StartServer();
  auto s = Run("steps:\n  - {id: call, type: http, url: 'BASE/big?mb=17', timeout: 60s}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempts(s.run_id)[0].error, "response body larger than 16 MiB");
}

TEST_F(HttpStepTest, RefusedConnectionFailsWithTheAddress) {
  StartServer();
  std::string url = server_->base() + "/x";
  server_.reset();  // nobody listens on that port any more
  auto s = Run("steps:\n  - {id: call, type: http, url: '" + url + "'}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  std::string error = Attempts(s.run_id)[0].error;
  EXPECT_TRUE(error.starts_with("cannot connect to 127.0.0.1:")) << error;
}

// --- TLS -----------------------------------------------------------------------------

TEST_F(HttpStepTest, SelfSignedCertificateIsRejectedByDefault) {
  StartServer(/*tls=*/true);
  auto s = Run("steps:\n  - {id: call, type: http, url: BASE/json}\n", {}, /*https=*/true);
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempts(s.run_id)[0].error, "TLS certificate of 127.0.0.1 not trusted: self-signed certificate");
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(HttpStepTest, TlsVerifyFalseAcceptsTheCertificateAndJournalsAWarning) {
  StartServer(/*tls=*/true);
  auto s = Run("steps:\n  - {id: call, type: http, url: BASE/json, tls_verify: false}\n", {}, /*https=*/true);
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_EQ(Outputs(s.run_id).at("status"), 200);
  auto w = Warnings(s.run_id);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], "TLS certificate verification disabled for " + server_->base(true) + "/json");
}

TEST_F(HttpStepTest, TrustedCertificateIsAcceptedOnlyForTheNamesItCovers) {
  StartServer(/*tls=*/true);
  // OpenSSL's default verify paths honour SSL_CERT_FILE: trust our certificate.
  std::string cert = (dir_ / "cert.pem").string();
  ASSERT_EQ(setenv("SSL_CERT_FILE", cert.c_str(), 1), 0);
  auto ok = Run("steps:\n  - {id: call, type: http, url: BASE/json}\n", {}, /*https=*/true);
  std::string port = std::to_string(server_->port());
  auto by_name = Run("steps:\n  - {id: call, type: http, url: 'https://localhost:" + port + "/json'}\n");
  unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(ok.status, journal::RunStatus::kSucceeded) << Attempts(ok.run_id)[0].error;
  EXPECT_EQ(by_name.status, journal::RunStatus::kSucceeded) << Attempts(by_name.run_id)[0].error;
  EXPECT_TRUE(Warnings(ok.run_id).empty());
}

TEST_F(HttpStepTest, TrustedCertificateForAnotherNameIsRejected) {
  StartServer(/*tls=*/true, "other.test");
  std::string cert = (dir_ / "cert.pem").string();
  ASSERT_EQ(setenv("SSL_CERT_FILE", cert.c_str(), 1), 0);
  auto s = Run("steps:\n  - {id: call, type: http, url: 'https://localhost:" + std::to_string(server_->port()) +
               "/json'}\n");
  unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  EXPECT_EQ(Attempts(s.run_id)[0].error, "TLS certificate of localhost not trusted: hostname mismatch");
}

}  // namespace
}  // namespace runbook
