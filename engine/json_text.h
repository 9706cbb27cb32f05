// JSON text for everything runbook writes: the journal's JSON columns, event
// data, `--json` output, exports, request bodies. It is what
// boost::json::serialize writes, except for numbers of kind double: Boost.JSON
// 1.81 writes 0.5 as "5E-1" and 42.5 as "4.25E1", which an on-call engineer
// reads in `runbook show` and a reviewer in an export. Here a double is
// written in plain decimal, the shortest text that reads back as the same
// double ("0.5", "42.5", "0.0001"), with ".0" when it is integral ("3.0", so
// that it still reads back as a double and stays distinct from the integer
// 3), and in exponent form only below 1e-4 or from 1e16 on ("1e-05",
// "1e+16", as Python's repr does). NaN and infinities, which JSON cannot
// express, are written as null.
#pragma once

#include <boost/json/fwd.hpp>
#include <string>
#include <string_view>

namespace runbook {

std::string JsonText(const boost::json::value& v);
std::string JsonText(const boost::json::object& o);
std::string JsonText(const boost::json::array& a);
// Appends the text of `v` to `out`.
void AppendJsonText(std::string& out, const boost::json::value& v);

// A double as JsonText writes it.
std::string JsonNumberText(double d);

// Appends `text` escaped as the inside of a JSON string (no quotes), as
// JsonText escapes strings: for writers that stream one long string in
// pieces (the export's output text).
void AppendJsonStringBody(std::string& out, std::string_view text);

}  // namespace runbook
