#include "engine/script.h"

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

}  // namespace runbook
