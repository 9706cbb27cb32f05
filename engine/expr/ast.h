// The syntax tree of a parsed expression (private to engine/expr/).
//
// The parser allocates every Node of one expression in a single arena (a
// vector reserved up front, see parser.cc) that also holds a copy of the
// source text; `name` views point into that copy and child pointers point
// into the same vector, so a tree costs a handful of allocations and is freed
// without recursion. Trees are immutable after parsing and shared between
// threads. Their height is bounded (kMaxTreeHeight), so the recursive walks
// in check.cc and eval.cc cannot exhaust the stack.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/expr/expr.h"

namespace runbook::expr {

// Limits (error "expression nested too deeply" / "expression longer than ...").
inline constexpr int kMaxNesting = 100;       // parser recursion: parentheses, '!', calls, '['
inline constexpr int kMaxTreeHeight = 256;    // AST height, e.g. a long chain of '.field'
inline constexpr size_t kMaxExpressionBytes = 64 * 1024;

struct Node {
  enum class Kind : std::uint8_t {
    kLiteral,  // value
    kName,     // name: a root identifier (params, steps, ...)
    kMember,   // lhs.name
    kIndex,    // lhs[rhs]
    kCall,     // name(args...): args are lhs, lhs->next, ... (count of them)
    kNot,      // !lhs
    kAnd,      // lhs && lhs->next && ... (count operands, at least 2)
    kOr,       // lhs || lhs->next || ...
    kCompare,  // lhs op rhs
  };
  enum class Op : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

  Kind kind = Kind::kLiteral;
  Op op = Op::kEq;
  std::uint32_t begin = 0;  // source span [begin, end) in the expression text
  std::uint32_t end = 0;
  int height = 1;           // 1 for a leaf
  int count = 0;            // kCall: arguments; kAnd/kOr: operands
  std::string_view name;
  boost::json::value value;
  const Node* lhs = nullptr;
  const Node* rhs = nullptr;
  const Node* next = nullptr;  // next sibling in a kCall / kAnd / kOr list
};

// "==", "!=", "<", ...
const char* OpSpelling(Node::Op op);

// True for a root name followed by member accesses only (and string-literal
// indexes such as env['MY-VAR']): the "leading chain" a Scope / Context
// resolves. Appends the chain's names to `path` when it is one.
bool LeadingChain(const Node& n, std::vector<std::string>* path);

// The source text of `n` for messages, shortened when long: 'steps.a.x'.
std::string Quote(const Expression& e, const Node& n);

// The tree as an S-expression, for tests and debugging:
// "(&& (== (. params x) 'a') (! (success)))". Literals as JSON.
std::string DebugString(const Node& n);

// The status functions: success, failure, always, cancelled.
bool IsStatusFunction(std::string_view name);

// The root names an expression may use.
const std::vector<std::string>& RootNames();

}  // namespace runbook::expr
