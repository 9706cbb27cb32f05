// Templates: literal text with embedded `${{ expr }}` parts.
#include <memory>

#include "engine/expr/expr.h"

namespace runbook::expr {

namespace {

constexpr std::string_view kOpen = "${{";

// "in '${{ a == }}': " (a long expression is shortened).
std::string PartPrefix(std::string_view inner) {
  constexpr size_t kMax = 60;
  std::string shown = inner.size() > kMax ? std::string(inner.substr(0, kMax - 3)) + "..." : std::string(inner);
  return "in '${{" + shown + "}}': ";
}

// Offset of the `}}` closing an expression that starts at `from`, skipping
// single-quoted string literals ('' inside one simply toggles twice).
size_t FindClose(std::string_view text, size_t from) {
  bool in_string = false;
  for (size_t j = from; j < text.size(); ++j) {
    char c = text[j];
    if (c == '\'') {
      in_string = !in_string;
    } else if (!in_string && c == '}' && j + 1 < text.size() && text[j + 1] == '}') {
      return j;
    }
  }
  return std::string_view::npos;
}

// `s` with the part's text in front, keeping its code.
Status Prefixed(const Expression& e, const Status& s) {
  std::string m = PartPrefix(e.text()) + s.message();
  switch (s.code()) {
    case Status::Code::kNotFound: return Status::NotFound(std::move(m));
    case Status::Code::kIoError: return Status::IoError(std::move(m));
    case Status::Code::kCorruption: return Status::Corruption(std::move(m));
    case Status::Code::kBusy: return Status::Busy(std::move(m));
    case Status::Code::kFailedPrecondition: return Status::FailedPrecondition(std::move(m));
    case Status::Code::kCancelled: return Status::Cancelled(std::move(m));
    case Status::Code::kInternal: return Status::Internal(std::move(m));
    default: return Status::InvalidArgument(std::move(m));
  }
}

}  // namespace

bool HasExpression(std::string_view text) { return text.find(kOpen) != std::string_view::npos; }

Result<Template> Template::Parse(std::string_view text) {
  Template t;
  t.source_ = std::string(text);
  std::string literal;
  size_t i = 0;
  while (true) {
    size_t open = text.find(kOpen, i);
    if (open == std::string_view::npos) {
      literal.append(text.substr(i));
      break;
    }
    literal.append(text.substr(i, open - i));
    size_t start = open + kOpen.size();
    size_t close = FindClose(text, start);
    if (close == std::string_view::npos) return Status::InvalidArgument("unterminated '${{'");
    std::string_view inner = text.substr(start, close - start);
    auto e = Expression::Parse(inner);
    if (!e.ok()) return Status::InvalidArgument(PartPrefix(inner) + e.status().message());
    t.parts_.push_back({std::move(literal), std::make_shared<const Expression>(std::move(*e))});
    literal.clear();
    i = close + 2;
  }
  if (!literal.empty()) t.parts_.push_back({std::move(literal), nullptr});
  return t;
}

bool Template::IsLiteral() const {
  for (const auto& p : parts_)
    if (p.expr) return false;
  return true;
}

bool Template::IsSingleExpression() const {
  return parts_.size() == 1 && parts_[0].expr && parts_[0].literal.empty();
}

Result<Type> CheckTemplate(const Template& t, const Scope& scope, bool in_condition) {
  Type type = Type::kString;
  for (const auto& p : t.parts()) {
    if (!p.expr) continue;
    auto r = Check(*p.expr, scope, in_condition);
    if (!r.ok()) return Status::InvalidArgument(PartPrefix(p.expr->text()) + r.status().message());
    type = *r;
  }
  return t.IsSingleExpression() ? type : Type::kString;
}

Result<std::string> RenderString(const Template& t, const Context& ctx) {
  std::string out;
  for (const auto& p : t.parts()) {
    out += p.literal;
    if (!p.expr) continue;
    auto v = Evaluate(*p.expr, ctx);
    if (!v.ok()) return Prefixed(*p.expr, v.status());
    out += ToDisplayString(*v);
  }
  return out;
}

Result<boost::json::value> RenderValue(const Template& t, const Context& ctx) {
  if (t.IsSingleExpression()) {
    auto v = Evaluate(*t.parts()[0].expr, ctx);
    if (!v.ok()) return Prefixed(*t.parts()[0].expr, v.status());
    return v;
  }
  if (t.IsLiteral()) return boost::json::value(t.source());
  auto s = RenderString(t, ctx);
  if (!s.ok()) return s.status();
  return boost::json::value(*s);
}

}  // namespace runbook::expr
