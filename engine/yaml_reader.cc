#include "engine/yaml_reader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <iterator>
#include <map>
#include <sstream>

namespace runbook {
namespace {

// Thrown inside the handler to stop parsing at a limit; caught in ReadYaml.
struct LimitHit {
  SourceLoc loc;
  std::string message;
};

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(std::shared_ptr<const std::string> file, const YamlLimits& limits)
      : file_(std::move(file)), limits_(limits) {}

  std::optional<Node> result;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node n;
    n.kind = Node::Kind::kNull;
    n.loc = Loc(mark);
    Complete(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw LimitHit{Loc(mark), "unknown YAML alias"};
    size_t count = CountNodes(it->second);
    alias_nodes_ += count;
    if (alias_nodes_ > limits_.max_alias_nodes)
      throw LimitHit{Loc(mark), "YAML alias expansion exceeds " + std::to_string(limits_.max_alias_nodes) +
                                    " nodes (an alias bomb?)"};
    Count(mark, count);
    Node copy = it->second;
    Complete(std::move(copy), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Count(mark, 1);
    bool quoted;
    if (tag == "?") {
      quoted = false;
    } else if (tag == "!" || tag == "tag:yaml.org,2002:str") {
      quoted = true;
    } else {
      throw LimitHit{Loc(mark), "unsupported YAML tag '" + tag + "'"};
    }
    Complete(Node::Scalar(value, Loc(mark), quoted), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, Node::Kind::kSequence, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, Node::Kind::kMapping, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  // An open sequence or mapping. Its children so far are items_[first_item..]
  // (and keys_/key_locs_[first_key..]); Close moves them into the node, so
  // that every node's vectors are allocated once, at their final size.
  struct Frame {
    Node node;
    YAML::anchor_t anchor = 0;
    bool have_key = false;
    std::string key;
    SourceLoc key_loc;
    size_t first_item = 0;
    size_t first_key = 0;
  };

  SourceLoc Loc(const YAML::Mark& m) const { return SourceLoc{file_, m.line + 1, m.column + 1}; }

  void Count(const YAML::Mark& mark, size_t n) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes)
      throw LimitHit{Loc(mark), "YAML document has more than " + std::to_string(limits_.max_nodes) + " nodes"};
  }

  static size_t CountNodes(const Node& n) {
    size_t c = 1;
    for (const auto& i : n.items) c += CountNodes(i);
    return c;
  }

  void Open(const YAML::Mark& mark, Node::Kind kind, YAML::anchor_t anchor) {
    Count(mark, 1);
    if (static_cast<int>(stack_.size()) >= limits_.max_depth)
      throw LimitHit{Loc(mark), "YAML nesting deeper than " + std::to_string(limits_.max_depth) + " levels"};
    Frame f;
    f.node.kind = kind;
    f.node.loc = Loc(mark);
    f.anchor = anchor;
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

  void Complete(Node n, YAML::anchor_t anchor) {
    if (anchor != 0) anchors_[anchor] = n;
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
  std::map<YAML::anchor_t, Node> anchors_;
  size_t nodes_ = 0;
  size_t alias_nodes_ = 0;
};

}  // namespace

std::optional<Node> ReadYaml(std::string_view text, const std::shared_ptr<const std::string>& file,
                             Diagnostics& diags, const YamlLimits& limits) {
  std::istringstream in{std::string(text)};
  TreeBuilder builder(file, limits);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder) || !builder.result) {
      diags.Error(SourceLoc{file, 1, 1}, "the file is empty; a runbook is a YAML mapping");
      return std::nullopt;
    }
    if (parser.HandleNextDocument(builder)) {
      // A second document was handled; TreeBuilder throws before we get here
      // unless it was empty.
    }
  } catch (const LimitHit& hit) {
    diags.Error(hit.loc, hit.message);
    return std::nullopt;
  } catch (const YAML::DeepRecursion& e) {
    diags.Error(SourceLoc{file, e.mark.line + 1, e.mark.column + 1},
                "YAML nesting deeper than " + std::to_string(limits.max_depth) + " levels");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg;
    if (!msg.empty()) msg[0] = static_cast<char>(tolower(static_cast<unsigned char>(msg[0])));
    diags.Error(SourceLoc{file, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + msg);
    return std::nullopt;
  } catch (const std::exception& e) {
    diags.Error(SourceLoc{file, 1, 1}, std::string("cannot read YAML: ") + e.what());
    return std::nullopt;
  }
  return std::move(builder.result);
}

}  // namespace runbook
