// What `runbook plan` shows of a step before the run (StepType::Preview and
// the PreviewText/PreviewValue/PreviewJson helpers of engine/step_type.h):
// values known now are rendered (and encoded where they land), secrets are
// "***" and never evaluated, and what only the run can know is kept as written.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "engine/loader.h"
#include "engine/step_type.h"
#include "engine/values.h"
#include "steps/http_text.h"
#include "steps/registry.h"

namespace runbook {
namespace {

namespace json = boost::json;

// The values a plan sees: params, a secret masked as the plan masks it.
ValueContext PlanValues() {
  ValueContext v;
  v.plan_mode = true;
  v.params = {{"reason", "disk full & more"}, {"user", "bob?admin=1"}, {"limit", 5}, {"role", "'; DROP TABLE x; --"}};
  v.secrets = {{"TOKEN", "***"}};
  v.env = {{"APP_URL", "http://app.example:5000"}};
  return v;
}

TEST(PreviewText, RendersKnownValuesMasksSecretsAndKeepsRunTimeValues) {
  ValueContext v = PlanValues();
  PreviewString known = PreviewText("Reason: ${{ params.reason }}", v);
  EXPECT_EQ(known.text, "Reason: disk full & more");
  EXPECT_TRUE(known.exact);
  PreviewString secret = PreviewText("Bearer ${{ secrets.TOKEN }}", v);
  EXPECT_EQ(secret.text, "Bearer ***");
  EXPECT_FALSE(secret.exact);
  PreviewString later = PreviewText("use ${{steps.df.outputs.use}} at ${{ now }}", v);
  EXPECT_EQ(later.text, "use ${{ steps.df.outputs.use }} at ${{ now }}");
  EXPECT_FALSE(later.exact);
}

TEST(PreviewText, NeverEvaluatesASecretEvenWhenTheContextHasItsValue) {
  ValueContext v = PlanValues();
  v.secrets["TOKEN"] = "real-value-1234";
  EXPECT_EQ(PreviewText("${{ trim(secrets.TOKEN) }}", v).text, "***");
  EXPECT_EQ(PreviewValue("${{ secrets.TOKEN }}", v), "***");
}

TEST(PreviewText, EncodesOnlyEvaluatedValues) {
  ValueContext v = PlanValues();
  auto encode = [](const std::string& s, const std::string&) { return "<" + s + ">"; };
  EXPECT_EQ(PreviewText("a ${{ params.limit }} ${{ secrets.TOKEN }} ${{ steps.x.status }}", v, encode).text,
            "a <5> *** ${{ steps.x.status }}");
}

TEST(PreviewValue, ASingleExpressionKeepsItsType) {
  ValueContext v = PlanValues();
  EXPECT_EQ(PreviewValue("${{ params.limit }}", v), 5);
  EXPECT_EQ(PreviewValue("n=${{ params.limit }}", v), "n=5");
  EXPECT_EQ(PreviewValue("${{ steps.a.outputs.n }}", v), "${{ steps.a.outputs.n }}");
  EXPECT_EQ(PreviewJson(json::parse(R"({"k ${{ params.limit }}": ["${{ params.limit }}", true, "x"]})"), v),
            json::parse(R"({"k 5": [5, true, "x"]})"));
}

TEST(PreviewUrl, ValuesAreEncodedForWhereTheyLand) {
  ValueContext v = PlanValues();
  EXPECT_EQ(steps::PreviewUrlTemplate("${{ env.APP_URL }}/users/${{ params.user }}?why=${{ params.reason }}", v).text,
            "http://app.example:5000/users/bob%3Fadmin=1?why=disk%20full%20%26%20more");
}

// --- Each type's Preview ---------------------------------------------------------

class StepPreviewTest : public ::testing::Test {
 protected:
  // The preview of step `id` of `yaml`.
  json::object Preview(const std::string& yaml, const std::string& id) {
    Diagnostics diags;
    spec_ = LoadRunbookText(yaml, "t.yaml", steps::BuiltinStepTypes(), diags);
    EXPECT_TRUE(spec_ && !diags.has_errors()) << diags.FormatAll();
    if (!spec_) return {};
    for (const auto& s : spec_->steps) {
      if (s.id != id) continue;
      const StepType* type = steps::BuiltinStepTypes().Find(s.type);
      auto p = type->Preview(s, *spec_, values_);
      EXPECT_TRUE(p) << s.type << " has no preview";
      return p ? *p : json::object{};
    }
    ADD_FAILURE() << "no step " << id;
    return {};
  }

  ValueContext values_ = PlanValues();
  std::optional<RunbookSpec> spec_;
};

TEST_F(StepPreviewTest, HttpShowsTheRequestWithTheBearerTokenMasked) {
  auto p = Preview(R"(
secrets:
  TOKEN: {env: T}
params:
  reason: {type: string}
  limit: {type: int}
steps:
  - id: call
    needs: [prev]
    type: http
    method: POST
    url: http://app.example/api/${{ params.limit }}
    query: {why: "${{ params.reason }}", after: "${{ steps.prev.outputs.cursor }}"}
    headers: {Authorization: "Bearer ${{ secrets.TOKEN }}", X-Reason: "${{ params.reason }}"}
    json: {reason: "${{ params.reason }}", limit: "${{ params.limit }}", token: "${{ secrets.TOKEN }}"}
    tls_verify: false
  - id: prev
    type: http
    url: http://app.example/
)",
                   "call");
  EXPECT_EQ(p.at("method"), "POST");
  EXPECT_EQ(p.at("url"),
            "http://app.example/api/5?why=disk%20full%20%26%20more&after=${{ steps.prev.outputs.cursor }}");
  EXPECT_EQ(p.at("headers"), json::parse(R"({"Authorization": "Bearer ***", "X-Reason": "disk full & more",
                                             "Content-Type": "application/json"})"));
  EXPECT_EQ(p.at("json"), json::parse(R"({"reason": "disk full & more", "limit": 5, "token": "***"})"));
  EXPECT_EQ(p.at("tls_verify"), false);
}

TEST_F(StepPreviewTest, HttpWithKnownValuesShowsTheExactUrlAndALiteralCredentialMasked) {
  auto p = Preview(R"(
steps:
  - {id: call, type: http, url: 'http://h/a"b', query: {q: "x y"}, headers: {Authorization: Basic dXNlcjpwdw==},
     body: plain}
)",
                   "call");
  EXPECT_EQ(p.at("method"), "GET");
  EXPECT_EQ(p.at("url"), "http://h/a%22b?q=x%20y");
  EXPECT_EQ(p.at("headers"),
            json::parse(R"({"Authorization": "Basic ***", "Content-Type": "text/plain; charset=utf-8"})"));
  EXPECT_EQ(p.at("body"), "plain");
  EXPECT_FALSE(p.contains("tls_verify"));
}

TEST_F(StepPreviewTest, SqlShowsTheQueryAndTheValuesBoundToIt) {
  std::string yaml = R"(
params:
  role: {type: string}
  limit: {type: int}
steps:
  - {id: who, type: sql, database: x.db, query: SELECT 1 AS name}
  - id: q
    needs: [who]
    type: sql
    database: /var/lib/app.db
    query: SELECT * FROM users WHERE role = ? AND n < ? AND owner = ?
    args: ["${{ params.role }}", "${{ params.limit }}", "${{ steps.who.outputs.name }}"]
  - {id: w, type: sql, database: x.db, mode: write, query: "DELETE FROM t WHERE id = :id", args: {id: 7}}
)";
  auto p = Preview(yaml, "q");
  EXPECT_EQ(p.at("database"), "/var/lib/app.db");
  EXPECT_EQ(p.at("mode"), "read");
  EXPECT_EQ(p.at("query"), "SELECT * FROM users WHERE role = ? AND n < ? AND owner = ?");
  EXPECT_EQ(p.at("args"), json::parse(R"(["'; DROP TABLE x; --", 5, "${{ steps.who.outputs.name }}"])"));
  auto w = Preview(yaml, "w");
  EXPECT_EQ(w.at("mode"), "write");
  EXPECT_EQ(w.at("args"), json::parse(R"({"id": 7})"));
}

TEST_F(StepPreviewTest, NotifyShowsTheMessageAndWhereItGoes) {
  std::string yaml = R"(
name: incident
secrets:
  HOOK_TOKEN: {env: H}
params:
  reason: {type: string}
steps:
  - {id: log, type: notify, channel: log, message: "Reason: ${{ params.reason }}"}
  - {id: mail, title: Tell the DBAs, type: notify, channel: email, to: [a@example.org, "${{ params.reason }}"],
     message: "Reason: ${{ params.reason }}"}
  - {id: hook, type: notify, channel: webhook, url: "https://hooks.example/x",
     subject: "EMERGENCY ${{ params.reason }}", headers: {Authorization: "Bearer ${{ secrets.HOOK_TOKEN }}"},
     message: "at ${{ now }}"}
  - {id: page, type: notify, channel: command, command: [pager, --why, "${{ params.reason }}"], message: hi}
)";
  auto log = Preview(yaml, "log");
  EXPECT_EQ(log, json::parse(R"({"channel": "log", "message": "Reason: disk full & more"})"));
  auto mail = Preview(yaml, "mail");
  EXPECT_EQ(mail.at("to"), json::parse(R"(["a@example.org", "disk full & more"])"));
  EXPECT_EQ(mail.at("subject"), "[runbook] incident: Tell the DBAs");
  EXPECT_EQ(mail.at("sendmail"), "/usr/sbin/sendmail");
  EXPECT_TRUE(std::string(mail.at("from").as_string()).starts_with("runbook@"));
  EXPECT_EQ(mail.at("message"), "Reason: disk full & more");
  auto hook = Preview(yaml, "hook");
  EXPECT_EQ(hook.at("method"), "POST");
  EXPECT_EQ(hook.at("url"), "https://hooks.example/x");
  EXPECT_EQ(hook.at("headers"), json::parse(R"({"Content-Type": "application/json", "Authorization": "Bearer ***"})"));
  EXPECT_EQ(hook.at("subject"), "EMERGENCY disk full & more");
  EXPECT_EQ(hook.at("message"), "at ${{ now }}");
  auto page = Preview(yaml, "page");
  EXPECT_EQ(page.at("command"), json::parse(R"(["pager", "--why", "disk full & more"])"));
}

TEST_F(StepPreviewTest, CheckShowsTheValueAndItsThresholds) {
  std::string yaml = R"(
params:
  limit: {type: int}
steps:
  - {id: df, run: df}
  - {id: disk, type: check, needs: [df], value: "${{ steps.df.outputs.stdout }}", warn: "> 80", critical: "> 90",
     message: "Disk / over ${{ params.limit }}"}
  - {id: known, type: check, value: "${{ params.limit }}", info: ">= 1"}
  - {id: up, type: check, assert: "${{ params.limit > 3 }}", severity: warning}
)";
  auto disk = Preview(yaml, "disk");
  EXPECT_EQ(disk.at("value"), "${{ steps.df.outputs.stdout }}");
  EXPECT_EQ(disk.at("thresholds"), json::parse(R"({"warn": "> 80", "critical": "> 90"})"));
  EXPECT_EQ(disk.at("message"), "Disk / over 5");
  EXPECT_EQ(Preview(yaml, "known").at("value"), 5);
  auto up = Preview(yaml, "up");
  EXPECT_EQ(up.at("assert"), "${{ params.limit > 3 }}");
  EXPECT_EQ(up.at("severity"), "warning");
}

TEST_F(StepPreviewTest, WaitShowsItsDurationOrConditionWithDefaults) {
  std::string yaml = R"(
steps:
  - {id: settle, type: wait, duration: 30s}
  - {id: poll, type: wait, until: "${{ now >= '2030-01-01T00:00:00Z' }}"}
)";
  EXPECT_EQ(Preview(yaml, "settle"), json::parse(R"({"duration": "30s"})"));
  EXPECT_EQ(Preview(yaml, "poll"),
            json::parse(R"({"until": "${{ now >= '2030-01-01T00:00:00Z' }}", "every": "5s", "max": "5m"})"));
}

TEST_F(StepPreviewTest, ShellShowsTheScriptAsTheShellSeesItAndEachValue) {
  std::string yaml = R"(
defaults:
  shell: bash
params:
  user: {type: string}
steps:
  - {id: s, needs: [e], run: 'echo "${{ params.user }}" ${{ steps.e.outputs.stdout }}', cwd: "/home/${{ params.user }}"}
  - {id: e, argv: [id, "${{ params.user }}"], stdin: "${{ secrets.T }}"}
secrets:
  T: {env: T}
)";
  auto s = Preview(yaml, "s");
  EXPECT_EQ(s.at("argv"), json::parse(R"(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c",
                                          "echo \"${RUNBOOK_EXPR_1}\" \"${RUNBOOK_EXPR_2}\""])"));
  EXPECT_EQ(s.at("env"), json::parse(R"({"RUNBOOK_EXPR_1": "bob?admin=1",
                                         "RUNBOOK_EXPR_2": "${{ steps.e.outputs.stdout }}"})"));
  EXPECT_EQ(s.at("cwd"), "/home/bob?admin=1");
  auto e = Preview(yaml, "e");
  EXPECT_EQ(e.at("argv"), json::parse(R"(["id", "bob?admin=1"])"));
  EXPECT_EQ(e.at("stdin"), "***");
}

}  // namespace
}  // namespace runbook
