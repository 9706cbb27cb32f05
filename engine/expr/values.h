// Helpers over run-time values (private to engine/expr/): their type,
// equality and ordering as the language defines them. Pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "engine/expr/expr.h"

namespace runbook::expr {

// kNull, kBool, kNumber, kString, kList or kObject (never kAny).
Type TypeOf(const boost::json::value& v);

// "a string", "a list", "an object", "null", ...
std::string WithArticle(Type t);

// `==`: false between different types, except that numbers compare by value
// (1 == 1.0); lists and objects compare element by element. Not recursive.
bool ValuesEqual(const boost::json::value& a, const boost::json::value& b);

// Orders two numbers: <0, 0 or >0; nullopt if either is NaN.
// REQUIRES: a.is_number() && b.is_number()
std::optional<int> CompareNumbers(const boost::json::value& a, const boost::json::value& b);

// The number as a double (int64 and uint64 converted).
// REQUIRES: v.is_number()
double ToDouble(const boost::json::value& v);

// Parses a whole decimal number (after trimming blanks): int64 when it is an
// integer that fits, else a double. nullopt if it is not a number.
std::optional<boost::json::value> ParseNumber(std::string_view s);

// ASCII whitespace trimmed from both ends.
std::string_view TrimBlanks(std::string_view s);

}  // namespace runbook::expr
