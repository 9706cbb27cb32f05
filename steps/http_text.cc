#include "steps/http_text.h"

#include <algorithm>
#include <cctype>

namespace runbook::steps {
namespace {

// Bytes of each body written to the journal's output.
constexpr size_t kExcerpt = 4096;

void AppendBodyExcerpt(std::string& out, const std::string& body) {
  if (body.empty()) return;
  out.append(body, 0, std::min(body.size(), kExcerpt));
  if (out.back() != '\n') out += '\n';
  if (body.size() > kExcerpt) out += "[... " + std::to_string(body.size() - kExcerpt) + " more bytes]\n";
}

}  // namespace

bool HeaderNameEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool HasHeader(const HttpHeaders& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return HeaderNameEquals(h.first, name); });
}

bool ValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

Status CheckHeaderValue(const std::string& name, const std::string& value) {
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n') return Status::InvalidArgument("header '" + name + "' contains a line break");
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return Status::InvalidArgument("header '" + name + "' contains a control character");
  }
  return Status::Ok();
}

std::string RedactedHeaderValue(std::string_view name, const std::string& value) {
  if (HeaderNameEquals(name, "Authorization") || HeaderNameEquals(name, "Proxy-Authorization")) {
    size_t sp = value.find(' ');
    return sp == std::string::npos ? "***" : value.substr(0, sp) + " ***";
  }
  if (HeaderNameEquals(name, "Cookie") || HeaderNameEquals(name, "Set-Cookie")) return "***";
  return value;
}

Result<std::string> RenderUrlTemplate(const std::string& text, const expr::Context& values) {
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

PreviewString PreviewUrlTemplate(const std::string& text, const ValueContext& values) {
  auto encode = [](const std::string& v, const std::string& so_far) { return EncodeUrlValue(v, UrlPartAt(so_far)); };
  return PreviewText(text, values, encode);
}

std::string DescribeRequest(const HttpRequest& req) {
  std::string out = "> " + req.method + " " + req.url.ToString() + "\n";
  for (const auto& [name, value] : req.headers) out += "> " + name + ": " + RedactedHeaderValue(name, value) + "\n";
  AppendBodyExcerpt(out, req.body);
  return out;
}

std::string DescribeResponse(const HttpResponse& res) {
  std::string out = "< " + std::to_string(res.status) + (res.reason.empty() ? "" : " " + res.reason) + "\n";
  for (const auto& [name, value] : res.headers) out += "< " + name + ": " + RedactedHeaderValue(name, value) + "\n";
  AppendBodyExcerpt(out, res.body);
  return out;
}

}  // namespace runbook::steps
