#include "engine/yaml_reader.h"

#include <yaml.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <new>
#include <unordered_map>

namespace runbook {
namespace {

// Thrown inside the handler to stop parsing at a limit; caught in ReadYaml.
struct LimitHit {
  SourceLoc loc;
  std::string message;
};

// Builds the Node tree from libyaml's events (yaml.h), one Handle() per event.
class TreeBuilder {
 public:
  TreeBuilder(std::shared_ptr<const std::string> file, const YamlLimits& limits)
      : file_(std::move(file)), limits_(limits) {}

  std::optional<Node> result;

  void Handle(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_SCALAR_EVENT:
        OnScalar(e);
        break;
      case YAML_ALIAS_EVENT:
        OnAlias(e.start_mark, Name(e.data.alias.anchor));
        break;
      case YAML_SEQUENCE_START_EVENT:
        Open(e.start_mark, Node::Kind::kSequence, Name(e.data.sequence_start.anchor));
        break;
      case YAML_MAPPING_START_EVENT:
        Open(e.start_mark, Node::Kind::kMapping, Name(e.data.mapping_start.anchor));
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        Close();
        break;
      default:  // stream and document boundaries
        break;
    }
  }

 private:
  SourceLoc Loc(const yaml_mark_t& m) const {
    return SourceLoc{file_, static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1};
  }

  static std::string Name(const yaml_char_t* anchor) {
    return anchor ? std::string(reinterpret_cast<const char*>(anchor)) : std::string();
  }

  // A plain scalar with no tag is null when it is empty, `~` or `null`
  // (YAML 1.2 core schema); any other scalar keeps its text and whether it
  // was quoted (single, double, or a block scalar) or tagged `!` or `!!str`.
  void OnScalar(const yaml_event_t& e) {
    const auto& s = e.data.scalar;
    Count(e.start_mark, 1);
    std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
    std::string_view tag = s.tag ? std::string_view(reinterpret_cast<const char*>(s.tag)) : std::string_view();
    bool quoted = s.style != YAML_PLAIN_SCALAR_STYLE;
    if (!tag.empty()) {
      if (tag != "!" && tag != "tag:yaml.org,2002:str")
        throw LimitHit{Loc(e.start_mark), "unsupported YAML tag '" + std::string(tag) + "'"};
      quoted = true;
    }
    if (!quoted && (value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")) {
      Node n;
      n.kind = Node::Kind::kNull;
      n.loc = Loc(e.start_mark);
      Complete(std::move(n), Name(s.anchor));
      return;
    }
    Complete(Node::Scalar(std::string(value), Loc(e.start_mark), quoted), Name(s.anchor));
  }

  void OnAlias(const yaml_mark_t& mark, const std::string& anchor) {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw LimitHit{Loc(mark), "unknown YAML alias '*" + anchor + "'"};
    size_t count = CountNodes(it->second);
    alias_nodes_ += count;
    if (alias_nodes_ > limits_.max_alias_nodes)
      throw LimitHit{Loc(mark), "YAML alias expansion exceeds " + std::to_string(limits_.max_alias_nodes) +
                                    " nodes (an alias bomb?)"};
    Count(mark, count);
    Node copy = it->second;
    Complete(std::move(copy), std::string());
  }

  // An open sequence or mapping. Its children so far are items_[first_item..]
  // (and keys_/key_locs_[first_key..]); Close moves them into the node, so
  // that every node's vectors are allocated once, at their final size.
  struct Frame {
    Node node;
    std::string anchor;
    bool have_key = false;
    std::string key;
    SourceLoc key_loc;
    size_t first_item = 0;
    size_t first_key = 0;
  };

  void Count(const yaml_mark_t& mark, size_t n) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes)
      throw LimitHit{Loc(mark), "YAML document has more than " + std::to_string(limits_.max_nodes) + " nodes"};
  }

  static size_t CountNodes(const Node& n) {
    size_t c = 1;
    for (const auto& i : n.items) c += CountNodes(i);
    return c;
  }

  void Open(const yaml_mark_t& mark, Node::Kind kind, std::string anchor) {
    Count(mark, 1);
    if (static_cast<int>(stack_.size()) >= limits_.max_depth)
      throw LimitHit{Loc(mark), "YAML nesting deeper than " + std::to_string(limits_.max_depth) + " levels"};
    Frame f;
    f.node.kind = kind;
    f.node.loc = Loc(mark);
    f.anchor = std::move(anchor);
    f.first_item = items_.size();
    f.first_key = keys_.size();
    stack_.push_back(std::move(f));
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Node& node = f.node;
    node.items.assign(std::make_move_iterator(items_.begin() + f.first_item),
                      std::make_move_iterator(items_.end()));
    items_.erase(items_.begin() + f.first_item, items_.end());
    if (node.kind == Node::Kind::kMapping) {
      node.keys.assign(std::make_move_iterator(keys_.begin() + f.first_key),
                       std::make_move_iterator(keys_.end()));
      node.key_locs.assign(std::make_move_iterator(key_locs_.begin() + f.first_key),
                           std::make_move_iterator(key_locs_.end()));
      keys_.erase(keys_.begin() + f.first_key, keys_.end());
      key_locs_.erase(key_locs_.begin() + f.first_key, key_locs_.end());
      ApplyMerges(node);
    }
    Complete(std::move(node), f.anchor);
  }

  void Complete(Node n, const std::string& anchor) {
    if (!anchor.empty()) anchors_[anchor] = n;
    if (stack_.empty()) {
      if (result) throw LimitHit{n.loc, "more than one YAML document in the file"};
      result = std::move(n);
      return;
    }
    Frame& top = stack_.back();
    if (top.node.kind == Node::Kind::kSequence) {
      items_.push_back(std::move(n));
      return;
    }
    if (!top.have_key) {
      if (n.kind == Node::Kind::kNull) {
        top.key.clear();
      } else if (n.kind != Node::Kind::kScalar) {
        throw LimitHit{n.loc, "mapping keys must be plain strings"};
      } else {
        top.key = n.scalar;
      }
      top.key_loc = n.loc;
      top.have_key = true;
      return;
    }
    top.have_key = false;
    for (size_t i = top.first_key; i < keys_.size(); ++i) {
      if (keys_[i] == top.key && top.key != "<<")
        throw LimitHit{top.key_loc, "duplicate key '" + top.key + "' (first at line " +
                                        std::to_string(key_locs_[i].line) + ")"};
    }
    keys_.push_back(std::move(top.key));
    key_locs_.push_back(top.key_loc);
    items_.push_back(std::move(n));
  }

  // `<<: *base` or `<<: [*a, *b]`: copy keys not already present.
  void ApplyMerges(Node& map) {
    bool any = false;
    for (const auto& k : map.keys) any |= (k == "<<");
    if (!any) return;
    Node out;
    out.kind = Node::Kind::kMapping;
    out.loc = map.loc;
    std::vector<const Node*> sources;
    for (size_t i = 0; i < map.keys.size(); ++i) {
      if (map.keys[i] == "<<") {
        const Node& v = map.items[i];
        if (v.kind == Node::Kind::kMapping) {
          sources.push_back(&v);
        } else if (v.kind == Node::Kind::kSequence) {
          for (const auto& s : v.items) {
            if (s.kind != Node::Kind::kMapping) throw LimitHit{s.loc, "merge key '<<' needs a mapping"};
            sources.push_back(&s);
          }
        } else {
          throw LimitHit{v.loc, "merge key '<<' needs a mapping"};
        }
        continue;
      }
      out.keys.push_back(map.keys[i]);
      out.key_locs.push_back(map.key_locs[i]);
      out.items.push_back(std::move(map.items[i]));
    }
    for (const Node* s : sources) {
      for (size_t i = 0; i < s->keys.size(); ++i) {
        if (out.Find(s->keys[i])) continue;
        out.keys.push_back(s->keys[i]);
        out.key_locs.push_back(s->key_locs[i]);
        out.items.push_back(s->items[i]);
      }
    }
    map = std::move(out);
  }

  std::shared_ptr<const std::string> file_;
  YamlLimits limits_;
  std::vector<Frame> stack_;
  // The children of every open frame, innermost frame's last.
  std::vector<Node> items_;
  std::vector<std::string> keys_;
  std::vector<SourceLoc> key_locs_;
  std::unordered_map<std::string, Node> anchors_;  // by name; a later anchor replaces
  size_t nodes_ = 0;
  size_t alias_nodes_ = 0;
};

// libyaml's parser and its current event, freed on every path out.
class Parser {
 public:
  explicit Parser(std::string_view text) {
    if (!yaml_parser_initialize(&parser_)) throw std::bad_alloc();
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~Parser() {
    if (have_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // The next event, or nullptr after a syntax error (described by state()).
  const yaml_event_t* Next() {
    if (have_event_) yaml_event_delete(&event_);
    have_event_ = yaml_parser_parse(&parser_, &event_) != 0;
    return have_event_ ? &event_ : nullptr;
  }
  const yaml_parser_t& state() const { return parser_; }

 private:
  yaml_parser_t parser_;
  yaml_event_t event_;
  bool have_event_ = false;
};

// Where and what libyaml's error is. Its reader's errors (bad UTF-8, control
// characters) carry a byte offset rather than a line and column.
void ReportSyntaxError(const yaml_parser_t& p, std::string_view text,
                       const std::shared_ptr<const std::string>& file, Diagnostics& diags) {
  if (p.error == YAML_MEMORY_ERROR) {
    diags.Error(SourceLoc{file, 1, 1}, "cannot read YAML: out of memory");
    return;
  }
  std::string msg = p.problem ? p.problem : "cannot parse";
  if (p.error == YAML_READER_ERROR) {
    size_t offset = std::min(p.problem_offset, text.size());
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    if (p.problem_value != -1) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(p.problem_value) & 0xffu);
      msg += std::string(" (byte ") + hex + ")";
    }
    diags.Error(SourceLoc{file, line, static_cast<int>(offset - line_start) + 1}, "YAML syntax: " + msg);
    return;
  }
  if (p.context) {
    msg += std::string(" (") + p.context + " that starts at line " + std::to_string(p.context_mark.line + 1) +
           ", column " + std::to_string(p.context_mark.column + 1) + ")";
  }
  diags.Error(SourceLoc{file, static_cast<int>(p.problem_mark.line) + 1, static_cast<int>(p.problem_mark.column) + 1},
              "YAML syntax: " + msg);
}

}  // namespace

std::optional<Node> ReadYaml(std::string_view text, const std::shared_ptr<const std::string>& file,
                             Diagnostics& diags, const YamlLimits& limits) {
  TreeBuilder builder(file, limits);
  try {
    Parser parser(text);
    for (;;) {
      const yaml_event_t* e = parser.Next();
      if (!e) {
        ReportSyntaxError(parser.state(), text, file, diags);
        return std::nullopt;
      }
      if (e->type == YAML_STREAM_END_EVENT) break;
      builder.Handle(*e);
    }
  } catch (const LimitHit& hit) {
    diags.Error(hit.loc, hit.message);
    return std::nullopt;
  } catch (const std::exception& e) {
    diags.Error(SourceLoc{file, 1, 1}, std::string("cannot read YAML: ") + e.what());
    return std::nullopt;
  }
  if (!builder.result) {
    diags.Error(SourceLoc{file, 1, 1}, "the file is empty; a runbook is a YAML mapping");
    return std::nullopt;
  }
  return std::move(builder.result);
}

}  // namespace runbook
