// libFuzzer target for the expression language (engine/expr/expr.h).
//
// Parses the input both as an expression and as a template, type-checks it
// against a permissive scope (inside and outside a condition), evaluates it
// against a small context, and spells the results. Must never crash, hit
// undefined behaviour, leak, or recurse without bound.
//
//   mkdir work && build-fuzz/tests/fuzz/expr_fuzz -max_total_time=60 \
//       -dict=tests/fuzz/expr.dict work tests/fuzz/corpus/expr
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/expr/expr.h"

namespace {

using runbook::Result;
using runbook::Status;
using runbook::expr::Type;

// Every path exists; its type follows the last name's first letter so that
// the checker sees every type.
class PermissiveScope : public runbook::expr::Scope {
 public:
  Result<Type> Lookup(const std::vector<std::string>& path) const override {
    const std::string& last = path.back();
    switch (last.empty() ? '\0' : last[0]) {
      case 's': return Type::kString;
      case 'n': return Type::kNumber;
      case 'b': return Type::kBool;
      case 'l': return Type::kList;
      case 'o': return Type::kObject;
      case 'z': return Type::kNull;
      case 'x': return Status::InvalidArgument("cannot reference '" + last + "' here");
      default: return Type::kAny;
    }
  }
};

class SmallContext : public runbook::expr::Context {
 public:
  SmallContext()
      : values_(boost::json::parse(R"({
          "params": {"s": "web-1", "n": 3, "d": 0.5, "b": true, "e": "", "l": ["a", 1, null],
                     "o": {"k": "v", "n": [1, {"x": 2}]}, "t": "2026-11-29T06:53:04Z",
                     "j": "{\"a\": [1, 2, {\"b\": null}]}", "tz": "Europe/Berlin", "u": 18446744073709551615},
          "steps": {"a": {"status": "succeeded", "outputs": {"stdout": "x\ny\r\n", "rows": [{"x": 1}]}}},
          "env": {"HOME": "/root"}, "run": {"id": "r", "started_at": "2026-11-29T06:53:04.123Z"},
          "now": "2026-11-29T07:00:00Z", "inputs": {"ok": false}
        })")) {}

  Result<boost::json::value> Lookup(const std::vector<std::string>& path) const override {
    if (path[0] == "secrets") return Status::IoError("no secrets here");
    const boost::json::value* v = &values_;
    for (const auto& p : path) {
      const auto* obj = v->if_object();
      v = obj ? obj->if_contains(p) : nullptr;
      if (!v) return Status::NotFound("not found");
    }
    return *v;
  }

  Result<bool> StatusFunction(std::string_view name) const override {
    if (name == "cancelled") return Status::FailedPrecondition("not now");
    return name != "failure";
  }

 private:
  boost::json::value values_;
};

void Use(const Result<boost::json::value>& v) {
  if (!v.ok()) return;
  (void)runbook::expr::Truthy(*v);
  (void)runbook::expr::ToDisplayString(*v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const PermissiveScope scope;
  static const SmallContext ctx;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto e = runbook::expr::Expression::Parse(text);
  if (e.ok()) {
    (void)e->NamePaths();
    (void)e->UsesStatusFunction();
    (void)runbook::expr::Check(*e, scope, /*in_condition=*/true);
    (void)runbook::expr::Check(*e, scope, /*in_condition=*/false);
    Use(runbook::expr::Evaluate(*e, ctx));
  }

  (void)runbook::expr::HasExpression(text);
  auto t = runbook::expr::Template::Parse(text);
  if (t.ok()) {
    (void)t->IsLiteral();
    (void)t->IsSingleExpression();
    (void)runbook::expr::CheckTemplate(*t, scope, /*in_condition=*/false);
    auto s = runbook::expr::RenderString(*t, ctx);
    if (s.ok()) (void)s->size();
    Use(runbook::expr::RenderValue(*t, ctx));
  }
  return 0;
}
