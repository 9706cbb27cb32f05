#include "engine/extract.h"

// Gives up on a pathological match after at most this many matcher states
// (about 0.3 s in a Release build, 2 s in Debug) instead of Boost's default
// 100,000,000; linear scans of big texts are bounded by a separate, larger
// allowance (text length x pattern size squared), so they are not affected.
// No other translation unit includes Boost.Regex.
#define BOOST_REGEX_MAX_STATE_COUNT 10000000
#include <boost/json/parse.hpp>
#include <boost/regex.hpp>
#include <cmath>
#include <cstdint>

#include "engine/json_text.h"
#include "engine/node.h"

namespace runbook {

namespace {
std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// ECMAScript as std::regex reads it: `.` never matches a line end and `^`/`$`
// anchor the text, not its lines (Boost's Perl defaults differ on both).
constexpr auto kRegexFlags = boost::regex::ECMAScript | boost::regex::no_mod_s | boost::regex::no_mod_m;

// The first sentence of a Boost.Regex message, without its trailing period.
std::string FirstSentence(std::string_view what) {
  size_t end = what.find(".  ");
  if (end == std::string_view::npos) end = what.size();
  std::string s(what.substr(0, end));
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<boost::regex> CompileRegex(std::string_view pattern) {
  // Boost 1.81's parser reads one character past the end of a pattern that
  // ends inside a bracket range (`[0+-)`: basic_regex_parser.hpp:1610, found
  // by extract_fuzz). A std::string's terminating NUL makes that read harmless.
  const std::string terminated(pattern);
  try {
    return boost::regex(terminated.data(), terminated.data() + terminated.size(), kRegexFlags);
  } catch (const boost::regex_error& e) {
    return Status::InvalidArgument(FirstSentence(e.what()) + " at offset " + std::to_string(e.position()));
  } catch (const std::exception& e) {  // std::bad_alloc for an enormous pattern
    return Status::InvalidArgument(FirstSentence(e.what()));
  }
}
}  // namespace

Result<size_t> RegexGroups(std::string_view pattern) {
  auto re = CompileRegex(pattern);
  if (!re.ok()) return re.status();
  return static_cast<size_t>(re->mark_count());
}

Result<bool> RegexFullMatch(std::string_view pattern, std::string_view text) {
  auto re = CompileRegex(pattern);
  if (!re.ok()) return re.status();
  try {
    return boost::regex_match(text.begin(), text.end(), *re);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("regex '" + std::string(pattern) + "' gave up on " + std::to_string(text.size()) +
                                   " bytes: " + FirstSentence(e.what()));
  }
}

Result<boost::json::value> ConvertOutput(const std::string& name, OutputType type, const boost::json::value& v) {
  std::string prefix = "output '" + name + "': ";
  std::string text = v.is_string() ? std::string(v.get_string()) : JsonText(v);
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
        if (type == OutputType::kNumber || v.is_int64()) return v;
        // An int must fit in 64 signed bits; 2^63 is exact as a double.
        double d = v.is_double() ? std::trunc(v.get_double()) : static_cast<double>(v.get_uint64());
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
          return Status::InvalidArgument(prefix + "'" + text + "' is out of range for an integer");
        if (v.is_uint64()) return boost::json::value(static_cast<std::int64_t>(v.get_uint64()));
        return boost::json::value(static_cast<long long>(d));
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
    auto re = CompileRegex(*rule.regex);
    if (!re.ok())
      return Status::InvalidArgument(prefix + "invalid regex '" + *rule.regex + "': " + re.status().message());
    boost::match_results<std::string_view::const_iterator> m;
    bool found = false;
    try {
      found = boost::regex_search(text.begin(), text.end(), m, *re);
    } catch (const std::exception& e) {  // the complexity or memory bound (std::runtime_error), bad_alloc
      return Status::InvalidArgument(prefix + "regex '" + *rule.regex + "' gave up on " + std::to_string(text.size()) +
                                     " bytes of " + rule.from + ": " + FirstSentence(e.what()));
    }
    if (!found || rule.group < 0 || static_cast<size_t>(rule.group) >= m.size() || !m[rule.group].matched) {
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
