#include "engine/extract.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <regex>

#include "engine/node.h"

namespace runbook {

namespace {
std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}
}  // namespace

Result<boost::json::value> ConvertOutput(const std::string& name, OutputType type, const boost::json::value& v) {
  std::string prefix = "output '" + name + "': ";
  std::string text = v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
  switch (type) {
    case OutputType::kString:
      return boost::json::value(boost::json::string(v.is_string() ? std::string(v.get_string()) : text));
    case OutputType::kJson:
      if (!v.is_string()) return v;
      {
        boost::system::error_code ec;
        auto parsed = boost::json::parse(text, ec);
        if (ec) return Status::InvalidArgument(prefix + "not valid JSON: " + ec.message());
        return parsed;
      }
    case OutputType::kNumber:
    case OutputType::kInt: {
      if (v.is_int64() || v.is_uint64() || v.is_double()) {
        double d = v.is_double() ? v.get_double() : v.is_int64() ? static_cast<double>(v.get_int64())
                                                                  : static_cast<double>(v.get_uint64());
        if (type == OutputType::kInt) return boost::json::value(static_cast<long long>(std::trunc(d)));
        return v;
      }
      Node n = Node::Scalar(Trim(text), {}, false);
      if (type == OutputType::kInt) {
        if (auto i = n.AsInt()) return boost::json::value(*i);
      } else {
        if (auto i = n.AsInt()) return boost::json::value(*i);
        if (auto d = n.AsNumber()) return boost::json::value(*d);
      }
      return Status::InvalidArgument(prefix + "'" + text + "' is not " + (type == OutputType::kInt ? "an integer" : "a number"));
    }
    case OutputType::kBool: {
      if (v.is_bool()) return v;
      std::string t = Trim(text);
      if (t == "true" || t == "1" || t == "yes") return boost::json::value(true);
      if (t == "false" || t == "0" || t == "no" || t.empty()) return boost::json::value(false);
      return Status::InvalidArgument(prefix + "'" + text + "' is not a boolean");
    }
  }
  return Status::Internal("unreachable");
}

Result<boost::json::value> ExtractOutput(const OutputRule& rule, std::string_view text) {
  std::string prefix = "output '" + rule.name + "': ";
  boost::json::value raw = boost::json::string(text);
  if (rule.regex) {
    std::regex re(*rule.regex, std::regex::ECMAScript);
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(text.begin(), text.end(), m, re) || !m[rule.group].matched) {
      if (rule.default_value) return *rule.default_value;
      return Status::NotFound(prefix + "regex '" + *rule.regex + "' did not match " + rule.from);
    }
    raw = boost::json::string(m[rule.group].str());
  }
  if (rule.json_pointer) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(raw.get_string(), ec);
    if (ec) {
      if (rule.default_value) return *rule.default_value;
      return Status::InvalidArgument(prefix + rule.from + " is not valid JSON (" + ec.message() + ")");
    }
    const boost::json::value* found = rule.json_pointer->empty() ? &doc : doc.find_pointer(*rule.json_pointer, ec);
    if (!found || ec) {
      if (rule.default_value) return *rule.default_value;
      return Status::NotFound(prefix + "JSON pointer '" + *rule.json_pointer + "' not found in " + rule.from);
    }
    boost::json::value v = *found;
    if (rule.type == OutputType::kJson) return v;
    return ConvertOutput(rule.name, rule.type, v);
  }
  return ConvertOutput(rule.name, rule.type, raw);
}

}  // namespace runbook
