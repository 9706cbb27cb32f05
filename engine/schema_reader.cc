#include "engine/schema_reader.h"

#include "engine/extract.h"

#include <cmath>

#include "engine/status.h"

namespace runbook::schema {

bool CheckKeys(const Node& node, const std::vector<std::string>& allowed, const std::string& prefix,
               const std::string& noun, Diagnostics& diags) {
  bool ok = true;
  for (size_t i = 0; i < node.keys.size(); ++i) {
    const std::string& k = node.keys[i];
    bool known = false;
    for (const auto& a : allowed) known |= (a == k);
    if (known) continue;
    diags.Error(node.key_locs[i], prefix + "unknown " + noun + " '" + k + "'" + DidYouMean(k, allowed));
    ok = false;
  }
  return ok;
}

void KindError(const Node& node, const std::string& what, const std::string& expected, Diagnostics& diags) {
  diags.Error(node.loc, what + " must be " + expected + ", got " + node.KindName());
}

bool ExpectMapping(const Node& node, const std::string& what, Diagnostics& diags) {
  if (node.IsMapping()) return true;
  KindError(node, what, "a mapping", diags);
  return false;
}

bool ExpectSequence(const Node& node, const std::string& what, Diagnostics& diags) {
  if (node.IsSequence()) return true;
  KindError(node, what, "a list", diags);
  return false;
}

std::optional<std::string> String(const Node& node, const std::string& what, Diagnostics& diags) {
  if (node.IsScalar()) return node.scalar;
  KindError(node, what, "a string", diags);
  return std::nullopt;
}

std::optional<bool> Bool(const Node& node, const std::string& what, Diagnostics& diags) {
  if (auto b = node.AsBool()) return b;
  if (node.IsScalar())
    diags.Error(node.loc, what + " must be true or false, got '" + node.scalar + "'");
  else
    KindError(node, what, "true or false", diags);
  return std::nullopt;
}

std::optional<long long> Int(const Node& node, const std::string& what, Diagnostics& diags,
                             std::optional<long long> min, std::optional<long long> max) {
  auto v = node.AsInt();
  if (!v) {
    if (node.IsScalar())
      diags.Error(node.loc, what + " must be an integer, got '" + node.scalar + "'");
    else
      KindError(node, what, "an integer", diags);
    return std::nullopt;
  }
  if (min && *v < *min) {
    diags.Error(node.loc, what + " must be at least " + std::to_string(*min) + ", got " + std::to_string(*v));
    return std::nullopt;
  }
  if (max && *v > *max) {
    diags.Error(node.loc, what + " must be at most " + std::to_string(*max) + ", got " + std::to_string(*v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> Number(const Node& node, const std::string& what, Diagnostics& diags) {
  if (auto v = node.AsNumber()) return v;
  if (node.IsScalar())
    diags.Error(node.loc, what + " must be a number, got '" + node.scalar + "'");
  else
    KindError(node, what, "a number", diags);
  return std::nullopt;
}

std::optional<Millis> Duration(const Node& node, const std::string& what, Diagnostics& diags) {
  if (!node.IsScalar()) {
    KindError(node, what, "a duration", diags);
    return std::nullopt;
  }
  auto d = ParseDuration(node.scalar);
  if (!d) diags.Error(node.loc, what + ": " + BadDurationMessage(node.scalar));
  return d;
}

std::optional<std::vector<std::string>> StringList(const Node& node, const std::string& what,
                                                   Diagnostics& diags) {
  if (!node.IsSequence()) {
    KindError(node, what, "a list", diags);
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : node.items) {
    if (!item.IsScalar()) {
      KindError(item, what + " entries", "strings", diags);
      ok = false;
      continue;
    }
    out.push_back(item.scalar);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> Enum(const Node& node, const std::string& what,
                                const std::vector<std::string>& choices, Diagnostics& diags) {
  if (!node.IsScalar()) {
    KindError(node, what, "a string", diags);
    return std::nullopt;
  }
  for (const auto& c : choices)
    if (c == node.scalar) return node.scalar;
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) list += (i ? ", " : "") + choices[i];
  diags.Error(node.loc, what + " must be one of " + list + ", got '" + node.scalar + "'" +
                            DidYouMean(node.scalar, choices));
  return std::nullopt;
}

std::optional<Threshold> ParseThreshold(const std::string& text) {
  Threshold t;
  t.source = text;
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  static const char* kOps[] = {">=", "<=", "==", "!=", ">", "<"};
  for (const char* op : kOps) {
    if (text.compare(i, strlen(op), op) == 0) {
      t.op = op;
      i += strlen(op);
      break;
    }
  }
  if (t.op.empty()) return std::nullopt;
  while (i < text.size() && text[i] == ' ') ++i;
  std::string rest = text.substr(i);
  while (!rest.empty() && rest.back() == ' ') rest.pop_back();
  if (rest.empty()) return std::nullopt;
  if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'') {
    if (t.op != "==" && t.op != "!=") return std::nullopt;
    t.text = rest.substr(1, rest.size() - 2);
    return t;
  }
  Node n = Node::Scalar(rest, {}, false);
  auto v = n.AsNumber();
  if (!v) return std::nullopt;
  t.number = *v;
  return t;
}

std::optional<Threshold> ThresholdField(const Node& node, const std::string& what, Diagnostics& diags) {
  if (!node.IsScalar()) {
    KindError(node, what, "a comparison like \"> 80\"", diags);
    return std::nullopt;
  }
  auto t = ParseThreshold(node.scalar);
  if (!t)
    diags.Error(node.loc, what + ": invalid threshold '" + node.scalar +
                              "' (use an operator and a number, e.g. \"> 80\", \">= 0.5\", \"== 0\")");
  return t;
}

namespace {

const std::vector<std::string> kParamKeys = {"type", "required", "default", "description",
                                             "pattern", "values", "min", "max"};
const std::vector<std::string> kParamTypes = {"string", "int", "number", "bool", "enum", "duration"};

ParamType TypeFromName(const std::string& s) {
  if (s == "int") return ParamType::kInt;
  if (s == "number") return ParamType::kNumber;
  if (s == "bool") return ParamType::kBool;
  if (s == "enum") return ParamType::kEnum;
  if (s == "duration") return ParamType::kDuration;
  return ParamType::kString;
}

bool ValidName(const std::string& n) {
  if (n.empty() || !(isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
  for (char c : n)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

}  // namespace

std::vector<ParamSpec> ParamSpecs(const Node& node, const std::string& prefix, Diagnostics& diags) {
  std::vector<ParamSpec> out;
  if (node.IsNull()) return out;
  if (!ExpectMapping(node, prefix.empty() ? "'params'" : prefix + "'inputs'", diags)) return out;
  for (size_t i = 0; i < node.keys.size(); ++i) {
    const Node& d = node.items[i];
    ParamSpec p;
    p.name = node.keys[i];
    p.loc = node.key_locs[i];
    std::string ctx = prefix + "param '" + p.name + "'";
    if (!ValidName(p.name)) {
      diags.Error(p.loc, prefix + "invalid parameter name '" + p.name +
                             "': use letters, digits and '_', starting with a letter");
      continue;
    }
    if (d.IsNull()) {  // `name:` alone: a required string
      p.required = true;
      out.push_back(std::move(p));
      continue;
    }
    if (!d.IsMapping()) {
      KindError(d, ctx, "a mapping like {type: string, default: ...}", diags);
      continue;
    }
    CheckKeys(d, kParamKeys, ctx + ": ", "key", diags);
    if (const Node* t = d.Find("type")) {
      if (auto s = Enum(*t, ctx + ": 'type'", kParamTypes, diags)) p.type = TypeFromName(*s);
    }
    if (const Node* r = d.Find("required")) {
      if (auto b = Bool(*r, ctx + ": 'required'", diags)) p.required = *b;
    }
    if (const Node* s = d.Find("description")) {
      if (auto v = String(*s, ctx + ": 'description'", diags)) p.description = *v;
    }
    if (const Node* s = d.Find("pattern")) {
      if (auto v = String(*s, ctx + ": 'pattern'", diags)) {
        // The bounded engine of extract.h: std::regex recurses per character
        // and a deep pattern or a long value would overflow the stack.
        if (auto groups = RegexGroups(*v); groups.ok()) {
          p.pattern = *v;
        } else {
          diags.Error(s->loc, ctx + ": invalid pattern '" + *v + "': " + groups.status().message());
        }
      }
      if (p.type != ParamType::kString)
        diags.Error(s->loc, ctx + ": 'pattern' applies only to string parameters");
    }
    if (const Node* s = d.Find("values")) {
      if (auto v = StringList(*s, ctx + ": 'values'", diags)) {
        if (v->empty()) diags.Error(s->loc, ctx + ": 'values' must not be empty");
        p.values = *v;
      }
      if (p.type != ParamType::kEnum) diags.Error(s->loc, ctx + ": 'values' applies only to enum parameters");
    } else if (p.type == ParamType::kEnum) {
      diags.Error(p.loc, ctx + ": an enum parameter needs 'values'");
    }
    for (const char* bound : {"min", "max"}) {
      const Node* b = d.Find(bound);
      if (!b) continue;
      std::optional<double> v;
      if (p.type == ParamType::kDuration && b->IsScalar() && ParseDuration(b->scalar)) {
        v = ParseDuration(b->scalar)->count() / 1000.0;
      } else {
        v = Number(*b, ctx + ": '" + bound + "'", diags);
      }
      if (p.type == ParamType::kBool || p.type == ParamType::kEnum)
        diags.Error(b->loc, ctx + ": '" + bound + "' does not apply to " + ParamTypeName(p.type) + " parameters");
      (std::string(bound) == "min" ? p.min : p.max) = v;
    }
    if (p.min && p.max && *p.min > *p.max) diags.Error(d.loc, ctx + ": 'min' is greater than 'max'");
    if (const Node* def = d.Find("default")) {
      if (auto v = ParamValueFromNode(p, *def, ctx + ": default", diags)) {
        std::string why = CheckParamValue(p, *v);
        if (!why.empty())
          diags.Error(def->loc, ctx + ": default " + why);
        else
          p.default_value = std::move(*v);
      }
      if (p.required) diags.Error(def->loc, ctx + ": a required parameter cannot have a default");
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<boost::json::value> ParamValueFromNode(const ParamSpec& p, const Node& node,
                                                     const std::string& what, Diagnostics& diags) {
  if (!node.IsScalar()) {
    KindError(node, what, std::string("a ") + ParamTypeName(p.type) + " value", diags);
    return std::nullopt;
  }
  if (!node.quoted || p.type == ParamType::kString || p.type == ParamType::kEnum ||
      p.type == ParamType::kDuration) {
    auto r = ParamValueFromString(p, node.scalar);
    if (r.ok()) return std::move(r.value());
    diags.Error(node.loc, what + " " + r.status().message());
    return std::nullopt;
  }
  diags.Error(node.loc, what + " must be " + (p.type == ParamType::kInt ? "an int" : std::string("a ") + ParamTypeName(p.type)) +
                            ", got a quoted string");
  return std::nullopt;
}

Result<boost::json::value> ParamValueFromString(const ParamSpec& p, const std::string& text) {
  Node n = Node::Scalar(text, {}, false);
  switch (p.type) {
    case ParamType::kString:
    case ParamType::kEnum:
      return boost::json::value(boost::json::string(text));
    case ParamType::kInt:
      if (auto v = n.AsInt()) return boost::json::value(*v);
      return Status::InvalidArgument("must be an int, got '" + text + "'");
    case ParamType::kNumber:
      if (auto v = n.AsInt()) return boost::json::value(*v);
      if (auto v = n.AsNumber()) return boost::json::value(*v);
      return Status::InvalidArgument("must be a number, got '" + text + "'");
    case ParamType::kBool:
      if (auto v = n.AsBool()) return boost::json::value(*v);
      return Status::InvalidArgument("must be true or false, got '" + text + "'");
    case ParamType::kDuration:
      if (ParseDuration(text)) return boost::json::value(boost::json::string(text));
      return Status::InvalidArgument("must be a duration: " + BadDurationMessage(text));
  }
  return Status::Internal("unreachable");
}

std::string CheckParamValue(const ParamSpec& p, const boost::json::value& v) {
  auto fmt = [](double d) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", d);
    return std::string(buf);
  };
  switch (p.type) {
    case ParamType::kString: {
      const auto* s = v.if_string();
      if (!s) return "must be a string";
      std::string str(s->c_str(), s->size());
      if (p.pattern) {
        auto matched = RegexFullMatch(*p.pattern, str);
        if (!matched.ok()) return "value cannot be checked against pattern '" + *p.pattern + "': " + matched.status().message();
        if (!*matched) return "value '" + str + "' does not match pattern '" + *p.pattern + "'";
      }
      if (p.min && static_cast<double>(str.size()) < *p.min)
        return "value '" + str + "' is shorter than " + fmt(*p.min) + " characters";
      if (p.max && static_cast<double>(str.size()) > *p.max)
        return "value '" + str + "' is longer than " + fmt(*p.max) + " characters";
      return "";
    }
    case ParamType::kEnum: {
      const auto* s = v.if_string();
      if (!s) return "must be a string";
      std::string str(s->c_str(), s->size());
      for (const auto& c : p.values)
        if (c == str) return "";
      std::string list;
      for (size_t i = 0; i < p.values.size(); ++i) list += (i ? ", " : "") + p.values[i];
      return "value '" + str + "' is not one of " + list + DidYouMean(str, p.values);
    }
    case ParamType::kInt:
    case ParamType::kNumber:
    case ParamType::kDuration: {
      double d;
      if (p.type == ParamType::kDuration) {
        const auto* s = v.if_string();
        auto ms = s ? ParseDuration(std::string(s->c_str(), s->size())) : std::nullopt;
        if (!ms) return "must be a duration";
        d = ms->count() / 1000.0;
      } else if (v.is_int64()) {
        d = static_cast<double>(v.get_int64());
      } else if (v.is_double() && p.type == ParamType::kNumber) {
        d = v.get_double();
      } else {
        return std::string("must be ") + (p.type == ParamType::kInt ? "an int" : "a number");
      }
      std::string shown = p.type == ParamType::kDuration ? std::string(v.get_string().c_str()) : fmt(d);
      if (p.min && d < *p.min) return "value " + shown + " is below the minimum " + fmt(*p.min);
      if (p.max && d > *p.max) return "value " + shown + " is above the maximum " + fmt(*p.max);
      return "";
    }
    case ParamType::kBool:
      return v.is_bool() ? "" : "must be true or false";
  }
  return "";
}

}  // namespace runbook::schema
