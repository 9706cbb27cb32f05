// `http`: one HTTP(S) request with expectations on the response.
#include "engine/expr/expr.h"
#include "engine/schema_reader.h"
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

}  // namespace

std::unique_ptr<StepType> MakeHttpType() { return std::make_unique<HttpType>(); }

}  // namespace runbook::steps
