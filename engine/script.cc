#include "engine/script.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace runbook {

namespace {
enum class Quote { kNone, kSingle, kDouble };

// Quote state after `text`, starting from `q`.
Quote Scan(const std::string& text, Quote q) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (q) {
      case Quote::kNone:
        if (c == '\\') ++i;
        else if (c == '\'') q = Quote::kSingle;
        else if (c == '"') q = Quote::kDouble;
        else if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
          // A comment runs to the end of the line.
          size_t nl = text.find('\n', i);
          if (nl == std::string::npos) return q;
          i = nl;
        }
        break;
      case Quote::kSingle:
        if (c == '\'') q = Quote::kNone;
        break;
      case Quote::kDouble:
        if (c == '\\') ++i;
        else if (c == '"') q = Quote::kNone;
        break;
    }
  }
  return q;
}
}  // namespace

Result<BoundScript> BindScript(const std::string& script, const expr::Context& ctx) {
  BoundScript out;
  if (!expr::HasExpression(script)) {
    out.text = script;
    return out;
  }
  auto t = expr::Template::Parse(script);
  if (!t.ok()) return t.status();
  Quote q = Quote::kNone;
  int n = 0;
  for (const auto& part : t->parts()) {
    out.text += part.literal;
    q = Scan(part.literal, q);
    if (!part.expr) continue;
    auto v = expr::Evaluate(*part.expr, ctx);
    if (!v.ok()) return Status::InvalidArgument("in '${{ " + part.expr->text() + " }}': " + v.status().message());
    std::string var = "RUNBOOK_EXPR_" + std::to_string(++n);
    out.env[var] = expr::ToDisplayString(*v);
    switch (q) {
      case Quote::kNone: out.text += "\"${" + var + "}\""; break;
      case Quote::kDouble: out.text += "${" + var + "}"; break;
      case Quote::kSingle: out.text += "'\"${" + var + "}\"'"; break;
    }
  }
  return out;
}

Result<std::string> RenderText(const std::string& text, const expr::Context& ctx) {
  if (!expr::HasExpression(text)) return text;
  auto t = expr::Template::Parse(text);
  if (!t.ok()) return t.status();
  return expr::RenderString(*t, ctx);
}

Result<boost::json::value> RenderJson(const boost::json::value& v, const expr::Context& ctx) {
  if (v.is_string()) {
    std::string s(v.get_string());
    if (!expr::HasExpression(s)) return v;
    auto t = expr::Template::Parse(s);
    if (!t.ok()) return t.status();
    return expr::RenderValue(*t, ctx);
  }
  if (v.is_array()) {
    boost::json::array out;
    for (const auto& item : v.get_array()) {
      auto r = RenderJson(item, ctx);
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return boost::json::value(std::move(out));
  }
  if (v.is_object()) {
    boost::json::object out;
    for (const auto& [key, item] : v.get_object()) {
      auto k = RenderText(std::string(key), ctx);
      if (!k.ok()) return k.status();
      auto r = RenderJson(item, ctx);
      if (!r.ok()) return r.status();
      out[*k] = std::move(*r);
    }
    return boost::json::value(std::move(out));
  }
  return v;
}

}  // namespace runbook
