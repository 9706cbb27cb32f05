#include "engine/node.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace runbook {

const Node* Node::Find(const std::string& key) const {
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &items[i];
  return nullptr;
}

const SourceLoc& Node::KeyLoc(const std::string& key) const {
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return key_locs[i];
  return loc;
}

std::string Node::KindName() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kSequence: return "a list";
    case Kind::kMapping: return "a mapping";
    case Kind::kScalar:
      if (!quoted) {
        if (AsBool()) return "a boolean";
        if (AsNumber()) return "a number";
      }
      return "a string";
  }
  return "a value";
}

bool Node::IsPlainNull() const {
  if (kind == Kind::kNull) return true;
  if (kind != Kind::kScalar || quoted) return false;
  return scalar.empty() || scalar == "~" || scalar == "null" || scalar == "Null" || scalar == "NULL";
}

std::optional<bool> Node::AsBool() const {
  if (kind != Kind::kScalar || quoted) return std::nullopt;
  if (scalar == "true" || scalar == "True" || scalar == "TRUE") return true;
  if (scalar == "false" || scalar == "False" || scalar == "FALSE") return false;
  return std::nullopt;
}

std::optional<long long> Node::AsInt() const {
  if (kind != Kind::kScalar || quoted || scalar.empty()) return std::nullopt;
  const char* b = scalar.data();
  const char* e = b + scalar.size();
  if (*b == '+') ++b;
  long long v = 0;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e) return std::nullopt;
  return v;
}

std::optional<double> Node::AsNumber() const {
  if (auto i = AsInt()) return static_cast<double>(*i);
  if (kind != Kind::kScalar || quoted || scalar.empty()) return std::nullopt;
  // YAML 1.2 core float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  const std::string& s = scalar;
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  size_t digits = 0;
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t ed = 0;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++ed;
    if (ed == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double v = std::strtod(s.c_str(), nullptr);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

boost::json::value Node::ToJson() const {
  switch (kind) {
    case Kind::kNull: return nullptr;
    case Kind::kScalar:
      if (!quoted) {
        if (IsPlainNull()) return nullptr;
        if (auto b = AsBool()) return *b;
        if (auto i = AsInt()) return *i;
        if (auto d = AsNumber()) return *d;
      }
      return boost::json::string(scalar);
    case Kind::kSequence: {
      boost::json::array a;
      a.reserve(items.size());
      for (const auto& n : items) a.push_back(n.ToJson());
      return a;
    }
    case Kind::kMapping: {
      boost::json::object o;
      for (size_t i = 0; i < items.size(); ++i) o[keys[i]] = items[i].ToJson();
      return o;
    }
  }
  return nullptr;
}

Node Node::Scalar(std::string text, SourceLoc loc, bool quoted) {
  Node n;
  n.kind = Kind::kScalar;
  n.scalar = std::move(text);
  n.loc = std::move(loc);
  n.quoted = quoted;
  return n;
}

}  // namespace runbook
