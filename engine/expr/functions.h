// The built-in functions (private to engine/expr/): one table used by the
// checker (arity, argument and result types) and the evaluator (the
// implementations). Stateless; safe from any thread.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/expr/expr.h"
#include "engine/status.h"

namespace runbook::expr {

// A set of Types as bits (1u << int(Type)).
using TypeMask = unsigned;
constexpr TypeMask Bit(Type t) { return 1u << static_cast<unsigned>(t); }
inline constexpr TypeMask kAnyType = 0x7f;

inline constexpr int kMaxFunctionArgs = 3;

struct FunctionSpec {
  std::string_view name;
  int min_args = 0;
  int max_args = 0;
  Type result = Type::kAny;
  TypeMask args[kMaxFunctionArgs] = {kAnyType, kAnyType, kAnyType};
  bool status = false;  // success(), failure(), always(), cancelled()
  // REQUIRES: min_args <= n <= max_args and arguments of the allowed types.
  // Null for the status functions (the Context evaluates them).
  Result<boost::json::value> (*impl)(const boost::json::value* args, int n) = nullptr;
};

// The function called `name`, or null.
const FunctionSpec* FindFunction(std::string_view name);
// "unknown function 'lenght' (did you mean 'length'?)"
std::string UnknownFunctionMessage(std::string_view name);

// Arity and argument types; kAny passes. Messages:
//   "length() takes 1 argument, got 2"
//   "argument 1 of trim() must be a string, got number"
Status CheckArity(const FunctionSpec& f, int n);
Status CheckArgTypes(const FunctionSpec& f, const Type* types, int n);

// format_time(t, fmt [, tz]) and its helpers, in time_format.cc.
Result<boost::json::value> FormatTime(const boost::json::value* args, int n);
// Whether `tz` names a zone format_time() accepts ("UTC", "local", IANA).
bool IsKnownTimeZone(std::string_view tz);

// `s` in single quotes, shortened when long: 'abc...'.
std::string QuoteValue(std::string_view s);

}  // namespace runbook::expr
