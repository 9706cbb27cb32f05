#include "engine/expr/ast.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "engine/json_text.h"

namespace runbook::expr {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kAny: return "any";
    case Type::kNull: return "null";
    case Type::kBool: return "bool";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kList: return "list";
    case Type::kObject: return "object";
  }
  return "any";
}

const char* OpSpelling(Node::Op op) {
  switch (op) {
    case Node::Op::kEq: return "==";
    case Node::Op::kNe: return "!=";
    case Node::Op::kLt: return "<";
    case Node::Op::kLe: return "<=";
    case Node::Op::kGt: return ">";
    case Node::Op::kGe: return ">=";
  }
  return "?";
}

bool LeadingChain(const Node& n, std::vector<std::string>* path) {
  const Node* cur = &n;
  size_t mark = path->size();
  while (true) {
    if (cur->kind == Node::Kind::kName) {
      path->emplace_back(cur->name);
      break;
    }
    if (cur->kind == Node::Kind::kMember) {
      path->emplace_back(cur->name);
    } else if (cur->kind == Node::Kind::kIndex && cur->rhs->kind == Node::Kind::kLiteral &&
               cur->rhs->value.is_string()) {
      path->emplace_back(cur->rhs->value.get_string());
    } else {
      path->resize(mark);
      return false;
    }
    cur = cur->lhs;
  }
  std::reverse(path->begin() + static_cast<std::ptrdiff_t>(mark), path->end());
  return true;
}

// Joins pieces into one string. (Also sidesteps g++ 12's false -Wrestrict
// warning on `"x" + std::string&&` in optimised builds.)
static std::string Concat(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (auto p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (auto p : parts) out.append(p);
  return out;
}

std::string Quote(const Expression& e, const Node& n) {
  constexpr size_t kMax = 40;
  std::string_view s = std::string_view(e.text()).substr(n.begin, n.end - n.begin);
  if (s.size() > kMax) return Concat({"'", s.substr(0, kMax - 3), "...'"});
  return Concat({"'", s, "'"});
}

bool IsStatusFunction(std::string_view name) {
  return name == "success" || name == "failure" || name == "always" || name == "cancelled";
}

const std::vector<std::string>& RootNames() {
  static const std::vector<std::string> kRoots = {"params", "env", "secrets", "steps", "run", "now", "inputs"};
  return kRoots;
}

std::string DebugString(const Node& n) {
  auto list = [&](std::string_view head) {
    std::string out = Concat({"(", head});
    for (const Node* c = n.lhs; c; c = c->next) out.append(" ").append(DebugString(*c));
    return out.append(")");
  };
  switch (n.kind) {
    case Node::Kind::kLiteral: return JsonText(n.value);
    case Node::Kind::kName: return std::string(n.name);
    case Node::Kind::kMember: return Concat({"(. ", DebugString(*n.lhs), " ", n.name, ")"});
    case Node::Kind::kIndex: return Concat({"([] ", DebugString(*n.lhs), " ", DebugString(*n.rhs), ")"});
    case Node::Kind::kCall: return list(n.name);
    case Node::Kind::kNot: return Concat({"(! ", DebugString(*n.lhs), ")"});
    case Node::Kind::kAnd: return list("&&");
    case Node::Kind::kOr: return list("||");
    case Node::Kind::kCompare:
      return Concat({"(", OpSpelling(n.op), " ", DebugString(*n.lhs), " ", DebugString(*n.rhs), ")"});
  }
  return "?";
}

namespace {

// Recursion is bounded by kMaxTreeHeight.
void CollectPaths(const Node& n, std::vector<std::vector<std::string>>* out) {
  std::vector<std::string> path;
  if (LeadingChain(n, &path)) {
    out->push_back(std::move(path));
    return;
  }
  if (n.kind == Node::Kind::kCall || n.kind == Node::Kind::kAnd || n.kind == Node::Kind::kOr) {
    for (const Node* c = n.lhs; c; c = c->next) CollectPaths(*c, out);
    return;
  }
  if (n.lhs) CollectPaths(*n.lhs, out);
  if (n.rhs) CollectPaths(*n.rhs, out);
}

bool CallsStatusFunction(const Node& n) {
  if (n.kind == Node::Kind::kCall && IsStatusFunction(n.name)) return true;
  if (n.kind == Node::Kind::kCall || n.kind == Node::Kind::kAnd || n.kind == Node::Kind::kOr) {
    for (const Node* c = n.lhs; c; c = c->next)
      if (CallsStatusFunction(*c)) return true;
    return false;
  }
  return (n.lhs && CallsStatusFunction(*n.lhs)) || (n.rhs && CallsStatusFunction(*n.rhs));
}

}  // namespace

std::vector<std::vector<std::string>> Expression::NamePaths() const {
  std::vector<std::vector<std::string>> out;
  if (root_) CollectPaths(*root_, &out);
  return out;
}

bool Expression::UsesStatusFunction() const { return root_ && CallsStatusFunction(*root_); }

}  // namespace runbook::expr
