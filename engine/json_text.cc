#include "engine/json_text.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <string_view>

namespace runbook {
namespace {

void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  const double a = std::fabs(d);
  const bool plain = a == 0 || (a >= 1e-4 && a < 1e16);
  auto r = plain ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                 : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
  out += text;
  if (plain && text.find('.') == std::string_view::npos) out += ".0";
}

void AppendString(std::string& out, std::string_view s) {
  out += '"';
  AppendJsonStringBody(out, s);
  out += '"';
}

void AppendObject(std::string& out, const boost::json::object& o) {
  out += '{';
  bool first = true;
  for (const auto& kv : o) {
    if (!first) out += ',';
    first = false;
    AppendString(out, std::string_view(kv.key().data(), kv.key().size()));
    out += ':';
    AppendJsonText(out, kv.value());
  }
  out += '}';
}

void AppendArray(std::string& out, const boost::json::array& a) {
  out += '[';
  bool first = true;
  for (const auto& v : a) {
    if (!first) out += ',';
    first = false;
    AppendJsonText(out, v);
  }
  out += ']';
}

}  // namespace

void AppendJsonText(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: out += std::to_string(v.get_int64()); return;
    case boost::json::kind::uint64: out += std::to_string(v.get_uint64()); return;
    case boost::json::kind::double_: AppendDouble(out, v.get_double()); return;
    case boost::json::kind::string: AppendString(out, std::string_view(v.get_string().data(), v.get_string().size())); return;
    case boost::json::kind::array: AppendArray(out, v.get_array()); return;
    case boost::json::kind::object: AppendObject(out, v.get_object()); return;
  }
}

std::string JsonText(const boost::json::value& v) {
  std::string out;
  AppendJsonText(out, v);
  return out;
}

std::string JsonText(const boost::json::object& o) {
  std::string out;
  AppendObject(out, o);
  return out;
}

std::string JsonText(const boost::json::array& a) {
  std::string out;
  AppendArray(out, a);
  return out;
}

// Escaped as Boost.JSON escapes: the quote, the backslash and the control
// characters U+0000 to U+001F (\b \t \n \f \r, else \u00XX); everything
// else, UTF-8 included, as it is.
void AppendJsonStringBody(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run = 0;  // start of the stretch that needs no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
}

std::string JsonNumberText(double d) {
  std::string out;
  AppendDouble(out, d);
  return out;
}

}  // namespace runbook
