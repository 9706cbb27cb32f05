// Acceptance: `notify` steps through the real binary: `log` puts the message
// in the journal, `command` hands it to a real program on stdin, `email`
// gives a sendmail stand-in a well-formed message, `webhook` POSTs a JSON
// payload to a real HTTP server on 127.0.0.1; a parameter holding a line
// break cannot inject a header; a failing delivery fails the step (and so
// the run) with the reason.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"
#include "tests/fakes/http_test_server.h"

namespace runbook::clitest {
namespace {

std::string RunIdOf(const Outcome& o) {
  auto summary = ParseJson(o.out, "run --json");
  return summary ? JsonString(*summary, "run_id") : "";
}

// A sendmail stand-in keeping its arguments and stdin in the sandbox.
std::string WriteSendmail(CliSandbox& box, int code = 0) {
  std::string path = box.WriteFile("sendmail", "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + box.Path("argv") +
                                                   "'\ncat > '" + box.Path("mail") +
                                                   "'\necho 'sendmail: mail.example.org: connection refused' >&2\nexit " +
                                                   std::to_string(code) + "\n");
  chmod(path.c_str(), 0755);
  return path;
}

TEST(CliNotify, LogPutsTheMessageInTheJournal) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("tell", R"(name: tell
params:
  reason: {type: string, required: true}
steps:
  - {id: tell, type: notify, channel: log, message: "Maintenance started: ${{ params.reason }}"}
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "reason=disk full"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run_id = RunIdOf(o);
  EXPECT_EQ(box.RawLogs(run_id, "tell"), "Maintenance started: disk full\n");
  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(FindStep(show, "tell")->at("outputs").at("delivered"), true);
}

TEST(CliNotify, CommandGetsTheMessageOnStdin) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("page", R"(name: page
params:
  reason: {type: string, required: true}
steps:
  - id: page
    type: notify
    channel: command
    command: [sh, -c, 'cat > "$1"', sh, )" + box.Path("received") + R"(]
    message: "Paging on-call: ${{ params.reason }}"
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "reason=$(touch pwned) `id`"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(ReadFile(box.Path("received")), "Paging on-call: $(touch pwned) `id`");
  EXPECT_FALSE(FileExists(box.Path("pwned")));
}

TEST(CliNotify, EmailReachesSendmailAsAWellFormedMessage) {
  CliSandbox box;
  std::string sendmail = WriteSendmail(box);
  std::string rb = box.WriteRunbook("mail", R"(name: mail
params:
  reason: {type: string, required: true}
steps:
  - id: mail
    type: notify
    channel: email
    sendmail: )" + sendmail + R"(
    to: [emergency-team@example.org, dba@example.org]
    subject: "EMERGENCY: ${{ params.reason }}"
    message: "Emergency maintenance is active.\nReason: ${{ params.reason }}"
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "reason=database corruption"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(ReadFile(box.Path("argv")), "-t\n-i\n");
  std::string mail = ReadFile(box.Path("mail"));
  size_t blank = mail.find("\n\n");
  ASSERT_NE(blank, std::string::npos) << mail;
  std::string head = mail.substr(0, blank + 1);
  for (const char* h : {"\nTo: emergency-team@example.org, dba@example.org\n",
                        "\nSubject: EMERGENCY: database corruption\n", "\nMIME-Version: 1.0\n",
                        "\nContent-Type: text/plain; charset=utf-8\n", "\nContent-Transfer-Encoding: 8bit\n",
                        "\nDate: ", "\nMessage-ID: <"})
    EXPECT_NE(("\n" + head).find(h), std::string::npos) << h << " in:\n" << head;
  EXPECT_EQ(mail.substr(blank + 2), "Emergency maintenance is active.\nReason: database corruption\n");
}

TEST(CliNotify, ALineBreakInAHeaderParameterIsRefused) {
  CliSandbox box;
  std::string sendmail = WriteSendmail(box);
  std::string rb = box.WriteRunbook("mail", R"(name: mail
params:
  reason: {type: string, required: true}
steps:
  - {id: mail, type: notify, channel: email, sendmail: )" + sendmail + R"(, to: ops@example.org,
     subject: "Incident: ${{ params.reason }}", message: hi}
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "reason=x\nBcc: everyone@example.org"});
  ASSERT_EQ(o.exit_code, 1) << o.Describe();
  boost::json::value show = box.ShowJson(RunIdOf(o));
  EXPECT_EQ(JsonString(*FindStep(show, "mail"), "error"),
            "'subject' must not contain CR, LF or NUL (a mail header is one line)");
  EXPECT_FALSE(FileExists(box.Path("mail"))) << "sendmail ran";
}

TEST(CliNotify, AFailingSendmailFailsTheRunWithTheReason) {
  CliSandbox box;
  std::string sendmail = WriteSendmail(box, 75);
  std::string rb = box.WriteRunbook("mail", R"(name: mail
steps:
  - {id: mail, type: notify, channel: email, sendmail: )" + sendmail + R"(, to: ops@example.org, message: hi}
)");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 1) << o.Describe();
  boost::json::value show = box.ShowJson(RunIdOf(o));
  const boost::json::object* mail = FindStep(show, "mail");
  ASSERT_NE(mail, nullptr);
  EXPECT_EQ(JsonString(*mail, "status"), "failed");
  EXPECT_EQ(mail->at("exit_code").to_number<int>(), 75);
  EXPECT_EQ(JsonString(*mail, "error"),
            "cannot deliver email: sendmail exited with code 75: sendmail: mail.example.org: connection refused");
  EXPECT_EQ(mail->at("outputs").at("delivered"), false);
}

TEST(CliNotify, WebhookPostsTheRunAndMessageAndAFailedOneFailsTheRun) {
  CliSandbox box;
  std::string error;
  auto server = fakes::HttpTestServer::Start(box.dir(), &error);
  ASSERT_TRUE(server) << error;
  const std::string token = "hook-tok-8d7c6b5a";
  box.SetEnv("HOOK_TOKEN", token);
  std::string rb = box.WriteRunbook("hook", R"(name: hook
params:
  path: {type: string, default: echo}
secrets:
  HOOK_TOKEN: {env: HOOK_TOKEN}
steps:
  - id: tell
    type: notify
    channel: webhook
    url: )" + server->base() + R"(/${{ params.path }}
    headers: {Authorization: "Bearer ${{ secrets.HOOK_TOKEN }}"}
    subject: Maintenance
    message: "Maintenance started"
)");
  Outcome o = box.Run({"--json", "run", rb, "--incident", "INC-42"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run_id = RunIdOf(o);
  auto reqs = server->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].at("headers").at("authorization"), boost::json::value("Bearer " + token));
  auto payload = boost::json::parse(std::string(reqs[0].at("body").as_string())).as_object();
  EXPECT_EQ(payload.at("run"), boost::json::value(run_id));
  EXPECT_EQ(payload.at("runbook"), "hook");
  EXPECT_EQ(payload.at("incident"), "INC-42");
  EXPECT_EQ(payload.at("status"), "running");
  EXPECT_EQ(payload.at("message"), "Maintenance started");
  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(FindStep(show, "tell")->at("outputs").at("delivered"), true);
  std::string logs = box.RawLogs(run_id, "tell");
  EXPECT_NE(logs.find("> Authorization: Bearer ***"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(token), std::string::npos) << logs;

  Outcome failed = box.Run({"--json", "run", rb, "-p", "path=status/503"});
  ASSERT_EQ(failed.exit_code, 1) << failed.Describe();
  boost::json::value failed_show = box.ShowJson(RunIdOf(failed));
  const boost::json::object* tell = FindStep(failed_show, "tell");
  ASSERT_NE(tell, nullptr);
  EXPECT_EQ(JsonString(*tell, "status"), "failed");
  EXPECT_EQ(JsonString(*tell, "error"), "cannot deliver webhook: the server answered 503 Service Unavailable");
  EXPECT_EQ(tell->at("outputs").at("delivered"), false);
}

}  // namespace
}  // namespace runbook::clitest
