// The `notify` executor through the real Runner and the real process
// launcher, with a journal in a temporary directory: `log` into the journal,
// `command` with a real program reading the message on stdin, and `email`
// through a sendmail stand-in script that keeps its argv and stdin, whose
// message is checked line by line and, when python3 is installed, parsed by
// Python's email package (RFC 5322 / 2047 decoding, defects); `webhook`
// against a real HTTP server on 127.0.0.1 (tests/fakes/http_test_server.h).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "engine/loader.h"
#include "engine/runner.h"
#include "steps/process.h"
#include "steps/registry.h"
#include "tests/fakes/http_test_server.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;
using journal::AttemptStatus;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool HavePython() { return system("command -v python3 >/dev/null 2>&1") == 0; }

class NotifyStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("notify-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto j = journal::Journal::Open((dir_ / "journal.db").string());
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(j).value();
    launcher_ = steps::MakePosixProcessLauncher(io_.get_executor());
    executors_.Add("notify", steps::MakeNotifyExecutor(*launcher_));
  }
  void TearDown() override {
    server_.reset();
    if (journal_) (void)journal_->Close();
    fs::remove_all(dir_);
  }

  // A sendmail stand-in: keeps its arguments (one a line) and its stdin in
  // the test directory, prints `stderr` there and exits with `code`.
  std::string WriteSendmail(int code = 0, const std::string& stderr_text = "") {
    fs::path p = dir_ / "sendmail";
    std::ofstream(p) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" << (dir_ / "argv").string() << "'\ncat > '"
                     << (dir_ / "mail").string() << "'\nprintf '" << stderr_text << "' >&2\nexit " << code << "\n";
    chmod(p.c_str(), 0755);
    return p.string();
  }

  void StartServer() {
    std::string error;
    server_ = fakes::HttpTestServer::Start(dir_.string(), &error);
    ASSERT_TRUE(server_) << error;
  }

  // Runs `yaml` ("DIR" replaced by the test directory, "BASE" by the test
  // server's URL) with its parameters' defaults, overridden by `params`.
  RunSummary Run(std::string yaml, boost::json::object params = {},
                 std::map<std::string, std::string> secrets = {}) {
    for (size_t at; (at = yaml.find("DIR")) != std::string::npos;) yaml.replace(at, 3, dir_.string());
    for (size_t at; server_ && (at = yaml.find("BASE")) != std::string::npos;) yaml.replace(at, 4, server_->base());
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
    for (const auto& [k, v] : params) req.params[k] = v;
    req.secrets = std::move(secrets);
    req.handle_signals = false;
    RunSummary s = runner.Run(req);
    EXPECT_TRUE(journal_->SyncBlocking().ok());
    return s;
  }

  journal::AttemptRecord LastAttempt(const std::string& run, const std::string& step) {
    journal::AttemptRecord last;
    for (auto& a : journal_->GetAttempts(run).value())
      if (a.step_id == step) last = a;
    return last;
  }
  boost::json::value Delivered(const std::string& run, const std::string& step) {
    auto o = boost::json::parse(LastAttempt(run, step).outputs_json).as_object();
    return o.contains("delivered") ? o["delivered"] : nullptr;
  }
  std::string Output(const std::string& run, const std::string& step, journal::Stream stream) {
    std::string text;
    for (const auto& c : journal_->GetOutput(run, step).value())
      if (c.stream == stream) text += c.data;
    return text;
  }

  // The stand-in's message parsed by Python's email package, as JSON:
  // subject, to, from, date, message_id, content_type, charset, body, defects.
  boost::json::object ParseWithPython() {
    fs::path script = dir_ / "parse.py";
    std::ofstream(script) << R"(import email, email.policy, email.utils, json, sys
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
defects = [type(d).__name__ for d in m.defects]
for k in m.keys():
    defects += [k + ':' + type(d).__name__ for d in m[k].defects]
print(json.dumps({
    'subject': str(m['subject']), 'to': [a.addr_spec for a in m['to'].addresses],
    'from': str(m['from']), 'date_ok': m['date'].datetime is not None,
    'message_id': str(m['message-id']), 'mime_version': str(m['mime-version']),
    'content_type': m.get_content_type(), 'charset': m.get_content_charset(),
    'cte': str(m['content-transfer-encoding']), 'body': m.get_content(), 'defects': defects}))
)";
    std::string cmd = "python3 '" + script.string() + "' '" + (dir_ / "mail").string() + "'";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    for (size_t n; p && (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    int rc = p ? pclose(p) : -1;
    EXPECT_EQ(rc, 0) << out;
    boost::system::error_code ec;
    auto v = boost::json::parse(out, ec);
    EXPECT_FALSE(ec) << out;
    return ec || !v.is_object() ? boost::json::object{} : v.as_object();
  }

  fs::path dir_;
  boost::asio::io_context io_;
  std::unique_ptr<steps::ProcessLauncher> launcher_;
  ExecutorRegistry executors_;
  std::unique_ptr<journal::Journal> journal_;
  std::optional<CompiledRunbook> rb_;
  std::unique_ptr<fakes::HttpTestServer> server_;
};

// --- log -------------------------------------------------------------------------

TEST_F(NotifyStepTest, LogWritesTheRenderedMessageToTheJournal) {
  auto s = Run(R"(
params:
  reason: {type: string, default: disk full}
steps:
  - {id: tell, type: notify, channel: log, message: "Emergency maintenance: ${{ params.reason }}"}
  - {id: titled, type: notify, channel: log, subject: Heads up, message: "line 1\nline 2\n"}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_EQ(Output(s.run_id, "tell", journal::Stream::kStdout), "Emergency maintenance: disk full\n");
  EXPECT_EQ(Output(s.run_id, "titled", journal::Stream::kStdout), "Heads up\nline 1\nline 2\n");
  EXPECT_EQ(Delivered(s.run_id, "tell"), true);
}

// --- command ---------------------------------------------------------------------

TEST_F(NotifyStepTest, CommandReceivesTheMessageOnStdin) {
  auto s = Run(R"(
params:
  reason: {type: string, default: "x\"; rm -rf / #"}
steps:
  - id: page
    type: notify
    channel: command
    command: [sh, -c, 'cat > "$1"; printf %s "$RUNBOOK_NOTIFY_SUBJECT|$RUNBOOK_NOTIFY_TO" > "$1.env"', sh, DIR/received]
    to: [oncall, ops]
    subject: "Paging: ${{ params.reason }}"
    message: "Reason: ${{ params.reason }}"
)");
  EXPECT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error;
  EXPECT_EQ(ReadAll(dir_ / "received"), "Reason: x\"; rm -rf / #");
  EXPECT_EQ(ReadAll(dir_ / "received.env"), "Paging: x\"; rm -rf / #|oncall, ops");
  EXPECT_EQ(Delivered(s.run_id, "page"), true);
  EXPECT_EQ(LastAttempt(s.run_id, "page").exit_code, 0);
}

TEST_F(NotifyStepTest, AFailingCommandFailsTheStepWithItsExitCodeAndFirstStderrLine) {
  auto s = Run(R"(
steps:
  - id: page
    type: notify
    channel: command
    command: [sh, -c, 'cat >/dev/null; echo; echo "pager: no route to host" >&2; echo more >&2; exit 3']
    message: hello
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = LastAttempt(s.run_id, "page");
  EXPECT_EQ(a.status, AttemptStatus::kFailed);
  EXPECT_EQ(a.exit_code, 3);
  EXPECT_EQ(a.error, "command exited with code 3: pager: no route to host");
  EXPECT_EQ(Delivered(s.run_id, "page"), false);
  EXPECT_EQ(Output(s.run_id, "page", journal::Stream::kStderr), "pager: no route to host\nmore\n");
}

TEST_F(NotifyStepTest, AMissingCommandFailsTheStep) {
  auto s = Run("steps:\n  - {id: page, type: notify, channel: command, command: [no-such-notifier-xyz], message: hi}\n");
  EXPECT_EQ(LastAttempt(s.run_id, "page").error, "cannot execute 'no-such-notifier-xyz': No such file or directory");
}

// --- email -----------------------------------------------------------------------

TEST_F(NotifyStepTest, EmailIsAWellFormedMessageOnSendmailsStdin) {
  WriteSendmail();
  auto s = Run(R"(
params:
  reason: {type: string, default: database corruption}
  dba: {type: string, default: dba@example.org}
steps:
  - id: mail
    type: notify
    channel: email
    sendmail: DIR/sendmail
    from: Runbook <runbook@example.org>
    to: [emergency-team@example.org, "${{ params.dba }}"]
    subject: "EMERGENCY: ${{ params.reason }}"
    message: "Reason: ${{ params.reason }}\r\nSecond line"
)");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error << " " << LastAttempt(s.run_id, "mail").error;
  EXPECT_EQ(Delivered(s.run_id, "mail"), true);
  EXPECT_EQ(ReadAll(dir_ / "argv"), "-t\n-i\n");
  std::string mail = ReadAll(dir_ / "mail");
  size_t blank = mail.find("\n\n");
  ASSERT_NE(blank, std::string::npos) << mail;
  std::string head = mail.substr(0, blank + 1), body = mail.substr(blank + 2);
  EXPECT_NE(head.find("From: Runbook <runbook@example.org>\n"), std::string::npos) << head;
  EXPECT_NE(head.find("To: emergency-team@example.org, dba@example.org\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Subject: EMERGENCY: database corruption\n"), std::string::npos) << head;
  EXPECT_NE(head.find("MIME-Version: 1.0\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/plain; charset=utf-8\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Transfer-Encoding: 8bit\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Runbook-Run: " + s.run_id + "\n"), std::string::npos) << head;
  EXPECT_TRUE(std::regex_search(head, std::regex("\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
                                                 "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
                                                 "[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\n")))
      << head;
  EXPECT_TRUE(std::regex_search(head, std::regex("\nMessage-ID: <" + s.run_id + "\\.mail\\.1\\.[0-9]+@[^>\\s]+>\n")))
      << head;
  EXPECT_EQ(body, "Reason: database corruption\nSecond line\n");
  EXPECT_EQ(mail.find('\r'), std::string::npos);
  EXPECT_NE(Output(s.run_id, "mail", journal::Stream::kStdout).find("email to emergency-team@example.org, dba@example.org"),
            std::string::npos);
  if (!HavePython()) GTEST_SKIP() << "python3 not installed: the message was checked line by line only";
  auto m = ParseWithPython();
  EXPECT_EQ(m["subject"], "EMERGENCY: database corruption");
  EXPECT_EQ(m["to"], boost::json::array({"emergency-team@example.org", "dba@example.org"}));
  EXPECT_EQ(m["from"], "Runbook <runbook@example.org>");
  EXPECT_EQ(m["date_ok"], true);
  EXPECT_EQ(m["content_type"], "text/plain");
  EXPECT_EQ(m["charset"], "utf-8");
  EXPECT_EQ(m["body"], "Reason: database corruption\nSecond line\n");
  EXPECT_EQ(m["defects"], boost::json::array()) << boost::json::serialize(m);
}

TEST_F(NotifyStepTest, ANonAsciiSubjectIsEncodedAndFolded) {
  WriteSendmail();
  const std::string subject = "Störung der Datenbank — Wiederherstellung läuft ↯ 数据库恢复正在进行中 " + std::string(40, 'x');
  auto s = Run(R"(
params:
  subject: {type: string, default: ""}
steps:
  - {id: mail, type: notify, channel: email, sendmail: DIR/sendmail, to: ops@example.org,
     subject: "${{ params.subject }}", message: "Grüße"}
)",
               {{"subject", subject}});
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << LastAttempt(s.run_id, "mail").error;
  std::string mail = ReadAll(dir_ / "mail");
  std::string head = mail.substr(0, mail.find("\n\n") + 1);
  std::istringstream lines(head);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(line.size(), 78u) << line;
    for (unsigned char c : line) EXPECT_LT(c, 0x80) << "a raw non-ASCII byte in a header: " << line;
  }
  EXPECT_NE(head.find("Subject: =?UTF-8?B?"), std::string::npos) << head;
  EXPECT_NE(head.find("?=\n =?UTF-8?B?"), std::string::npos) << "folded into several encoded-words: " << head;
  if (!HavePython()) GTEST_SKIP() << "python3 not installed";
  auto m = ParseWithPython();
  EXPECT_EQ(m["subject"], boost::json::value(subject));
  EXPECT_EQ(m["body"], "Grüße\n");
  EXPECT_EQ(m["defects"], boost::json::array()) << boost::json::serialize(m);
}

TEST_F(NotifyStepTest, AVeryLongLineIsSentAsBase64) {
  WriteSendmail();
  std::string line(3000, 'a');
  auto s = Run(R"(
params:
  text: {type: string, default: ""}
steps:
  - {id: mail, type: notify, channel: email, sendmail: DIR/sendmail, to: ops@example.org, message: "${{ params.text }}"}
)",
               {{"text", line}});
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << LastAttempt(s.run_id, "mail").error;
  std::string mail = ReadAll(dir_ / "mail");
  EXPECT_NE(mail.find("Content-Transfer-Encoding: base64\n"), std::string::npos);
  std::istringstream lines(mail);
  for (std::string l; std::getline(lines, l);) EXPECT_LE(l.size(), 998u);
  if (!HavePython()) GTEST_SKIP() << "python3 not installed";
  EXPECT_EQ(ParseWithPython()["body"], boost::json::value(line + "\n"));
}

TEST_F(NotifyStepTest, TheDefaultSenderAndSubjectNameTheHostAndTheRunbook) {
  WriteSendmail();
  auto s = Run("name: db-recovery\nsteps:\n  - {id: mail, title: Tell the DBAs, type: notify, channel: email, "
               "sendmail: DIR/sendmail, to: dba@example.org, message: hi}\n");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << LastAttempt(s.run_id, "mail").error;
  std::string mail = ReadAll(dir_ / "mail");
  EXPECT_TRUE(std::regex_search(mail, std::regex("(^|\n)From: runbook@[A-Za-z0-9.-]+\n"))) << mail;
  EXPECT_NE(mail.find("Subject: [runbook] db-recovery: Tell the DBAs\n"), std::string::npos) << mail;
}

TEST_F(NotifyStepTest, AFailingSendmailFailsTheStepWithTheReason) {
  WriteSendmail(1, "sendmail: cannot connect to mail.example.org\\n");
  auto s = Run("steps:\n  - {id: mail, type: notify, channel: email, sendmail: DIR/sendmail, to: a@example.org, "
               "message: hi}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = LastAttempt(s.run_id, "mail");
  EXPECT_EQ(a.status, AttemptStatus::kFailed);
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_EQ(a.error, "cannot deliver email: sendmail exited with code 1: sendmail: cannot connect to mail.example.org");
  EXPECT_EQ(Delivered(s.run_id, "mail"), false);
}

TEST_F(NotifyStepTest, AMissingSendmailFailsTheStep) {
  auto s = Run("steps:\n  - {id: mail, type: notify, channel: email, sendmail: DIR/nope/sendmail, to: a@example.org, "
               "message: hi}\n");
  EXPECT_EQ(LastAttempt(s.run_id, "mail").error,
            "cannot deliver email: cannot execute '" + (dir_ / "nope/sendmail").string() + "': No such file or directory");
  if (fs::exists("/usr/sbin/sendmail")) GTEST_SKIP() << "/usr/sbin/sendmail exists: the default is not tried";
  auto d = Run("steps:\n  - {id: mail, type: notify, channel: email, to: a@example.org, message: hi}\n");
  EXPECT_EQ(LastAttempt(d.run_id, "mail").error,
            "cannot deliver email: cannot execute '/usr/sbin/sendmail': No such file or directory");
}

TEST_F(NotifyStepTest, LineBreaksInHeaderValuesAreRefused) {
  WriteSendmail();
  const char* yaml = R"(
params:
  subject: {type: string, default: ok}
  to: {type: string, default: a@example.org}
steps:
  - {id: mail, type: notify, channel: email, sendmail: DIR/sendmail, to: "${{ params.to }}",
     subject: "Incident: ${{ params.subject }}", message: hi}
)";
  auto bad_subject = Run(yaml, {{"subject", "x\r\nBcc: everyone@example.org"}});
  auto a = LastAttempt(bad_subject.run_id, "mail");
  EXPECT_EQ(a.status, AttemptStatus::kFailed);
  EXPECT_EQ(a.error, "'subject' must not contain CR, LF or NUL (a mail header is one line)");
  auto bad_to = Run(yaml, {{"to", "a@example.org\nBcc: everyone@example.org"}});
  EXPECT_EQ(LastAttempt(bad_to.run_id, "mail").error, "'to' must not contain CR, LF or NUL (a mail header is one line)");
  EXPECT_FALSE(fs::exists(dir_ / "mail")) << "sendmail must not have run";
}

// --- webhook ---------------------------------------------------------------------

TEST_F(NotifyStepTest, WebhookPostsTheRunAndTheMessageAsJson) {
  StartServer();
  const std::string token = "hook-t0ken-5150";
  auto s = Run(R"(
name: incident-response
secrets:
  HOOK_TOKEN: {env: NOT_USED}
params:
  reason: {type: string, default: "quote \" and } brace"}
steps:
  - id: hook
    type: notify
    channel: webhook
    url: BASE/echo
    headers: {Authorization: "Bearer ${{ secrets.HOOK_TOKEN }}", X-Source: runbook}
    subject: "EMERGENCY: ${{ params.reason }}"
    message: "Reason: ${{ params.reason }}"
)",
               {}, {{"HOOK_TOKEN", token}});
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << s.error << " " << LastAttempt(s.run_id, "hook").error;
  EXPECT_EQ(Delivered(s.run_id, "hook"), true);
  auto reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].at("method"), "POST");
  EXPECT_EQ(reqs[0].at("path"), "/echo");
  EXPECT_EQ(reqs[0].at("headers").at("content-type"), "application/json");
  EXPECT_EQ(reqs[0].at("headers").at("authorization"), boost::json::value("Bearer " + token));
  EXPECT_EQ(reqs[0].at("headers").at("x-source"), "runbook");
  auto payload = boost::json::parse(std::string(reqs[0].at("body").as_string())).as_object();
  EXPECT_EQ(payload.at("run"), boost::json::value(s.run_id));
  EXPECT_EQ(payload.at("runbook"), "incident-response");
  EXPECT_EQ(payload.at("incident"), boost::json::value(s.run_id)) << "a run's incident defaults to its own id";
  EXPECT_EQ(payload.at("step"), "hook");
  EXPECT_EQ(payload.at("status"), "running");
  EXPECT_EQ(payload.at("subject"), "EMERGENCY: quote \" and } brace");
  EXPECT_EQ(payload.at("message"), "Reason: quote \" and } brace");
  EXPECT_EQ(payload.at("findings"), boost::json::array());
  EXPECT_TRUE(std::regex_match(std::string(payload.at("ts").as_string()),
                               std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z")))
      << payload.at("ts");
  // The exchange is journaled, the credential masked.
  std::string out = Output(s.run_id, "hook", journal::Stream::kStdout);
  EXPECT_NE(out.find("> POST " + server_->base() + "/echo\n"), std::string::npos) << out;
  EXPECT_NE(out.find("> Authorization: Bearer ***\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\"message\":\"Reason: quote"), std::string::npos) << out;
  EXPECT_NE(out.find("< 200 OK\n"), std::string::npos) << out;
  EXPECT_EQ(out.find(token), std::string::npos) << out;
}

TEST_F(NotifyStepTest, WebhookAddressMayBeGivenInTo) {
  StartServer();
  auto s = Run("steps:\n  - {id: hook, type: notify, channel: webhook, to: BASE/echo, message: hi}\n");
  ASSERT_EQ(s.status, journal::RunStatus::kSucceeded) << LastAttempt(s.run_id, "hook").error;
  ASSERT_EQ(server_->Requests().size(), 1u);
}

TEST_F(NotifyStepTest, AWebhookAnsweredWithAnErrorStatusFailsTheStepAndIsRetried) {
  StartServer();
  auto s = Run(R"(
steps:
  - {id: hook, type: notify, channel: webhook, url: BASE/status/500, message: hi, retry: {attempts: 2, delay: 10ms}}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = LastAttempt(s.run_id, "hook");
  EXPECT_EQ(a.attempt, 2);
  EXPECT_EQ(a.status, AttemptStatus::kFailed);
  EXPECT_EQ(a.error, "cannot deliver webhook: the server answered 500 Internal Server Error");
  EXPECT_EQ(Delivered(s.run_id, "hook"), false);
  EXPECT_EQ(server_->Requests().size(), 2u);
  EXPECT_NE(Output(s.run_id, "hook", journal::Stream::kStdout).find("< 500 Internal Server Error\n"),
            std::string::npos);
}

TEST_F(NotifyStepTest, AWebhookNobodyListensToFailsWithTheReason) {
  StartServer();
  std::string url = server_->base() + "/echo";
  server_.reset();
  auto s = Run("steps:\n  - {id: hook, type: notify, channel: webhook, url: '" + url + "', message: hi}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  std::string error = LastAttempt(s.run_id, "hook").error;
  EXPECT_TRUE(error.starts_with("cannot deliver webhook: cannot connect to 127.0.0.1:")) << error;
  EXPECT_EQ(Delivered(s.run_id, "hook"), false);
}

TEST_F(NotifyStepTest, AHangingWebhookIsAbandonedAtTheStepTimeout) {
  StartServer();
  auto t0 = std::chrono::steady_clock::now();
  auto s = Run("steps:\n  - {id: hook, type: notify, channel: webhook, url: BASE/hang, message: hi, timeout: 300ms}\n");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto a = LastAttempt(s.run_id, "hook");
  EXPECT_EQ(a.status, AttemptStatus::kTimedOut);
  EXPECT_EQ(a.error, "timed out after 300ms");
  // The server sleeps 120 s: anything near that means the request was not aborted.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
}

TEST_F(NotifyStepTest, ALineBreakInAWebhookHeaderIsRefusedBeforeAnythingIsSent) {
  StartServer();
  auto s = Run(R"(
params:
  who: {type: string, default: "ops\r\nX-Injected: yes"}
steps:
  - {id: hook, type: notify, channel: webhook, url: BASE/echo, headers: {X-Who: "${{ params.who }}"}, message: hi}
)");
  EXPECT_EQ(LastAttempt(s.run_id, "hook").error, "cannot deliver webhook: header 'X-Who' contains a line break");
  EXPECT_TRUE(server_->Requests().empty());
}

// Writes what an executor prints, for driving one without a Runner.
class StringSink : public OutputSinkBase {
 public:
  boost::asio::awaitable<void> Write(OutputStream, std::string_view data) override {
    text.append(data);
    co_return;
  }
  std::string text;
};

TEST_F(NotifyStepTest, WebhookPayloadCarriesTheRunsStatusAndFindingsSoFar) {
  StartServer();
  Diagnostics diags;
  auto spec = LoadRunbookText("name: hooked\nsteps:\n  - {id: hook, type: notify, channel: webhook, url: '" +
                                  server_->base() + "/echo', message: hi}\n",
                              "t.yaml", steps::BuiltinStepTypes(), diags);
  ASSERT_TRUE(spec) << diags.FormatAll();
  auto rb = Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
  ASSERT_TRUE(rb) << diags.FormatAll();
  ValueContext values;
  values.run = {{"id", "run-1"}, {"incident", "inc-7"}};
  CancelSignal cancel;
  StringSink sink;
  StepContext ctx;
  ctx.io = io_.get_executor();
  ctx.runbook = &*rb;
  ctx.step = &rb->steps[0];
  ctx.values = &values;
  ctx.run_id = "run-1";
  ctx.timeout = std::chrono::seconds(60);
  ctx.cancel = &cancel;
  ctx.output = &sink;
  const boost::json::object finding = {
      {"step", "disk"}, {"level", "critical"}, {"message", "disk 93% full"}, {"value", "93"}, {"threshold", "> 90"}};
  ctx.run_so_far = [&] {
    RunSoFar r;
    r.status = "failing";
    r.findings.push_back(finding);
    return r;
  };
  StepOutcome outcome;
  boost::asio::co_spawn(
      io_, [&]() -> boost::asio::awaitable<void> { outcome = co_await executors_.Find("notify")->Execute(ctx); },
      boost::asio::detached);
  io_.run();
  io_.restart();
  ASSERT_EQ(outcome.status, StepStatus::kSucceeded) << outcome.error;
  auto reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  auto payload = boost::json::parse(std::string(reqs[0].at("body").as_string())).as_object();
  EXPECT_EQ(payload.at("run"), "run-1");
  EXPECT_EQ(payload.at("incident"), "inc-7");
  EXPECT_EQ(payload.at("status"), "failing");
  EXPECT_EQ(payload.at("findings"), boost::json::array({finding}));
  EXPECT_EQ(payload.at("subject"), "[runbook] hooked: hook");
}

// Needs the runner to fill StepContext::run_so_far (engine/runner.cc).
TEST_F(NotifyStepTest, AWebhookAfterACheckReportsItsFindingAndTheFailingRun) {
  StartServer();
  executors_.Add("check", steps::MakeCheckExecutor());
  auto s = Run(R"(
steps:
  - {id: disk, type: check, value: 93, warn: "> 80", critical: "> 90", message: Disk / is full}
  - {id: hook, needs: [disk], type: notify, channel: webhook, url: BASE/echo, message: hi}
)");
  EXPECT_EQ(s.status, journal::RunStatus::kFailed);
  auto reqs = server_->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  auto payload = boost::json::parse(std::string(reqs[0].at("body").as_string())).as_object();
  EXPECT_EQ(payload.at("status"), "failing");
  const auto& findings = payload.at("findings").as_array();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].at("step"), "disk");
  EXPECT_EQ(findings[0].at("level"), "critical");
  EXPECT_EQ(findings[0].at("message"), "Disk / is full");
  EXPECT_EQ(findings[0].at("value"), "93");
  EXPECT_EQ(findings[0].at("threshold"), "> 90");
}

}  // namespace
}  // namespace runbook
