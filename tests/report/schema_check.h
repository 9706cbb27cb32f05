// A small JSON Schema checker for the export tests: enough of draft 2020-12
// to check an export against docs/export-schema.json (type, const, enum,
// required, properties, additionalProperties, items, minItems, minimum,
// pattern, $ref to #/$defs, anyOf, oneOf). Returns every violation with its
// JSON path. Header-only test code.
#pragma once

#include <boost/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace runbook::report::schema {

namespace json = boost::json;

inline bool HasType(const json::value& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_int64() || v.is_uint64();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_bool();
  if (type == "null") return v.is_null();
  return false;
}

class Checker {
 public:
  explicit Checker(const json::value& root) : root_(root) {}

  std::vector<std::string> Check(const json::value& v) {
    errors_.clear();
    Visit(root_, v, "$");
    return errors_;
  }

 private:
  void Fail(const std::string& path, const std::string& what) { errors_.push_back(path + ": " + what); }

  const json::value& Resolve(const json::object& s) {
    std::string ref(s.at("$ref").as_string());
    const std::string prefix = "#/$defs/";
    return root_.at("$defs").at(ref.substr(prefix.size()));
  }

  bool Valid(const json::value& schema, const json::value& v) {
    std::vector<std::string> saved = std::move(errors_);
    errors_.clear();
    Visit(schema, v, "");
    bool ok = errors_.empty();
    errors_ = std::move(saved);
    return ok;
  }

  void Visit(const json::value& schema_value, const json::value& v, const std::string& path) {
    if (!schema_value.is_object()) return;
    const json::object& s = schema_value.as_object();
    if (s.contains("$ref")) Visit(Resolve(s), v, path);
    if (const auto* t = s.if_contains("type")) {
      bool ok = false;
      if (t->is_string()) ok = HasType(v, t->as_string());
      if (t->is_array())
        for (const auto& x : t->as_array()) ok |= HasType(v, x.as_string());
      if (!ok) return Fail(path, "type is not " + json::serialize(*t) + ": " + json::serialize(v).substr(0, 80));
    }
    if (const auto* c = s.if_contains("const"); c && *c != v) Fail(path, "not " + json::serialize(*c));
    if (const auto* e = s.if_contains("enum")) {
      bool found = false;
      for (const auto& x : e->as_array()) found |= (x == v);
      if (!found) Fail(path, json::serialize(v) + " not in " + json::serialize(*e));
    }
    if (const auto* p = s.if_contains("pattern"); p && v.is_string()) {
      if (!std::regex_search(std::string(v.as_string()), std::regex(std::string(p->as_string()))))
        Fail(path, "'" + std::string(v.as_string()) + "' does not match " + std::string(p->as_string()));
    }
    if (const auto* m = s.if_contains("minimum"); m && v.is_number() && v.to_number<double>() < m->to_number<double>())
      Fail(path, "below the minimum");
    if (const auto* any = s.if_contains("anyOf")) {
      bool ok = false;
      for (const auto& sub : any->as_array()) ok |= Valid(sub, v);
      if (!ok) Fail(path, "matches none of anyOf");
    }
    if (const auto* one = s.if_contains("oneOf")) {
      int n = 0;
      for (const auto& sub : one->as_array()) n += Valid(sub, v);
      if (n != 1) Fail(path, "matches " + std::to_string(n) + " of oneOf");
    }
    if (v.is_object()) {
      const json::object& o = v.as_object();
      if (const auto* req = s.if_contains("required"))
        for (const auto& k : req->as_array())
          if (!o.contains(k.as_string())) Fail(path, "missing '" + std::string(k.as_string()) + "'");
      const json::object* props = s.contains("properties") ? &s.at("properties").as_object() : nullptr;
      const json::value* extra = s.if_contains("additionalProperties");
      for (const auto& [k, child] : o) {
        std::string sub = path + "." + std::string(k);
        if (props && props->contains(k)) {
          Visit(props->at(k), child, sub);
        } else if (extra && extra->is_bool() && !extra->as_bool()) {
          Fail(sub, "not in the schema");
        } else if (extra && extra->is_object()) {
          Visit(*extra, child, sub);
        }
      }
    }
    if (v.is_array()) {
      const json::array& a = v.as_array();
      if (const auto* mi = s.if_contains("minItems"); mi && static_cast<int64_t>(a.size()) < mi->to_number<int64_t>())
        Fail(path, "fewer items than minItems");
      if (const auto* items = s.if_contains("items"))
        for (size_t i = 0; i < a.size(); ++i) Visit(*items, a[i], path + "[" + std::to_string(i) + "]");
    }
  }

  const json::value& root_;
  std::vector<std::string> errors_;
};

}  // namespace runbook::report::schema
