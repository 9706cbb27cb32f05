// `http`: one HTTP(S) request with expectations on the response: the
// field schema and the executor (rendering, redirects, expectations,
// outputs, journaling). The exchange itself is in http_client.cc.
#include <algorithm>
#include <cctype>
#include <memory>

#include "engine/executor.h"
#include "engine/expr/expr.h"
#include "engine/json_text.h"
#include "engine/schema_reader.h"
#include "engine/script.h"
#include "steps/http_client.h"
#include "steps/http_text.h"
#include "steps/http_url.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

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
  std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec& runbook,
                                             const ValueContext& values) const override;
};

// --- Executor ------------------------------------------------------------------

namespace json = boost::json;

// Without a step `timeout`, a request gives up after this long.
constexpr Millis kDefaultCap = std::chrono::seconds(30);

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void DropHeaders(std::vector<std::pair<std::string, std::string>>& headers, std::initializer_list<std::string_view> names) {
  std::erase_if(headers, [&](const auto& h) {
    for (auto n : names)
      if (HeaderNameEquals(h.first, n)) return true;
    return false;
  });
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
  auto url_text = RenderUrlTemplate(f.Find("url")->scalar, values);
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
    req.body = JsonText(*v);
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
    if (HeaderNameEquals(n, name)) return v;
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

// --- Preview (runbook plan) ---------------------------------------------------

// The URL with its query as it would be requested; exact when every value
// is known before the run, else with "***" and "${{ ... }}" where they go.
std::string PreviewUrl(const Node& f, const ValueContext& values) {
  PreviewString url = PreviewUrlTemplate(f.Find("url")->scalar, values);
  std::vector<std::pair<std::string, std::string>> query;
  std::string query_text;  // when not exact: values percent-encoded, placeholders as they are
  bool exact = url.exact;
  if (const Node* q = f.Find("query")) {
    for (size_t i = 0; i < q->keys.size(); ++i) {
      PreviewString v = PreviewText(q->items[i].scalar, values);
      exact &= v.exact;
      query.emplace_back(q->keys[i], v.text);
      auto encode = [](const std::string& x, const std::string&) { return PercentEncode(x); };
      PreviewString encoded = PreviewText(q->items[i].scalar, values, encode);
      query_text.append("&").append(PercentEncode(q->keys[i])).append("=").append(encoded.text);
    }
  }
  if (exact) {
    auto u = ParseUrl(url.text);
    if (u.ok()) {
      u->target = AppendQuery(std::move(u->target), query);
      return u->ToString();
    }
  }
  if (!query_text.empty()) query_text[0] = url.text.find('?') == std::string::npos ? '?' : '&';
  return url.text + query_text;
}

std::optional<json::object> HttpType::Preview(const StepSpec& step, const RunbookSpec&,
                                              const ValueContext& values) const {
  const Node& f = step.fields;
  json::object p;
  p["method"] = f.Find("method") ? f.Find("method")->scalar : "GET";
  p["url"] = PreviewUrl(f, values);
  HttpHeaders headers;
  if (const Node* h = f.Find("headers"))
    for (size_t i = 0; i < h->keys.size(); ++i)
      headers.emplace_back(h->keys[i], PreviewText(h->items[i].scalar, values).text);
  json::value body;
  const char* body_key = nullptr;
  if (const Node* j = f.Find("json")) {
    body_key = "json";
    body = PreviewJson(j->ToJson(), values);
    if (!HasHeader(headers, "Content-Type")) headers.emplace_back("Content-Type", "application/json");
  } else if (const Node* b = f.Find("body")) {
    body_key = "body";
    body = json::string(PreviewText(b->scalar, values).text);
    if (!HasHeader(headers, "Content-Type")) headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  }
  json::object shown;
  for (const auto& [name, value] : headers) shown[name] = RedactedHeaderValue(name, value);
  p["headers"] = std::move(shown);
  if (body_key) p[body_key] = std::move(body);
  if (const Node* t = f.Find("tls_verify"); t && t->AsBool() == false) p["tls_verify"] = false;
  return p;
}

class HttpExecutor : public StepExecutor {
 public:
  boost::asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    auto prepared = Prepare(ctx);
    if (!prepared.ok()) co_return CouldNotStart(prepared.status().message());
    HttpRequest& req = prepared->request;
    if (!req.tls_verify && req.url.https())
      ctx.warn("TLS certificate verification disabled for " + req.url.ToString());

    // Without a step timeout, the exchange gives up after kDefaultCap.
    HttpStepCancel cancel(ctx.io, *ctx.cancel, ctx.timeout ? std::nullopt : std::optional<Millis>(kDefaultCap));

    StepOutcome outcome;
    HttpResponse res;
    for (int redirects = 0;; ++redirects) {
      co_await ctx.output->Write(OutputStream::kStdout, DescribeRequest(req));
      auto r = co_await SendHttpRequest(ctx.io, req, cancel.signal());
      if (!r.ok()) {
        if (cancel.capped()) {
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
