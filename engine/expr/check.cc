// Static checking: names against a Scope, operator and function types.
#include <algorithm>

#include "engine/diagnostics.h"
#include "engine/expr/ast.h"
#include "engine/expr/functions.h"
#include "engine/expr/values.h"

namespace runbook::expr {

namespace {

bool IsRoot(std::string_view name) {
  const auto& roots = RootNames();
  return std::find(roots.begin(), roots.end(), name) != roots.end();
}

bool Known(Type t) { return t != Type::kAny; }
bool Scalar(Type t) { return t == Type::kBool || t == Type::kNumber || t == Type::kString; }

class Checker {
 public:
  Checker(const Expression& e, const Scope& scope, bool in_condition)
      : e_(e), scope_(scope), in_condition_(in_condition) {}

  // Recursion is bounded by the tree's height (kMaxTreeHeight).
  Result<Type> Check(const Node& n) {
    std::vector<std::string> path;
    if (LeadingChain(n, &path)) return CheckName(path);
    switch (n.kind) {
      case Node::Kind::kLiteral: return TypeOf(n.value);
      case Node::Kind::kName: return CheckName({std::string(n.name)});  // not reached: a chain
      case Node::Kind::kMember: return CheckMember(n);
      case Node::Kind::kIndex: return CheckIndex(n);
      case Node::Kind::kCall: return CheckCall(n);
      case Node::Kind::kNot: {
        auto t = Check(*n.lhs);
        if (!t.ok()) return t;
        return Type::kBool;
      }
      case Node::Kind::kAnd:
      case Node::Kind::kOr:
        for (const Node* c = n.lhs; c; c = c->next) {
          auto t = Check(*c);
          if (!t.ok()) return t;
        }
        return Type::kBool;
      case Node::Kind::kCompare: return CheckCompare(n);
    }
    return Type::kAny;
  }

 private:
  Result<Type> CheckName(const std::vector<std::string>& path) {
    const std::string& root = path.front();
    if (!IsRoot(root)) {
      if (FindFunction(root)) return Status::InvalidArgument("'" + root + "' is a function; call it as " + root + "()");
      return Status::InvalidArgument("unknown name '" + root + "'" + DidYouMean(root, RootNames()));
    }
    return scope_.Lookup(path);
  }

  Result<Type> CheckMember(const Node& n) {
    auto t = Check(*n.lhs);
    if (!t.ok()) return t;
    if (*t == Type::kAny || *t == Type::kObject) return Type::kAny;
    return Status::InvalidArgument(Quote(e_, *n.lhs) + " is " + WithArticle(*t) + "; it has no field '" +
                                   std::string(n.name) + "'");
  }

  Result<Type> CheckIndex(const Node& n) {
    auto t = Check(*n.lhs);
    if (!t.ok()) return t;
    auto i = Check(*n.rhs);
    if (!i.ok()) return i;
    switch (*t) {
      case Type::kAny:
        if (*i == Type::kAny || *i == Type::kNumber || *i == Type::kString) return Type::kAny;
        return Status::InvalidArgument("an index must be a number or a string, got " + std::string(TypeName(*i)));
      case Type::kList:
        if (*i == Type::kAny || *i == Type::kNumber) return Type::kAny;
        return Status::InvalidArgument(Quote(e_, *n.lhs) + " is a list; index it with a number, got " +
                                       TypeName(*i));
      case Type::kObject:
        if (*i == Type::kAny || *i == Type::kString) return Type::kAny;
        return Status::InvalidArgument(Quote(e_, *n.lhs) + " is an object; index it with a string, got " +
                                       TypeName(*i));
      default:
        return Status::InvalidArgument(Quote(e_, *n.lhs) + " is " + WithArticle(*t) + "; it cannot be indexed");
    }
  }

  Result<Type> CheckCall(const Node& n) {
    const FunctionSpec* f = FindFunction(n.name);
    if (!f) return Status::InvalidArgument(UnknownFunctionMessage(n.name));
    if (f->status && !in_condition_)
      return Status::InvalidArgument(std::string(n.name) + "() is only allowed in 'if'");
    if (Status s = CheckArity(*f, n.count); !s.ok()) return s;
    Type types[kMaxFunctionArgs] = {};
    int i = 0;
    for (const Node* a = n.lhs; a; a = a->next, ++i) {
      auto t = Check(*a);
      if (!t.ok()) return t;
      types[i] = *t;
    }
    if (Status s = CheckArgTypes(*f, types, n.count); !s.ok()) return s;
    // format_time(t, fmt, 'Zone/Name'): a literal zone is checked now.
    if (f->name == "format_time" && n.count == 3) {
      const Node* tz = n.lhs->next->next;
      if (tz->kind == Node::Kind::kLiteral && tz->value.is_string() && !IsKnownTimeZone(tz->value.get_string()))
        return Status::InvalidArgument("format_time() unknown time zone " + QuoteValue(tz->value.get_string()));
    }
    return f->result;
  }

  Result<Type> CheckCompare(const Node& n) {
    auto l = Check(*n.lhs);
    if (!l.ok()) return l;
    auto r = Check(*n.rhs);
    if (!r.ok()) return r;
    const char* op = OpSpelling(n.op);
    if (n.op == Node::Op::kEq || n.op == Node::Op::kNe) {
      if (Known(*l) && Known(*r) && *l != *r && *l != Type::kNull && *r != Type::kNull) {
        std::string hint = Scalar(*l) && Scalar(*r) ? "; convert one with string() or number()" : "";
        return Status::InvalidArgument(std::string("'") + op + "' compares " + TypeName(*l) + " with " +
                                       TypeName(*r) + hint);
      }
      return Type::kBool;
    }
    auto orderable = [](Type t) { return t == Type::kAny || t == Type::kNumber || t == Type::kString; };
    if (!orderable(*l) || !orderable(*r) || (Known(*l) && Known(*r) && *l != *r))
      return Status::InvalidArgument(std::string("'") + op + "' needs two numbers or two strings, got " +
                                     TypeName(*l) + " and " + TypeName(*r));
    return Type::kBool;
  }

  const Expression& e_;
  const Scope& scope_;
  bool in_condition_;
};

}  // namespace

Result<Type> Check(const Expression& e, const Scope& scope, bool in_condition) {
  if (e.text().empty()) return Status::InvalidArgument("empty expression");  // default-constructed
  Checker checker(e, scope, in_condition);
  return checker.Check(e.root());
}

}  // namespace runbook::expr
