#include "engine/expr/values.h"

#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "engine/json_text.h"

namespace runbook::expr {

Type TypeOf(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return Type::kNull;
    case boost::json::kind::bool_: return Type::kBool;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return Type::kNumber;
    case boost::json::kind::string: return Type::kString;
    case boost::json::kind::array: return Type::kList;
    case boost::json::kind::object: return Type::kObject;
  }
  return Type::kNull;
}

std::string WithArticle(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kAny: return "any value";
    case Type::kObject: return "an object";
    default: return std::string("a ") + TypeName(t);
  }
}

double ToDouble(const boost::json::value& v) {
  if (const auto* i = v.if_int64()) return static_cast<double>(*i);
  if (const auto* u = v.if_uint64()) return static_cast<double>(*u);
  if (const auto* d = v.if_double()) return *d;
  return 0;
}

std::optional<int> CompareNumbers(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() || b.is_double()) {
    double x = ToDouble(a), y = ToDouble(b);
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  // Both integers: compare exactly, whatever mix of int64 and uint64.
  auto as_i128 = [](const boost::json::value& v) -> __int128 {
    if (const auto* i = v.if_int64()) return *i;
    return static_cast<__int128>(v.get_uint64());
  };
  __int128 x = as_i128(a), y = as_i128(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool ValuesEqual(const boost::json::value& a, const boost::json::value& b) {
  // An explicit stack instead of recursion: values may be nested deeply.
  std::vector<std::pair<const boost::json::value*, const boost::json::value*>> todo{{&a, &b}};
  while (!todo.empty()) {
    auto [x, y] = todo.back();
    todo.pop_back();
    if (x->is_number() && y->is_number()) {
      auto c = CompareNumbers(*x, *y);
      if (!c || *c != 0) return false;
      continue;
    }
    if (x->kind() != y->kind()) return false;
    switch (x->kind()) {
      case boost::json::kind::null: break;
      case boost::json::kind::bool_:
        if (x->get_bool() != y->get_bool()) return false;
        break;
      case boost::json::kind::string:
        if (x->get_string() != y->get_string()) return false;
        break;
      case boost::json::kind::array: {
        const auto& p = x->get_array();
        const auto& q = y->get_array();
        if (p.size() != q.size()) return false;
        for (size_t i = 0; i < p.size(); ++i) todo.emplace_back(&p[i], &q[i]);
        break;
      }
      case boost::json::kind::object: {
        const auto& p = x->get_object();
        const auto& q = y->get_object();
        if (p.size() != q.size()) return false;
        for (const auto& kv : p) {
          const auto* other = q.if_contains(kv.key());
          if (!other) return false;
          todo.emplace_back(&kv.value(), other);
        }
        break;
      }
      default:  // numbers handled above
        return false;
    }
  }
  return true;
}

std::string_view TrimBlanks(std::string_view s) {
  constexpr std::string_view kBlanks = " \t\n\r\f\v";
  size_t b = s.find_first_not_of(kBlanks);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kBlanks);
  return s.substr(b, e - b + 1);
}

std::optional<boost::json::value> ParseNumber(std::string_view s) {
  s = TrimBlanks(s);
  if (s.empty()) return std::nullopt;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') {  // from_chars rejects a leading '+'; allow one before a digit
    ++b;
    if (b == e || !((*b >= '0' && *b <= '9') || *b == '.')) return std::nullopt;
  }
  std::int64_t i = 0;
  auto ri = std::from_chars(b, e, i);
  if (ri.ec == std::errc() && ri.ptr == e) return boost::json::value(i);
  double d = 0;
  auto rd = std::from_chars(b, e, d, std::chars_format::general);
  if (rd.ec != std::errc() || rd.ptr != e || !std::isfinite(d)) return std::nullopt;
  return boost::json::value(d);
}

bool Truthy(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return false;
    case boost::json::kind::bool_: return v.get_bool();
    case boost::json::kind::int64: return v.get_int64() != 0;
    case boost::json::kind::uint64: return v.get_uint64() != 0;
    case boost::json::kind::double_: {
      double d = v.get_double();
      return d != 0 && !std::isnan(d);
    }
    case boost::json::kind::string: return !v.get_string().empty();
    case boost::json::kind::array:
    case boost::json::kind::object: return true;
  }
  return false;
}

std::string ToDisplayString(const boost::json::value& v) {
  char buf[64];
  switch (v.kind()) {
    case boost::json::kind::null: return "";
    case boost::json::kind::bool_: return v.get_bool() ? "true" : "false";
    case boost::json::kind::int64: return std::to_string(v.get_int64());
    case boost::json::kind::uint64: return std::to_string(v.get_uint64());
    case boost::json::kind::double_: {
      // Plain decimal where people, bc and awk expect it: integers up to
      // 1e16 without ".0", other values from 1e-4 to 1e16 as JSON writes
      // them ("0.0001", "15000000000.5", not "1e-04"); beyond that the
      // shortest form ("1e-05", "9223372036854775808", "1e+300").
      double d = v.get_double();
      const double a = std::fabs(d);
      if (std::isfinite(d) && d == std::trunc(d) && a < 1e16)
        return std::to_string(static_cast<std::int64_t>(d));
      if (std::isfinite(d) && a >= 1e-4 && a < 1e16) return JsonNumberText(d);
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, r.ptr);
    }
    case boost::json::kind::string: return std::string(v.get_string());
    case boost::json::kind::array:
    case boost::json::kind::object: return JsonText(v);
  }
  return "";
}

}  // namespace runbook::expr
