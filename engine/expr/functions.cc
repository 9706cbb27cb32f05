#include "engine/expr/functions.h"

#include <boost/json/parser.hpp>
#include <cmath>

#include "engine/diagnostics.h"
#include "engine/expr/values.h"
#include "engine/json_text.h"

namespace runbook::expr {

namespace {

using boost::json::value;

constexpr TypeMask kStr = Bit(Type::kString);
constexpr TypeMask kNum = Bit(Type::kNumber);
constexpr TypeMask kList = Bit(Type::kList);
constexpr TypeMask kObj = Bit(Type::kObject);
constexpr TypeMask kBool = Bit(Type::kBool);

std::string Fn(const FunctionSpec* f);

Result<value> Contains(const value* a, int) {
  if (const auto* s = a[0].if_string()) {
    const auto* needle = a[1].if_string();
    if (!needle) return Status::InvalidArgument("argument 2 of contains() must be a string, got " +
                                                std::string(TypeName(TypeOf(a[1]))));
    return value(std::string_view(*s).find(std::string_view(*needle)) != std::string_view::npos);
  }
  for (const auto& item : a[0].get_array())
    if (ValuesEqual(item, a[1])) return value(true);
  return value(false);
}

Result<value> StartsWith(const value* a, int) {
  return value(std::string_view(a[0].get_string()).starts_with(std::string_view(a[1].get_string())));
}

Result<value> EndsWith(const value* a, int) {
  return value(std::string_view(a[0].get_string()).ends_with(std::string_view(a[1].get_string())));
}

// A number from a number, a numeric string or a bool; `who` names the caller.
Result<value> ToNumber(const value& v, const char* who) {
  if (v.is_number()) return v;
  if (const auto* b = v.if_bool()) return value(std::int64_t{*b ? 1 : 0});
  if (const auto* s = v.if_string()) {
    if (auto n = ParseNumber(*s)) return std::move(*n);
    return Status::InvalidArgument(std::string(who) + " cannot convert " + QuoteValue(*s) + " to a number");
  }
  return Status::InvalidArgument(std::string(who) + " cannot convert " + WithArticle(TypeOf(v)) +
                                 " to a number");
}

Result<value> Int(const value* a, int) {
  auto n = ToNumber(a[0], "int()");
  if (!n.ok() || !n->is_double()) return n;
  double d = std::trunc(n->get_double());
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
    return Status::InvalidArgument("int() cannot convert " + ToDisplayString(*n) + ": out of range");
  return value(static_cast<std::int64_t>(d));
}

Result<value> Number(const value* a, int) { return ToNumber(a[0], "number()"); }

Result<value> String(const value* a, int) { return value(ToDisplayString(a[0])); }

Result<value> Trim(const value* a, int) { return value(TrimBlanks(a[0].get_string())); }

Result<value> Lines(const value* a, int) {
  std::string_view s = a[0].get_string();
  boost::json::array out;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.emplace_back(line);
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return value(std::move(out));
}

Result<value> Json(const value* a, int) {
  std::string_view s = a[0].get_string();
  boost::json::parse_options opts;
  opts.max_depth = 64;
  boost::json::parser p(boost::json::storage_ptr(), opts);
  boost::system::error_code ec;
  size_t n = p.write(s.data(), s.size(), ec);
  if (ec) {
    // On error `n` stops where parsing failed.
    return Status::InvalidArgument("json() got invalid JSON at offset " + std::to_string(n) + ": " +
                                   ec.message());
  }
  return p.release();
}

Result<value> Length(const value* a, int) {
  std::size_t n = 0;
  if (const auto* s = a[0].if_string()) n = s->size();
  if (const auto* l = a[0].if_array()) n = l->size();
  if (const auto* o = a[0].if_object()) n = o->size();
  return value(static_cast<std::int64_t>(n));
}

Result<value> Join(const value* a, int) {
  std::string out;
  std::string_view sep = a[1].get_string();
  bool first = true;
  for (const auto& item : a[0].get_array()) {
    if (!first) out += sep;
    first = false;
    out += ToDisplayString(item);
  }
  return value(std::move(out));
}

Result<value> ToJson(const value* a, int) { return value(JsonText(a[0])); }

const FunctionSpec kFunctions[] = {
    {"always", 0, 0, Type::kBool, {}, true, nullptr},
    {"cancelled", 0, 0, Type::kBool, {}, true, nullptr},
    {"contains", 2, 2, Type::kBool, {kStr | kList, kAnyType}, false, Contains},
    {"ends_with", 2, 2, Type::kBool, {kStr, kStr}, false, EndsWith},
    {"failure", 0, 0, Type::kBool, {}, true, nullptr},
    {"format_time", 2, 3, Type::kString, {kStr | kNum, kStr, kStr}, false, FormatTime},
    {"int", 1, 1, Type::kNumber, {kNum | kStr | kBool}, false, Int},
    {"join", 2, 2, Type::kString, {kList, kStr}, false, Join},
    {"json", 1, 1, Type::kAny, {kStr}, false, Json},
    {"length", 1, 1, Type::kNumber, {kStr | kList | kObj}, false, Length},
    {"lines", 1, 1, Type::kList, {kStr}, false, Lines},
    {"number", 1, 1, Type::kNumber, {kNum | kStr | kBool}, false, Number},
    {"starts_with", 2, 2, Type::kBool, {kStr, kStr}, false, StartsWith},
    {"string", 1, 1, Type::kString, {kAnyType}, false, String},
    {"success", 0, 0, Type::kBool, {}, true, nullptr},
    {"to_json", 1, 1, Type::kString, {kAnyType}, false, ToJson},
    {"trim", 1, 1, Type::kString, {kStr}, false, Trim},
};

std::string Fn(const FunctionSpec* f) { return std::string(f->name) + "()"; }

// "a string", "a string or a list", "a number, a string or a bool".
std::string DescribeMask(TypeMask m) {
  std::vector<std::string> names;
  for (Type t : {Type::kNumber, Type::kString, Type::kBool, Type::kList, Type::kObject, Type::kNull})
    if (m & Bit(t)) names.push_back(WithArticle(t));
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

const FunctionSpec* FindFunction(std::string_view name) {
  for (const auto& f : kFunctions)
    if (f.name == name) return &f;
  return nullptr;
}

std::string UnknownFunctionMessage(std::string_view name) {
  std::vector<std::string> names;
  for (const auto& f : kFunctions) names.emplace_back(f.name);
  return "unknown function '" + std::string(name) + "'" + DidYouMean(std::string(name), names);
}

Status CheckArity(const FunctionSpec& f, int n) {
  if (n >= f.min_args && n <= f.max_args) return Status::Ok();
  std::string takes;
  if (f.max_args == 0) {
    takes = "takes no arguments";
  } else if (f.min_args == f.max_args) {
    takes = "takes " + std::to_string(f.min_args) + (f.min_args == 1 ? " argument" : " arguments");
  } else {
    takes = "takes " + std::to_string(f.min_args) + " or " + std::to_string(f.max_args) + " arguments";
  }
  return Status::InvalidArgument(Fn(&f) + " " + takes + ", got " + std::to_string(n));
}

Status CheckArgTypes(const FunctionSpec& f, const Type* types, int n) {
  for (int i = 0; i < n && i < kMaxFunctionArgs; ++i) {
    if (types[i] == Type::kAny || (f.args[i] & Bit(types[i]))) continue;
    return Status::InvalidArgument("argument " + std::to_string(i + 1) + " of " + Fn(&f) + " must be " +
                                   DescribeMask(f.args[i]) + ", got " + TypeName(types[i]));
  }
  // contains('text', x) looks for a substring: x must be a string too.
  if (f.name == "contains" && n == 2 && types[0] == Type::kString && types[1] != Type::kAny &&
      types[1] != Type::kString)
    return Status::InvalidArgument("argument 2 of contains() must be a string, got " +
                                   std::string(TypeName(types[1])));
  return Status::Ok();
}

std::string QuoteValue(std::string_view s) {
  constexpr size_t kMax = 40;
  // (std::string("'") first: g++ 12 warns falsely on "'" + std::string&&.)
  if (s.size() > kMax) return std::string("'").append(s.substr(0, kMax - 3)).append("...'");
  return std::string("'").append(s).append("'");
}

}  // namespace runbook::expr
