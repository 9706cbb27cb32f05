#include "engine/step_type.h"

namespace runbook {

void StepTypeRegistry::Add(std::unique_ptr<StepType> type) { types_.push_back(std::move(type)); }

const StepType* StepTypeRegistry::Find(std::string_view name) const {
  for (const auto& t : types_)
    if (t->name() == name) return t.get();
  return nullptr;
}

std::vector<std::string> StepTypeRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& t : types_) out.emplace_back(t->name());
  return out;
}

}  // namespace runbook

namespace runbook {
namespace {

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool ReadsSecret(const expr::Expression& e) {
  for (const auto& path : e.NamePaths())
    if (!path.empty() && path[0] == "secrets") return true;
  return false;
}

// One expression part: its value, or what stands for it ("***", as written).
struct PreviewPart {
  std::optional<boost::json::value> value;
  std::string shown;  // when there is no value
};

PreviewPart PreviewExpression(const expr::Expression& e, const ValueContext& values) {
  if (ReadsSecret(e)) return {std::nullopt, "***"};
  auto v = expr::Evaluate(e, values);
  if (!v.ok()) return {std::nullopt, "${{ " + Trimmed(e.text()) + " }}"};
  return {std::move(*v), ""};
}

}  // namespace

PreviewString PreviewText(const std::string& text, const ValueContext& values, const PreviewEncoder& encode) {
  PreviewString out;
  if (!expr::HasExpression(text)) {
    out.text = text;
    return out;
  }
  auto t = expr::Template::Parse(text);
  if (!t.ok()) {  // rejected by the compiler; shown as written
    out.text = text;
    out.exact = false;
    return out;
  }
  for (const auto& part : t->parts()) {
    out.text += part.literal;
    if (!part.expr) continue;
    PreviewPart p = PreviewExpression(*part.expr, values);
    if (!p.value) {
      out.text += p.shown;
      out.exact = false;
      continue;
    }
    std::string s = expr::ToDisplayString(*p.value);
    out.text += encode ? encode(s, out.text) : s;
  }
  return out;
}

boost::json::value PreviewValue(const std::string& text, const ValueContext& values) {
  if (expr::HasExpression(text)) {
    auto t = expr::Template::Parse(text);
    if (t.ok() && t->IsSingleExpression()) {
      PreviewPart p = PreviewExpression(*t->parts().front().expr, values);
      if (p.value) return std::move(*p.value);
      return boost::json::string(p.shown);
    }
  }
  return boost::json::string(PreviewText(text, values).text);
}

boost::json::value PreviewJson(const boost::json::value& v, const ValueContext& values) {
  if (v.is_string()) return PreviewValue(std::string(v.get_string()), values);
  if (v.is_array()) {
    boost::json::array out;
    for (const auto& item : v.get_array()) out.push_back(PreviewJson(item, values));
    return out;
  }
  if (v.is_object()) {
    boost::json::object out;
    for (const auto& [key, item] : v.get_object())
      out[PreviewText(std::string(key), values).text] = PreviewJson(item, values);
    return out;
  }
  return v;
}

}  // namespace runbook
