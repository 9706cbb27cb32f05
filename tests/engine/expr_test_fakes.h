// A table-driven fake Context for the expression tests: values come from one
// JSON document keyed by root name, status functions from a map. Not
// thread-safe (tests only).
#pragma once

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <string>
#include <vector>

#include "engine/expr/expr.h"
#include "engine/json_text.h"

namespace runbook::expr {

class FakeContext : public Context {
 public:
  FakeContext()
      : values_(boost::json::parse(R"({
          "params": {"name": "web-1", "count": 3, "ratio": 0.5, "flag": true, "empty": "",
                     "tags": ["a", "b", 3], "meta": {"owner": "ops", "n": 1}, "key": "owner"},
          "steps": {"df": {"status": "succeeded", "exit_code": 0,
                           "outputs": {"use": 91, "rows": [{"x": 1}, {"x": 2}], "data": [1, 2],
                                       "stdout": "a\nb\n", "big": 18446744073709551615}},
                    "block-attacker": {"status": "skipped"}},
          "env": {"HOME": "/root", "MY-VAR": "v"},
          "secrets": {"TOKEN": "s3cret"},
          "run": {"id": "r-1", "started_at": "2026-11-29T06:53:04.123Z"},
          "now": "2026-11-29T07:00:00Z",
          "inputs": {"ok": true}
        })")) {}

  Result<boost::json::value> Lookup(const std::vector<std::string>& path) const override {
    lookups.push_back(path);
    if (path.size() == 2 && path[0] == "secrets" && path[1] == "BROKEN")
      return Status::IoError("cannot read secret 'BROKEN'");
    const boost::json::value* v = &values_;
    std::string joined;
    for (const auto& p : path) {
      joined += (joined.empty() ? "" : ".") + p;
      const auto* obj = v->if_object();
      const auto* next = obj ? obj->if_contains(p) : nullptr;
      if (!next) return Status::NotFound("no value at '" + joined + "'");
      v = next;
    }
    return *v;
  }

  Result<bool> StatusFunction(std::string_view name) const override {
    auto it = status_.find(std::string(name));
    if (it == status_.end()) return Status::FailedPrecondition(std::string(name) + "() is not available here");
    return it->second;
  }

  void SetStatus(const std::string& name, bool v) { status_[name] = v; }

  mutable std::vector<std::vector<std::string>> lookups;

 private:
  boost::json::value values_;
  std::map<std::string, bool> status_ = {{"success", true}, {"failure", false}, {"always", true}};
};

// The value as JSON (so 5, 5.0 and "5" differ), or "error: message".
inline std::string EvalText(std::string_view text, const Context& ctx) {
  auto e = Expression::Parse(text);
  if (!e.ok()) return "parse error: " + e.status().message();
  auto v = Evaluate(*e, ctx);
  if (!v.ok()) return "error: " + v.status().message();
  return JsonText(*v);
}

inline std::string EvalText(std::string_view text) {
  FakeContext ctx;
  return EvalText(text, ctx);
}

}  // namespace runbook::expr
