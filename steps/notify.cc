// `notify`: tell people — into the journal (`log`), a webhook (an HTTP POST
// of a JSON payload), email through a sendmail-compatible command, or any
// program reading the message on stdin. The executor runs on the run's
// io_context thread; programs go through the ProcessLauncher (process group,
// streamed output, cancel -> TERM/KILL), webhooks through http_client.h.
#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "engine/env.h"
#include "engine/executor.h"
#include "engine/json_text.h"
#include "engine/schema_reader.h"
#include "engine/script.h"
#include "steps/http_client.h"
#include "steps/http_text.h"
#include "steps/process.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class NotifyType : public StepType {
 public:
  std::string_view name() const override { return "notify"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"channel", FieldKind::kEnum, true, {"log", "webhook", "email", "command"}},
        {"to", FieldKind::kAny, false, {}},
        {"from", FieldKind::kString, false, {}},
        {"subject", FieldKind::kString, false, {}},
        {"message", FieldKind::kString, true, {}},
        {"url", FieldKind::kString, false, {}},
        {"headers", FieldKind::kStringMap, false, {}},
        {"command", FieldKind::kStringList, false, {}},
        {"sendmail", FieldKind::kString, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    const Node& f = step.fields;
    const std::string channel = f.Find("channel")->scalar;
    auto only_for = [&](const char* field, const char* ch) {
      if (f.Find(field) && channel != ch)
        diags.Error(f.KeyLoc(field), ctx + "'" + field + "' applies only to channel " + ch);
    };
    only_for("url", "webhook");
    only_for("headers", "webhook");
    only_for("command", "command");
    only_for("sendmail", "email");
    only_for("from", "email");
    if (channel == "webhook") ValidateWebhook(step, ctx, diags);
    if (channel == "command" && !f.Find("command")) diags.Error(f.loc, ctx + "channel command needs 'command'");
    if (channel == "email") {
      const Node* to = f.Find("to");
      if (!to) diags.Error(f.loc, ctx + "channel email needs 'to'");
      else if (!to->IsScalar() && !to->IsSequence())
        schema::KindError(*to, ctx + "'to'", "an address or a list of addresses", diags);
    }
    if (const Node* c = f.Find("command"); c && c->items.empty())
      diags.Error(c->loc, ctx + "'command' is empty");
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override { return {{"delivered", expr::Type::kBool}}; }
  std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec& runbook,
                                             const ValueContext& values) const override;

 private:
  // The address is `url:` or, as for the other channels, `to:` (one URL).
  static void ValidateWebhook(const StepSpec& step, const std::string& ctx, Diagnostics& diags) {
    const Node& f = step.fields;
    const Node* url = f.Find("url");
    const Node* to = f.Find("to");
    if (url && to) {
      diags.Error(f.KeyLoc("to"), ctx + "give the webhook's address in 'url' or in 'to', not both");
      return;
    }
    if (!url && !to) {
      diags.Error(f.loc, ctx + "channel webhook needs 'url'");
      return;
    }
    const Node* at = url ? url : to;
    if (!at->IsScalar()) {
      schema::KindError(*at, ctx + "'" + (url ? "url" : "to") + "'", "one http:// or https:// URL", diags);
      return;
    }
    const std::string& u = at->scalar;
    if (!u.starts_with("${{") && !u.starts_with("http://") && !u.starts_with("https://"))
      diags.Error(at->loc, ctx + "the webhook's address must start with http:// or https://, got '" + u + "'");
    if (const Node* h = f.Find("headers")) {
      for (size_t i = 0; i < h->keys.size(); ++i)
        if (!ValidHeaderName(h->keys[i]))
          diags.Error(h->key_locs[i], ctx + "invalid HTTP header name '" + h->keys[i] + "'");
    }
  }
};

// --- Executor ---------------------------------------------------------------

constexpr const char* kDefaultSendmail = "/usr/sbin/sendmail";

StepOutcome Failed(std::string error, std::optional<long long> exit_code = std::nullopt) {
  return StepOutcome{StepStatus::kFailed, exit_code, {{"delivered", false}}, std::move(error)};
}

// A message that cannot be built (a value did not render, a header would
// break a line): no delivery was tried, and another attempt would fail alike.
StepOutcome NotStarted(std::string error) {
  StepOutcome o = Failed(std::move(error));
  o.permanent = true;
  return o;
}

StepOutcome Delivered() {
  StepOutcome o;
  o.outputs = {{"delivered", true}};
  return o;
}

// Forwards a program's output to the journal and keeps the start of its
// stderr for the error message.
class ForwardingSink : public OutputSink {
 public:
  explicit ForwardingSink(OutputSinkBase& out) : out_(out) {}
  boost::asio::awaitable<void> OnOutput(Stream s, std::string_view data) override {
    if (s == Stream::kStderr && err_head_.size() < 4096) err_head_.append(data.substr(0, 4096 - err_head_.size()));
    co_await out_.Write(s == Stream::kStdout ? OutputStream::kStdout : OutputStream::kStderr, data);
  }
  // The first non-blank line of stderr, trimmed (at most 200 bytes).
  std::string FirstErrorLine() const {
    size_t pos = 0;
    while (pos < err_head_.size()) {
      size_t end = err_head_.find('\n', pos);
      if (end == std::string::npos) end = err_head_.size();
      std::string line = err_head_.substr(pos, end - pos);
      size_t b = line.find_first_not_of(" \t\r");
      if (b != std::string::npos) {
        size_t e = line.find_last_not_of(" \t\r");
        line = line.substr(b, e - b + 1);
        return line.size() > 200 ? line.substr(0, 200) + "..." : line;
      }
      pos = end + 1;
    }
    return "";
  }

 private:
  OutputSinkBase& out_;
  std::string err_head_;
};

// Runs `argv` with `input` on stdin; `what` names it in errors ("command",
// "sendmail").
boost::asio::awaitable<StepOutcome> RunProgram(ProcessLauncher& launcher, StepContext& ctx,
                                               std::vector<std::string> argv, const std::string& input,
                                               const std::map<std::string, std::string>& extra_env,
                                               const std::string& what, const std::string& error_prefix) {
  ProcessRequest req;
  req.argv = std::move(argv);
  req.env = ctx.env;
  for (const auto& [k, v] : extra_env) SetEnv(req.env, k, v);
  req.stdin_data = input;
  req.kill_grace = ctx.kill_grace;
  req.timeout = Millis(0);  // the runner enforces `timeout` through ctx.cancel
  ForwardingSink sink(*ctx.output);
  ProcessResult r = co_await launcher.Run(req, sink, *ctx.cancel);
  switch (r.end) {
    case ProcessResult::End::kExited: {
      if (r.exit_code == 0) {
        StepOutcome o = Delivered();
        o.exit_code = 0;
        co_return o;
      }
      std::string line = sink.FirstErrorLine();
      co_return Failed(error_prefix + what + " exited with code " + std::to_string(r.exit_code) +
                           (line.empty() ? "" : ": " + line),
                       r.exit_code);
    }
    case ProcessResult::End::kSignaled:
      co_return Failed(error_prefix + what + " was killed by signal " + std::to_string(r.signal), 128 + r.signal);
    case ProcessResult::End::kTimedOut:
      co_return StepOutcome{StepStatus::kTimedOut, std::nullopt, {{"delivered", false}}, "timed out"};
    case ProcessResult::End::kCancelled:
      co_return StepOutcome{StepStatus::kCancelled, std::nullopt, {{"delivered", false}}, "cancelled"};
    case ProcessResult::End::kLaunchFailed:
      co_return Failed(error_prefix + r.error);
  }
  co_return Failed(error_prefix + "unknown process end");
}

// --- Email (RFC 5322 / RFC 2045 / RFC 2047) ----------------------------------

bool HasLineBreak(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos; }

std::string HeaderError(const std::string& field) {
  return "'" + field + "' must not contain CR, LF or NUL (a mail header is one line)";
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

// A header value as-is when it is short printable ASCII, else as RFC 2047
// encoded-words ("=?UTF-8?B?...?="), folded, never splitting a UTF-8 sequence.
std::string EncodeHeaderText(std::string_view text) {
  bool plain = text.size() <= 900;
  for (unsigned char c : text) plain &= (c >= 0x20 && c < 0x7f) || c == '\t';
  if (plain) return std::string(text);
  constexpr size_t kChunk = 39;  // 52 base64 characters: each word fits a 78-column line
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t n = std::min(kChunk, text.size() - i);
    // Back off so the chunk does not end inside a multi-byte character.
    if (i + n < text.size()) {
      size_t k = n;
      while (k > 0 && (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80) --k;
      if (k > 0) n = k;
    }
    if (!out.empty()) out += "\n ";
    out += "=?UTF-8?B?" + Base64(text.substr(i, n)) + "?=";
    i += n;
  }
  return out;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  std::string host;
  for (const char* p = buf; *p; ++p)
    if (isalnum(static_cast<unsigned char>(*p)) || *p == '-' || *p == '.') host += *p;
  return host.empty() ? "localhost" : host;
}

// "Sun, 29 Nov 2026 08:10:56 +0100" in local time (locale-independent).
std::string Rfc5322Date(std::chrono::system_clock::time_point t) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  long off = tm.tm_gmtoff / 60;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  char buf[64];
  snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", kDays[tm.tm_wday], tm.tm_mday,
           kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
  return buf;
}

// The body with LF line ends and a final newline; base64 when a line is too
// long for 8bit transfer (RFC 5322: 998 octets).
std::pair<std::string, std::string> EncodeBody(std::string_view message) {
  std::string body;
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r') {
      body += '\n';
      if (i + 1 < message.size() && message[i + 1] == '\n') ++i;
    } else {
      body += message[i];
    }
  }
  if (body.empty() || body.back() != '\n') body += '\n';
  size_t longest = 0, start = 0;
  for (size_t nl = body.find('\n'); nl != std::string::npos; start = nl + 1, nl = body.find('\n', start))
    longest = std::max(longest, nl - start);
  if (longest <= 998) return {"8bit", body};
  std::string encoded;
  for (size_t i = 0; i < body.size(); i += 57) encoded += Base64(std::string_view(body).substr(i, 57)) + "\n";
  return {"base64", encoded};
}

struct Email {
  std::string from;
  std::vector<std::string> to;
  std::string subject;
  std::string body;
};

std::string FormatEmail(const Email& m, const StepContext& ctx, const std::string& host) {
  auto now = std::chrono::system_clock::now();
  long long us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::string to;
  for (const auto& a : m.to) to += (to.empty() ? "" : ", ") + a;
  auto [encoding, body] = EncodeBody(m.body);
  std::string out;
  out += "From: " + m.from + "\n";
  out += "To: " + to + "\n";
  out += "Subject: " + EncodeHeaderText(m.subject) + "\n";
  out += "Date: " + Rfc5322Date(now) + "\n";
  out += "Message-ID: <" + ctx.run_id + "." + ctx.step->id() + "." + std::to_string(ctx.attempt) + "." +
         std::to_string(us) + "@" + host + ">\n";
  out += "MIME-Version: 1.0\n";
  out += "Content-Type: text/plain; charset=utf-8\n";
  out += "Content-Transfer-Encoding: " + encoding + "\n";
  out += "X-Runbook-Run: " + ctx.run_id + "\n";
  out += "X-Runbook-Step: " + ctx.step->id() + "\n";
  out += "\n";
  out += body;
  return out;
}

// --- The executor --------------------------------------------------------------

Result<std::string> RenderField(const StepContext& ctx, const char* key, const std::string& fallback) {
  const Node* n = ctx.fields().Find(key);
  if (!n) return fallback;
  auto r = RenderText(n->scalar, *ctx.values);
  if (!r.ok()) return Status::InvalidArgument("'" + std::string(key) + "': " + r.status().message());
  return r;
}

// `to`: one address (possibly "a, b") or a list, each rendered.
Result<std::vector<std::string>> Recipients(const StepContext& ctx) {
  std::vector<std::string> out;
  const Node* to = ctx.fields().Find("to");
  if (!to) return out;
  std::vector<const Node*> items;
  if (to->IsSequence()) {
    for (const auto& i : to->items) items.push_back(&i);
  } else {
    items.push_back(to);
  }
  for (const Node* n : items) {
    if (!n->IsScalar()) return Status::InvalidArgument("'to' must be an address or a list of addresses");
    auto r = RenderText(n->scalar, *ctx.values);
    if (!r.ok()) return Status::InvalidArgument("'to': " + r.status().message());
    if (r->find_first_not_of(" \t") == std::string::npos)
      return Status::InvalidArgument("'to' has an empty address");
    out.push_back(*r);
  }
  return out;
}

// --- Webhook ----------------------------------------------------------------------

// Without a step `timeout`, a webhook gives up after this long.
constexpr Millis kWebhookCap = std::chrono::seconds(30);

// The JSON document a webhook receives: the run, where it stands, and the
// notification.
boost::json::object WebhookPayload(const StepContext& ctx, const std::string& subject, const std::string& message) {
  RunSoFar so_far = ctx.run_so_far ? ctx.run_so_far() : RunSoFar{};
  std::string incident = ctx.run_id;
  if (const auto* i = ctx.values->run.if_contains("incident"); i && i->is_string())
    incident = std::string(i->get_string());
  boost::json::object p;
  p["run"] = ctx.run_id;
  p["runbook"] = ctx.runbook->spec.name;
  p["incident"] = incident;
  p["step"] = ctx.step->id();
  p["status"] = so_far.status;
  p["subject"] = subject;
  p["message"] = message;
  p["findings"] = std::move(so_far.findings);
  p["ts"] = IsoUtc(std::chrono::system_clock::now());
  return p;
}

Result<HttpRequest> WebhookRequest(const StepContext& ctx, const std::string& subject, const std::string& message) {
  const Node& f = ctx.fields();
  const char* key = f.Find("url") ? "url" : "to";
  auto url_text = RenderUrlTemplate(f.Find(key)->scalar, *ctx.values);
  if (!url_text.ok()) return Status::InvalidArgument("'" + std::string(key) + "': " + url_text.status().message());
  auto url = ParseUrl(*url_text);
  if (!url.ok()) return url.status();
  HttpRequest req;
  req.method = "POST";
  req.url = std::move(*url);
  if (const Node* h = f.Find("headers")) {
    for (size_t i = 0; i < h->keys.size(); ++i) {
      auto v = RenderText(h->items[i].scalar, *ctx.values);
      if (!v.ok()) return Status::InvalidArgument("header '" + h->keys[i] + "': " + v.status().message());
      Status ok = CheckHeaderValue(h->keys[i], *v);
      if (!ok.ok()) return ok;
      req.headers.emplace_back(h->keys[i], *v);
    }
  }
  if (!HasHeader(req.headers, "Content-Type"))
    req.headers.emplace(req.headers.begin(), "Content-Type", "application/json");
  req.body = JsonText(WebhookPayload(ctx, subject, message));
  req.body_limit = 1u << 20;
  return req;
}

class NotifyExecutor : public StepExecutor {
 public:
  explicit NotifyExecutor(ProcessLauncher& launcher) : launcher_(launcher) {}

  boost::asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    const std::string channel = ctx.fields().Find("channel")->scalar;
    auto message = RenderField(ctx, "message", "");
    if (!message.ok()) co_return NotStarted(message.status().message());
    auto to = Recipients(ctx);
    if (!to.ok()) co_return NotStarted(to.status().message());
    const std::string title = ctx.step->spec->title.empty() ? ctx.step->id() : ctx.step->spec->title;
    auto subject = RenderField(ctx, "subject", "[runbook] " + ctx.runbook->spec.name + ": " + title);
    if (!subject.ok()) co_return NotStarted(subject.status().message());

    if (channel == "log") {
      std::string text = ctx.fields().Find("subject") ? *subject + "\n" + *message : *message;
      if (text.empty() || text.back() != '\n') text += '\n';
      co_await ctx.output->Write(OutputStream::kStdout, text);
      co_return Delivered();
    }
    if (channel == "command") {
      std::vector<std::string> argv;
      for (const auto& item : ctx.fields().Find("command")->items) {
        auto r = RenderText(item.scalar, *ctx.values);
        if (!r.ok()) co_return NotStarted("'command': " + r.status().message());
        argv.push_back(*r);
      }
      std::map<std::string, std::string> env = {{"RUNBOOK_NOTIFY_SUBJECT", *subject}};
      std::string joined;
      for (const auto& a : *to) joined += (joined.empty() ? "" : ", ") + a;
      env["RUNBOOK_NOTIFY_TO"] = joined;
      const std::string what = "command", prefix;
      co_return co_await RunProgram(launcher_, ctx, std::move(argv), *message, env, what, prefix);
    }
    if (channel == "email") co_return co_await SendEmail(ctx, *to, *subject, *message);
    co_return co_await SendWebhook(ctx, *subject, *message);
  }

 private:
  boost::asio::awaitable<StepOutcome> SendEmail(StepContext& ctx, const std::vector<std::string>& to,
                                                const std::string& subject, const std::string& message) {
    const std::string host = HostName();
    Email m;
    auto from = RenderField(ctx, "from", "runbook@" + host);
    if (!from.ok()) co_return NotStarted(from.status().message());
    auto sendmail = RenderField(ctx, "sendmail", kDefaultSendmail);
    if (!sendmail.ok()) co_return NotStarted(sendmail.status().message());
    if (HasLineBreak(*from)) co_return NotStarted(HeaderError("from"));
    for (const auto& a : to)
      if (HasLineBreak(a)) co_return NotStarted(HeaderError("to"));
    if (HasLineBreak(subject)) co_return NotStarted(HeaderError("subject"));
    m.from = *from;
    m.to = to;
    m.subject = subject;
    m.body = message;
    std::string text = FormatEmail(m, ctx, host);
    std::string list;
    for (const auto& a : to) list += (list.empty() ? "" : ", ") + a;
    co_await ctx.output->Write(OutputStream::kStdout, "email to " + list + ": " + subject + "\n");
    // Named, not temporaries: g++ 12 mishandles string literals bound to
    // references across a co_await.
    std::vector<std::string> argv = {*sendmail, "-t", "-i"};
    const std::string what = "sendmail", prefix = "cannot deliver email: ";
    co_return co_await RunProgram(launcher_, ctx, std::move(argv), text, {}, what, prefix);
  }

  boost::asio::awaitable<StepOutcome> SendWebhook(StepContext& ctx, const std::string& subject,
                                                  const std::string& message) {
    const std::string prefix = "cannot deliver webhook: ";
    auto req = WebhookRequest(ctx, subject, message);
    if (!req.ok()) co_return NotStarted(prefix + req.status().message());
    co_await ctx.output->Write(OutputStream::kStdout, DescribeRequest(*req));
    HttpStepCancel cancel(ctx.io, *ctx.cancel, ctx.timeout ? std::nullopt : std::optional<Millis>(kWebhookCap));
    auto res = co_await SendHttpRequest(ctx.io, *req, cancel.signal());
    if (!res.ok()) {
      if (cancel.capped()) {
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(kWebhookCap).count();
        co_return StepOutcome{StepStatus::kTimedOut, std::nullopt, {{"delivered", false}},
                              prefix + "no response within " + std::to_string(secs) +
                                  "s (the limit for a notify step without a 'timeout')"};
      }
      if (res.status().code() == Status::Code::kCancelled)
        co_return StepOutcome{StepStatus::kCancelled, std::nullopt, {{"delivered", false}}, "cancelled"};
      co_return Failed(prefix + res.status().message());
    }
    co_await ctx.output->Write(OutputStream::kStdout, DescribeResponse(*res));
    if (res->status < 200 || res->status > 299)
      co_return Failed(prefix + "the server answered " + std::to_string(res->status) +
                       (res->reason.empty() ? "" : " " + res->reason));
    co_return Delivered();
  }

  ProcessLauncher& launcher_;
};

// --- Preview (runbook plan) ---------------------------------------------------------

std::optional<boost::json::object> NotifyType::Preview(const StepSpec& step, const RunbookSpec& runbook,
                                                       const ValueContext& values) const {
  const Node& f = step.fields;
  const std::string channel = f.Find("channel")->scalar;
  boost::json::object p;
  p["channel"] = channel;
  auto text = [&](const char* key) { return PreviewText(f.Find(key)->scalar, values).text; };
  if (channel == "webhook") {
    const Node* url = f.Find("url") ? f.Find("url") : f.Find("to");
    p["method"] = "POST";
    p["url"] = url && url->IsScalar() ? PreviewUrlTemplate(url->scalar, values).text : "";
    HttpHeaders headers = {{"Content-Type", "application/json"}};
    if (const Node* h = f.Find("headers")) {
      for (size_t i = 0; i < h->keys.size(); ++i) {
        std::string v = PreviewText(h->items[i].scalar, values).text;
        if (HeaderNameEquals(h->keys[i], "Content-Type")) headers.front().second = v;
        else headers.emplace_back(h->keys[i], v);
      }
    }
    boost::json::object shown;
    for (const auto& [name, value] : headers) shown[name] = RedactedHeaderValue(name, value);
    p["headers"] = std::move(shown);
  } else if (const Node* to = f.Find("to")) {
    boost::json::array list;
    if (to->IsSequence()) {
      for (const auto& item : to->items) list.emplace_back(PreviewText(item.scalar, values).text);
    } else if (to->IsScalar()) {
      list.emplace_back(PreviewText(to->scalar, values).text);
    }
    p["to"] = std::move(list);
  }
  if (channel == "email") {
    p["from"] = f.Find("from") ? text("from") : "runbook@" + HostName();
    p["sendmail"] = f.Find("sendmail") ? text("sendmail") : kDefaultSendmail;
  }
  if (channel == "command") {
    boost::json::array argv;
    for (const auto& item : f.Find("command")->items) argv.emplace_back(PreviewText(item.scalar, values).text);
    p["command"] = std::move(argv);
  }
  if (f.Find("subject")) {
    p["subject"] = text("subject");
  } else if (channel != "log") {
    p["subject"] = "[runbook] " + runbook.name + ": " + (step.title.empty() ? step.id : step.title);
  }
  p["message"] = text("message");
  return p;
}

}  // namespace

std::unique_ptr<StepType> MakeNotifyType() { return std::make_unique<NotifyType>(); }
std::unique_ptr<StepExecutor> MakeNotifyExecutor(ProcessLauncher& launcher) {
  return std::make_unique<NotifyExecutor>(launcher);
}

}  // namespace runbook::steps
