// Recursive-descent parser: tokens (lexer.h) -> Node tree (ast.h).
//
//   or      := and ('||' and)*
//   and     := not ('&&' not)*
//   not     := '!' not | compare
//   compare := postfix (('=='|'!='|'<'|'<='|'>'|'>=') postfix)?   (no chaining)
//   postfix := primary ('.' ident | '[' or ']')*
//   primary := ident '(' (or (',' or)*)? ')' | ident | literal | '(' or ')'
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>

#include "engine/expr/ast.h"
#include "engine/expr/expr.h"
#include "engine/expr/lexer.h"

namespace runbook::expr {

namespace {

// Owns one expression's text copy and nodes; Expression::root_ aliases it.
struct Arena {
  std::string text;
  std::vector<Node> nodes;
};

Status TooDeep() { return Status::InvalidArgument("expression nested too deeply"); }

std::string At(const Token& t) { return " at column " + std::to_string(t.begin + 1); }

}  // namespace

class Parser {
 public:
  Parser(Arena* arena, const std::vector<Token>* tokens) : arena_(arena), tokens_(*tokens) {}

  Result<const Node*> ParseAll() {
    auto root = ParseOr();
    if (!root.ok()) return root;
    if (Peek().kind != Token::Kind::kEnd) return Unexpected(Peek(), "");
    return root;
  }

  static Result<Expression> Parse(std::string_view text);

 private:
  using K = Token::Kind;

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  static Status Unexpected(const Token& t, const std::string& expected) {
    if (t.kind == K::kEnd)
      return Status::InvalidArgument("unexpected end of expression" +
                                     (expected.empty() ? std::string() : ", expected " + expected));
    return Status::InvalidArgument("unexpected " + DescribeToken(t) + At(t) +
                                   (expected.empty() ? std::string() : ", expected " + expected));
  }

  // Allocates a node spanning [begin, end). Children must already be set by
  // the caller through the returned pointer before the next NewNode call.
  Result<Node*> NewNode(Node::Kind kind, std::uint32_t begin, std::uint32_t end, int height) {
    if (height > kMaxTreeHeight) return TooDeep();
    auto& nodes = arena_->nodes;
    if (nodes.size() == nodes.capacity()) return Status::Internal("expression arena exhausted");
    Node& n = nodes.emplace_back();
    n.kind = kind;
    n.begin = begin;
    n.end = end;
    n.height = height;
    return &n;
  }

  // RAII nesting counter for the recursive productions.
  struct Nest {
    explicit Nest(int* d) : depth(d) { ++*depth; }
    ~Nest() { --*depth; }
    bool TooDeep() const { return *depth > kMaxNesting; }
    int* depth;
  };

  Result<const Node*> ParseList(Node::Kind kind, K op_token) {
    auto first = kind == Node::Kind::kOr ? ParseAnd() : ParseNot();
    if (!first.ok() || Peek().kind != op_token) return first;
    std::vector<const Node*> operands{*first};
    while (Peek().kind == op_token) {
      Take();
      auto next = kind == Node::Kind::kOr ? ParseAnd() : ParseNot();
      if (!next.ok()) return next;
      operands.push_back(*next);
    }
    int height = 0;
    for (const Node* o : operands) height = std::max(height, o->height);
    auto n = NewNode(kind, operands.front()->begin, operands.back()->end, height + 1);
    if (!n.ok()) return n.status();
    Link(*n, operands);
    return *n;
  }

  static void Link(Node* n, const std::vector<const Node*>& list) {
    n->count = static_cast<int>(list.size());
    n->lhs = list.empty() ? nullptr : list.front();
    for (size_t i = 0; i + 1 < list.size(); ++i) const_cast<Node*>(list[i])->next = list[i + 1];
  }

  Result<const Node*> ParseOr() { return ParseList(Node::Kind::kOr, K::kOr); }
  Result<const Node*> ParseAnd() { return ParseList(Node::Kind::kAnd, K::kAnd); }

  Result<const Node*> ParseNot() {
    if (Peek().kind != K::kNot) return ParseCompare();
    Nest nest(&depth_);
    if (nest.TooDeep()) return TooDeep();
    const Token& bang = Take();
    auto operand = ParseNot();
    if (!operand.ok()) return operand;
    auto n = NewNode(Node::Kind::kNot, bang.begin, (*operand)->end, (*operand)->height + 1);
    if (!n.ok()) return n.status();
    (*n)->lhs = *operand;
    return *n;
  }

  static bool IsCompare(K k, Node::Op* op) {
    switch (k) {
      case K::kEq: *op = Node::Op::kEq; return true;
      case K::kNe: *op = Node::Op::kNe; return true;
      case K::kLt: *op = Node::Op::kLt; return true;
      case K::kLe: *op = Node::Op::kLe; return true;
      case K::kGt: *op = Node::Op::kGt; return true;
      case K::kGe: *op = Node::Op::kGe; return true;
      default: return false;
    }
  }

  Result<const Node*> ParseCompare() {
    auto lhs = ParsePostfix();
    Node::Op op;
    if (!lhs.ok() || !IsCompare(Peek().kind, &op)) return lhs;
    Take();
    auto rhs = ParsePostfix();
    if (!rhs.ok()) return rhs;
    Node::Op ignored;
    if (IsCompare(Peek().kind, &ignored))
      return Status::InvalidArgument("unexpected " + DescribeToken(Peek()) + At(Peek()) +
                                     " (comparisons do not chain; use parentheses)");
    auto n = NewNode(Node::Kind::kCompare, (*lhs)->begin, (*rhs)->end,
                     std::max((*lhs)->height, (*rhs)->height) + 1);
    if (!n.ok()) return n.status();
    (*n)->op = op;
    (*n)->lhs = *lhs;
    (*n)->rhs = *rhs;
    return *n;
  }

  Result<const Node*> ParsePostfix() {
    auto base = ParsePrimary();
    if (!base.ok()) return base;
    const Node* cur = *base;
    while (true) {
      if (Peek().kind == K::kDot) {
        Take();
        const Token& field = Peek();
        if (field.kind != K::kIdent) return Unexpected(field, "a field name after '.'");
        Take();
        auto n = NewNode(Node::Kind::kMember, cur->begin, field.end, cur->height + 1);
        if (!n.ok()) return n.status();
        (*n)->lhs = cur;
        (*n)->name = field.text;
        cur = *n;
      } else if (Peek().kind == K::kLBracket) {
        Nest nest(&depth_);
        if (nest.TooDeep()) return TooDeep();
        Take();
        auto index = ParseOr();
        if (!index.ok()) return index;
        const Token& close = Peek();
        if (close.kind != K::kRBracket) return Unexpected(close, "']'");
        Take();
        auto n = NewNode(Node::Kind::kIndex, cur->begin, close.end, std::max(cur->height, (*index)->height) + 1);
        if (!n.ok()) return n.status();
        (*n)->lhs = cur;
        (*n)->rhs = *index;
        cur = *n;
      } else {
        return cur;
      }
    }
  }

  Result<const Node*> ParseNumber(const Token& t) {
    const char* b = t.text.data();
    const char* e = b + t.text.size();
    boost::json::value v;
    if (t.kind == K::kInt) {
      std::int64_t i = 0;
      auto r = std::from_chars(b, e, i);
      if (r.ec == std::errc() && r.ptr == e) v = i;
    }
    if (v.is_null()) {
      double d = 0;
      auto r = std::from_chars(b, e, d);
      if (r.ec != std::errc() || r.ptr != e || !std::isfinite(d))
        return Status::InvalidArgument("number out of range '" + std::string(t.text.substr(0, 24)) +
                                       (t.text.size() > 24 ? "..." : "") + "'" + At(t));
      v = d;
    }
    auto n = NewNode(Node::Kind::kLiteral, t.begin, t.end, 1);
    if (!n.ok()) return n.status();
    (*n)->value = std::move(v);
    return *n;
  }

  Result<const Node*> ParseCall(const Token& ident) {
    Nest nest(&depth_);
    if (nest.TooDeep()) return TooDeep();
    Take();  // '('
    std::vector<const Node*> args;
    if (Peek().kind != K::kRParen) {
      while (true) {
        auto arg = ParseOr();
        if (!arg.ok()) return arg;
        args.push_back(*arg);
        if (Peek().kind == K::kComma) {
          Take();
          continue;
        }
        if (Peek().kind != K::kRParen) return Unexpected(Peek(), "',' or ')'");
        break;
      }
    }
    const Token& close = Take();
    int height = 0;
    for (const Node* a : args) height = std::max(height, a->height);
    auto n = NewNode(Node::Kind::kCall, ident.begin, close.end, height + 1);
    if (!n.ok()) return n.status();
    (*n)->name = ident.text;
    Link(*n, args);
    return *n;
  }

  Result<const Node*> ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case K::kIdent: {
        Take();
        if (Peek().kind == K::kLParen) return ParseCall(t);
        auto n = NewNode(Node::Kind::kName, t.begin, t.end, 1);
        if (!n.ok()) return n.status();
        if (t.text == "true" || t.text == "false") {
          (*n)->kind = Node::Kind::kLiteral;
          (*n)->value = t.text == "true";
        } else if (t.text == "null") {
          (*n)->kind = Node::Kind::kLiteral;
        } else {
          (*n)->name = t.text;
        }
        return *n;
      }
      case K::kInt:
      case K::kDouble:
        Take();
        return ParseNumber(t);
      case K::kString: {
        Take();
        auto n = NewNode(Node::Kind::kLiteral, t.begin, t.end, 1);
        if (!n.ok()) return n.status();
        (*n)->value = boost::json::string(UnquoteString(t.text));
        return *n;
      }
      case K::kLParen: {
        Nest nest(&depth_);
        if (nest.TooDeep()) return TooDeep();
        Take();
        auto inner = ParseOr();
        if (!inner.ok()) return inner;
        if (Peek().kind != K::kRParen) return Unexpected(Peek(), "')'");
        Take();
        return inner;
      }
      default:
        return Unexpected(t, "an operand");
    }
  }

  Arena* arena_;
  const std::vector<Token>& tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

Result<Expression> Parser::Parse(std::string_view text) {
  if (text.size() > kMaxExpressionBytes)
    return Status::InvalidArgument("expression longer than " + std::to_string(kMaxExpressionBytes) + " bytes");
  auto arena = std::make_shared<Arena>();
  arena->text = std::string(text);
  auto tokens = Lex(arena->text);
  if (!tokens.ok()) return tokens.status();
  if (tokens->size() == 1) return Status::InvalidArgument("empty expression");
  // Every node consumes at least one token of its own, so this never grows.
  arena->nodes.reserve(tokens->size());
  Parser parser(arena.get(), &*tokens);
  auto root = parser.ParseAll();
  if (!root.ok()) return root.status();
  Expression e;
  e.text_ = arena->text;
  e.root_ = std::shared_ptr<const Node>(arena, *root);
  return e;
}

Result<Expression> Expression::Parse(std::string_view text) { return Parser::Parse(text); }

}  // namespace runbook::expr
