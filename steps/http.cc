// `http`: one HTTP(S) request with expectations on the response: the
// field schema and the executor (rendering, redirects, expectations,
// outputs, journaling). The exchange itself is in http_client.cc.
#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <memory>

#include "engine/executor.h"
#include "engine/expr/expr.h"
#include "engine/schema_reader.h"
#include "engine/script.h"
#include "steps/http_client.h"
#include "steps/http_url.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

bool ValidHeaderName(const std::string& n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (isalnum(static_cast<unsigned char>(c))) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

class HttpType : public StepType {
 public:
  std::string_view name() const override { return "http"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"method", FieldKind::kEnum, false, {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}},
        {"url", FieldKind::kString, true, {}},
        {"headers", FieldKind::kStringMap, false, {}},
        {"query", FieldKind::kStringMap, false, {}},
        {"body", FieldKind::kString, false, {}},
        {"json", FieldKind::kAny, false, {}},
        {"expect", FieldKind::kMapping, false, {}},
        {"tls_verify", FieldKind::kBool, false, {}},
        {"max_redirects", FieldKind::kInt, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    if (step.fields.Find("body") && step.fields.Find("json"))
      diags.Error(step.fields.KeyLoc("json"), ctx + "give either 'body' or 'json', not both");
    if (const Node* url = step.fields.Find("url")) {
      const std::string& u = url->scalar;
      if (!u.starts_with("${{") && !u.starts_with("http://") && !u.starts_with("https://"))
        diags.Error(url->loc, ctx + "'url' must start with http:// or https://, got '" + u + "'");
    }
    if (const Node* h = step.fields.Find("headers")) {
      for (size_t i = 0; i < h->keys.size(); ++i)
        if (!ValidHeaderName(h->keys[i]))
          diags.Error(h->key_locs[i], ctx + "invalid HTTP header name '" + h->keys[i] + "'");
    }
    if (const Node* m = step.fields.Find("max_redirects")) {
      auto v = m->AsInt();
      if (v && (*v < 0 || *v > 20)) diags.Error(m->loc, ctx + "'max_redirects' must be between 0 and 20");
    }
    if (const Node* e = step.fields.Find("expect")) {
      schema::CheckKeys(*e, {"status"}, ctx + "expect: ", "key", diags);
      if (const Node* s = e->Find("status")) {
        std::vector<const Node*> codes;
        if (s->IsSequence()) {
          for (const auto& c : s->items) codes.push_back(&c);
        } else {
          codes.push_back(s);
        }
        for (const Node* c : codes) schema::Int(*c, ctx + "expect: 'status'", diags, 100, 599);
      }
    }
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"status", expr::Type::kNumber}, {"body", expr::Type::kString}, {"headers", expr::Type::kObject}};
  }
  std::vector<std::string> TextSources() const override { return {"body"}; }
};

// --- Executor ------------------------------------------------------------------

namespace json = boost::json;

// Without a step `timeout`, a request gives up after this long.
constexpr Millis kDefaultCap = std::chrono::seconds(30);
// Bytes of each body written to the journal's output.
constexpr size_t kExcerpt = 4096;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (IEquals(h.first, name)) return true;
  return false;
}

void DropHeaders(std::vector<std::pair<std::string, std::string>>& headers, std::initializer_list<std::string_view> names) {
  std::erase_if(headers, [&](const auto& h) {
    for (auto n : names)
      if (IEquals(h.first, n)) return true;
    return false;
  });
}

// Renders `url:` so that a value stays a value: an expression in the path or
// the query is percent-encoded for where it lands (http_url.h).
Result<std::string> RenderUrl(const std::string& text, const expr::Context& values) {
  auto t = expr::Template::Parse(text);
  if (!t.ok()) return t.status();
  std::string out;
  for (const auto& part : t->parts()) {
    out += part.literal;
    if (!part.expr) continue;
    auto v = expr::Evaluate(*part.expr, values);
    if (!v.ok()) return Status::InvalidArgument("in '${{ " + part.expr->text() + " }}': " + v.status().message());
    out += EncodeUrlValue(expr::ToDisplayString(*v), UrlPartAt(out));
  }
  return out;
}

// `json:`: the YAML value with every string rendered; a string that is one
// expression keeps its value's type. Values are JSON-escaped by serialize().
Result<json::value> RenderJson(const json::value& v, const expr::Context& values) {
  if (v.is_string()) {
    std::string s(v.get_string());
    if (!expr::HasExpression(s)) return v;
    auto t = expr::Template::Parse(s);
    if (!t.ok()) return t.status();
    return expr::RenderValue(*t, values);
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& item : v.get_array()) {
      auto r = RenderJson(item, values);
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return json::value(std::move(out));
  }
  if (v.is_object()) {
    json::object out;
    for (const auto& [key, item] : v.get_object()) {
      auto k = RenderText(std::string(key), values);
      if (!k.ok()) return k.status();
      auto r = RenderJson(item, values);
      if (!r.ok()) return r.status();
      out[*k] = std::move(*r);
    }
    return json::value(std::move(out));
  }
  return v;
}

Status CheckHeaderValue(const std::string& name, const std::string& value) {
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n') return Status::InvalidArgument("header '" + name + "' contains a line break");
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return Status::InvalidArgument("header '" + name + "' contains a control character");
  }
  return Status::Ok();
}

// Everything a step's fields say, rendered.
struct Prepared {
  HttpRequest request;
  std::vector<long long> expected;  // empty: any 2xx
  int max_redirects = 5;
};

Result<Prepared> Prepare(const StepContext& ctx) {
  const Node& f = ctx.fields();
  const ValueContext& values = *ctx.values;
  Prepared p;
  HttpRequest& req = p.request;
  if (const Node* m = f.Find("method")) req.method = m->scalar;
  auto url_text = RenderUrl(f.Find("url")->scalar, values);
  if (!url_text.ok()) return Status::InvalidArgument("'url': " + url_text.status().message());
  auto url = ParseUrl(*url_text);
  if (!url.ok()) return url.status();
  req.url = std::move(*url);
  if (const Node* q = f.Find("query")) {
    std::vector<std::pair<std::string, std::string>> query;
    for (size_t i = 0; i < q->keys.size(); ++i) {
      auto v = RenderText(q->items[i].scalar, values);
      if (!v.ok()) return Status::InvalidArgument("query '" + q->keys[i] + "': " + v.status().message());
      query.emplace_back(q->keys[i], *v);
    }
    req.url.target = AppendQuery(std::move(req.url.target), query);
  }
  if (const Node* h = f.Find("headers")) {
    for (size_t i = 0; i < h->keys.size(); ++i) {
      auto v = RenderText(h->items[i].scalar, values);
      if (!v.ok()) return Status::InvalidArgument("header '" + h->keys[i] + "': " + v.status().message());
      Status ok = CheckHeaderValue(h->keys[i], *v);
      if (!ok.ok()) return ok;
      req.headers.emplace_back(h->keys[i], *v);
    }
  }
  if (const Node* j = f.Find("json")) {
    auto v = RenderJson(j->ToJson(), values);
    if (!v.ok()) return Status::InvalidArgument("'json': " + v.status().message());
    req.body = json::serialize(*v);
    if (!HasHeader(req.headers, "Content-Type")) req.headers.emplace_back("Content-Type", "application/json");
  } else if (const Node* b = f.Find("body")) {
    auto v = RenderText(b->scalar, values);
    if (!v.ok()) return Status::InvalidArgument("'body': " + v.status().message());
    req.body = std::move(*v);
    if (!HasHeader(req.headers, "Content-Type"))
      req.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  }
  if (const Node* t = f.Find("tls_verify"))
    if (auto v = t->AsBool()) req.tls_verify = *v;
  if (const Node* m = f.Find("max_redirects"))
    if (auto v = m->AsInt()) p.max_redirects = static_cast<int>(*v);
  if (const Node* e = f.Find("expect")) {
    if (const Node* s = e->Find("status")) {
      if (s->IsSequence()) {
        for (const auto& c : s->items)
          if (auto v = c.AsInt()) p.expected.push_back(*v);
      } else if (auto v = s->AsInt()) {
        p.expected.push_back(*v);
      }
    }
  }
  return p;
}

bool Sensitive(std::string_view name) {
  return IEquals(name, "Authorization") || IEquals(name, "Proxy-Authorization") || IEquals(name, "Cookie") ||
         IEquals(name, "Set-Cookie");
}

// "Bearer ***": credentials never reach the journal, declared secrets or not.
std::string Redacted(std::string_view name, const std::string& value) {
  if (!Sensitive(name)) return value;
  size_t sp = value.find(' ');
  return IEquals(name, "Authorization") || IEquals(name, "Proxy-Authorization")
             ? (sp == std::string::npos ? "***" : value.substr(0, sp) + " ***")
             : "***";
}

void AppendBodyExcerpt(std::string& out, const std::string& body) {
  if (body.empty()) return;
  out.append(body, 0, std::min(body.size(), kExcerpt));
  if (out.back() != '\n') out += '\n';
  if (body.size() > kExcerpt) out += "[... " + std::to_string(body.size() - kExcerpt) + " more bytes]\n";
}

std::string DescribeRequest(const HttpRequest& req) {
  std::string out = "> " + req.method + " " + req.url.ToString() + "\n";
  for (const auto& [name, value] : req.headers) out += "> " + name + ": " + Redacted(name, value) + "\n";
  AppendBodyExcerpt(out, req.body);
  return out;
}

std::string DescribeResponse(const HttpResponse& res) {
  std::string out = "< " + std::to_string(res.status) + (res.reason.empty() ? "" : " " + res.reason) + "\n";
  for (const auto& [name, value] : res.headers) out += "< " + name + ": " + Redacted(name, value) + "\n";
  AppendBodyExcerpt(out, res.body);
  return out;
}

std::string ExpectedList(const std::vector<long long>& codes) {
  std::string out;
  for (size_t i = 0; i < codes.size(); ++i) {
    if (i > 0) out += i + 1 == codes.size() ? " or " : ", ";
    out += std::to_string(codes[i]);
  }
  return out;
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string FindHeader(const HttpResponse& res, std::string_view name) {
  for (const auto& [n, v] : res.headers)
    if (IEquals(n, name)) return v;
  return "";
}

// Turns `req` into the request for a redirect to `location`.
Status FollowRedirect(HttpRequest& req, int status, const std::string& location) {
  auto next = ResolveLocation(req.url, location);
  if (!next.ok()) return Status::IoError("bad redirect: " + next.status().message());
  if (req.url.https() && !next->https())
    return Status::IoError("refusing a redirect from https to " + next->ToString());
  if (!next->SameOrigin(req.url)) DropHeaders(req.headers, {"Authorization", "Proxy-Authorization", "Cookie"});
  const bool to_get = (status == 303 && req.method != "HEAD") || ((status == 301 || status == 302) && req.method == "POST");
  if (to_get) {
    req.method = "GET";
    req.body.clear();
    DropHeaders(req.headers, {"Content-Type", "Content-Length"});
  }
  DropHeaders(req.headers, {"Host"});
  req.url = std::move(*next);
  return Status::Ok();
}

class HttpExecutor : public StepExecutor {
 public:
  boost::asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    auto prepared = Prepare(ctx);
    if (!prepared.ok()) co_return StepOutcome{StepStatus::kFailed, std::nullopt, {}, prepared.status().message()};
    HttpRequest& req = prepared->request;
    if (!req.tls_verify && req.url.https())
      ctx.warn("TLS certificate verification disabled for " + req.url.ToString());

    // The exchange listens to its own signal: the step's (timeout, cancel)
    // or, for a step without a timeout, the default cap. Shared, because
    // ctx.cancel may fire after this attempt has returned.
    auto cancel = std::make_shared<CancelSignal>();
    ctx.cancel->Connect([weak = std::weak_ptr<CancelSignal>(cancel)] {
      if (auto c = weak.lock()) c->Emit();
    });
    auto capped = std::make_shared<bool>(false);
    boost::asio::steady_timer cap(ctx.io);
    if (!ctx.timeout) {
      cap.expires_after(kDefaultCap);
      cap.async_wait([cancel, capped](boost::system::error_code ec) {
        if (ec) return;
        *capped = true;
        cancel->Emit();
      });
    }

    StepOutcome outcome;
    HttpResponse res;
    for (int redirects = 0;; ++redirects) {
      co_await ctx.output->Write(OutputStream::kStdout, DescribeRequest(req));
      auto r = co_await SendHttpRequest(ctx.io, req, *cancel);
      if (!r.ok()) {
        if (*capped) {
          const auto secs = std::chrono::duration_cast<std::chrono::seconds>(kDefaultCap).count();
          co_return StepOutcome{StepStatus::kTimedOut, std::nullopt, {},
                                "no response within " + std::to_string(secs) +
                                    "s (the limit for an http step without a 'timeout')"};
        }
        if (r.status().code() == Status::Code::kCancelled)
          co_return StepOutcome{StepStatus::kCancelled, std::nullopt, {}, "cancelled"};
        co_return StepOutcome{StepStatus::kFailed, std::nullopt, {}, r.status().message()};
      }
      res = std::move(*r);
      co_await ctx.output->Write(OutputStream::kStdout, DescribeResponse(res));
      std::string location = FindHeader(res, "Location");
      if (!IsRedirect(res.status) || prepared->max_redirects == 0 || location.empty()) break;
      if (redirects == prepared->max_redirects) {
        outcome.status = StepStatus::kFailed;
        outcome.error = "too many redirects (more than " + std::to_string(prepared->max_redirects) + ")";
        break;
      }
      Status followed = FollowRedirect(req, res.status, location);
      if (!followed.ok()) co_return StepOutcome{StepStatus::kFailed, std::nullopt, {}, followed.message()};
    }
    cap.cancel();

    json::object headers;
    for (const auto& [name, value] : res.headers) {
      std::string key = Lower(name);
      if (auto* existing = headers.if_contains(key)) {
        existing->as_string().append(", ").append(value);
      } else {
        headers[key] = value;
      }
    }
    outcome.outputs["status"] = res.status;
    outcome.outputs["headers"] = std::move(headers);
    outcome.outputs["body"] = std::move(res.body);
    if (outcome.status == StepStatus::kFailed) co_return outcome;
    const auto& expected = prepared->expected;
    if (expected.empty() ? (res.status < 200 || res.status > 299)
                         : std::find(expected.begin(), expected.end(), res.status) == expected.end()) {
      outcome.status = StepStatus::kFailed;
      outcome.error = expected.empty() ? "expected a 2xx status, got " + std::to_string(res.status)
                                       : "expected status " + ExpectedList(expected) + ", got " +
                                             std::to_string(res.status);
    }
    co_return outcome;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeHttpType() { return std::make_unique<HttpType>(); }
std::unique_ptr<StepExecutor> MakeHttpExecutor() { return std::make_unique<HttpExecutor>(); }

}  // namespace runbook::steps
