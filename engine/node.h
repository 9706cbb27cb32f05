// Node: a YAML document as a plain tree whose every value and key carries its
// source location.
//
// The loader turns libyaml's event stream into Nodes (yaml_reader.h) so that
// no other file depends on the YAML parser, every error can point at a line and
// column, and alias expansion and nesting depth are bounded. Scalars keep
// their text and whether they were quoted; the schema that reads a node
// decides how to interpret the text (YAML 1.2 core schema by default).
// Plain value type, no shared state.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/diagnostics.h"

namespace runbook {

struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMapping };

  Kind kind = Kind::kNull;
  SourceLoc loc;
  std::string scalar;   // kScalar: the text as written (unescaped)
  bool quoted = false;  // kScalar: single- or double-quoted, or block scalar
  std::vector<Node> items;                 // kSequence
  std::vector<std::string> keys;           // kMapping, parallel to items
  std::vector<SourceLoc> key_locs;         // kMapping, parallel to items

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMapping() const { return kind == Kind::kMapping; }
  size_t size() const { return items.size(); }

  // kMapping: the value for `key`, or nullptr.
  const Node* Find(const std::string& key) const;
  // kMapping: location of `key`'s key, or this node's location.
  const SourceLoc& KeyLoc(const std::string& key) const;

  // Kind name for messages: "a mapping", "a list", "a string", "null".
  std::string KindName() const;

  // Core-schema interpretation of a plain scalar.
  bool IsPlainNull() const;                  // "", ~, null
  std::optional<bool> AsBool() const;        // true/false (plain only)
  std::optional<long long> AsInt() const;    // decimal integer (plain only)
  std::optional<double> AsNumber() const;    // int or float (plain only)

  // The node as JSON with the YAML 1.2 core schema: plain scalars become
  // null/bool/number where they spell one, everything else a string.
  boost::json::value ToJson() const;

  static Node Scalar(std::string text, SourceLoc loc, bool quoted = true);
};

}  // namespace runbook
