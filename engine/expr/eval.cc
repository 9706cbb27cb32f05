// Evaluation against a Context. Never throws: type errors are Status values,
// and any exception from boost::json (allocation) is caught at the top.
#include <algorithm>
#include <cmath>
#include <exception>

#include "engine/diagnostics.h"
#include "engine/expr/ast.h"
#include "engine/expr/functions.h"
#include "engine/expr/values.h"

namespace runbook::expr {

namespace {

using boost::json::value;

class Evaluator {
 public:
  Evaluator(const Expression& e, const Context& ctx) : e_(e), ctx_(ctx) {}

  // Recursion is bounded by the tree's height (kMaxTreeHeight).
  Result<value> Eval(const Node& n) {
    std::vector<std::string> path;
    if (LeadingChain(n, &path)) return EvalName(path);
    switch (n.kind) {
      case Node::Kind::kLiteral: return n.value;
      case Node::Kind::kName: return EvalName({std::string(n.name)});  // not reached: a chain
      case Node::Kind::kMember: return EvalMember(n);
      case Node::Kind::kIndex: return EvalIndex(n);
      case Node::Kind::kCall: return EvalCall(n);
      case Node::Kind::kNot: {
        auto v = Eval(*n.lhs);
        if (!v.ok()) return v;
        return value(!Truthy(*v));
      }
      case Node::Kind::kAnd:
      case Node::Kind::kOr: {
        bool is_and = n.kind == Node::Kind::kAnd;
        for (const Node* c = n.lhs; c; c = c->next) {
          auto v = Eval(*c);
          if (!v.ok()) return v;
          if (Truthy(*v) != is_and) return value(!is_and);
        }
        return value(is_and);
      }
      case Node::Kind::kCompare: return EvalCompare(n);
    }
    return value();
  }

 private:
  Result<value> EvalName(const std::vector<std::string>& path) {
    const auto& roots = RootNames();
    if (std::find(roots.begin(), roots.end(), path.front()) == roots.end())
      return Status::InvalidArgument("unknown name '" + path.front() + "'" + DidYouMean(path.front(), roots));
    auto v = ctx_.Lookup(path);
    if (!v.ok() && v.status().code() == Status::Code::kNotFound) return value();  // missing -> null
    return v;
  }

  Result<value> EvalMember(const Node& n) {
    auto v = Eval(*n.lhs);
    if (!v.ok()) return v;
    auto* obj = v->if_object();
    if (!obj)
      return Status::InvalidArgument(Quote(e_, *n.lhs) + " is " + WithArticle(TypeOf(*v)) + "; it has no field '" +
                                     std::string(n.name) + "'");
    auto it = obj->find(n.name);
    if (it == obj->end()) return value();
    return std::move(it->value());  // `v` is ours: move the member out
  }

  Result<value> EvalIndex(const Node& n) {
    auto v = Eval(*n.lhs);
    if (!v.ok()) return v;
    auto i = Eval(*n.rhs);
    if (!i.ok()) return i;
    if (auto* list = v->if_array()) {
      if (!i->is_number())
        return Status::InvalidArgument(Quote(e_, *n.lhs) + " is a list; index it with a number, got " +
                                       TypeName(TypeOf(*i)));
      double d = ToDouble(*i);
      if (i->is_double() && d != std::trunc(d))
        return Status::InvalidArgument(Quote(e_, *n.lhs) + " is a list; index it with a whole number, got " +
                                       ToDisplayString(*i));
      if (d < 0)
        return Status::InvalidArgument("index " + ToDisplayString(*i) + " into " + Quote(e_, *n.lhs) +
                                       " is negative");
      if (d >= static_cast<double>(list->size())) return value();
      size_t k = i->is_int64() ? static_cast<size_t>(i->get_int64())
                 : i->is_uint64() ? static_cast<size_t>(i->get_uint64())
                                  : static_cast<size_t>(d);
      if (k >= list->size()) return value();
      return std::move((*list)[k]);
    }
    if (auto* obj = v->if_object()) {
      const auto* key = i->if_string();
      if (!key)
        return Status::InvalidArgument(Quote(e_, *n.lhs) + " is an object; index it with a string, got " +
                                       TypeName(TypeOf(*i)));
      auto it = obj->find(*key);
      if (it == obj->end()) return value();
      return std::move(it->value());
    }
    return Status::InvalidArgument(Quote(e_, *n.lhs) + " is " + WithArticle(TypeOf(*v)) + "; it cannot be indexed");
  }

  Result<value> EvalCall(const Node& n) {
    const FunctionSpec* f = FindFunction(n.name);
    if (!f) return Status::InvalidArgument(UnknownFunctionMessage(n.name));
    if (Status s = CheckArity(*f, n.count); !s.ok()) return s;
    if (f->status) {
      auto b = ctx_.StatusFunction(n.name);
      if (!b.ok()) return b.status();
      return value(*b);
    }
    value args[kMaxFunctionArgs];
    Type types[kMaxFunctionArgs] = {};
    int k = 0;
    for (const Node* a = n.lhs; a; a = a->next, ++k) {
      auto v = Eval(*a);
      if (!v.ok()) return v;
      args[k] = std::move(*v);
      types[k] = TypeOf(args[k]);
    }
    if (Status s = CheckArgTypes(*f, types, n.count); !s.ok()) return s;
    return f->impl(args, n.count);
  }

  Result<value> EvalCompare(const Node& n) {
    auto l = Eval(*n.lhs);
    if (!l.ok()) return l;
    auto r = Eval(*n.rhs);
    if (!r.ok()) return r;
    if (n.op == Node::Op::kEq) return value(ValuesEqual(*l, *r));
    if (n.op == Node::Op::kNe) return value(!ValuesEqual(*l, *r));
    int c;
    if (l->is_number() && r->is_number()) {
      auto cmp = CompareNumbers(*l, *r);
      if (!cmp) return value(false);  // NaN is unordered
      c = *cmp;
    } else if (l->is_string() && r->is_string()) {
      int raw = std::string_view(l->get_string()).compare(std::string_view(r->get_string()));
      c = raw < 0 ? -1 : (raw > 0 ? 1 : 0);
    } else {
      return Status::InvalidArgument(std::string("'") + OpSpelling(n.op) + "' needs two numbers or two strings, got " +
                                     TypeName(TypeOf(*l)) + " and " + TypeName(TypeOf(*r)));
    }
    switch (n.op) {
      case Node::Op::kLt: return value(c < 0);
      case Node::Op::kLe: return value(c <= 0);
      case Node::Op::kGt: return value(c > 0);
      case Node::Op::kGe: return value(c >= 0);
      default: return value(false);
    }
  }

  const Expression& e_;
  const Context& ctx_;
};

}  // namespace

Result<boost::json::value> Evaluate(const Expression& e, const Context& ctx) {
  if (e.text().empty()) return Status::InvalidArgument("empty expression");  // default-constructed
  try {
    Evaluator evaluator(e, ctx);
    return evaluator.Eval(e.root());
  } catch (const std::exception& ex) {
    return Status::Internal(std::string("expression evaluation failed: ") + ex.what());
  }
}

}  // namespace runbook::expr
