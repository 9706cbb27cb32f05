// Lexer and parser: the tree each construct builds, every error message, the
// limits, NamePaths() and UsesStatusFunction().
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/expr/ast.h"
#include "engine/expr/expr.h"

namespace runbook::expr {
namespace {

std::string Tree(std::string_view text) {
  auto e = Expression::Parse(text);
  if (!e.ok()) return "error: " + e.status().message();
  return DebugString(e->root());
}

std::string ParseError(std::string_view text) {
  auto e = Expression::Parse(text);
  if (e.ok()) return "parsed as " + DebugString(e->root());
  EXPECT_EQ(e.status().code(), Status::Code::kInvalidArgument);
  return e.status().message();
}

struct TreeCase {
  const char* text;
  const char* tree;
};

TEST(ExprParseTest, BuildsTreesWithTheDecidedPrecedence) {
  const TreeCase cases[] = {
      {"a", "a"},
      {"params.x", "(. params x)"},
      {" steps.block-attacker.status == 'succeeded' ", "(== (. (. steps block-attacker) status) \"succeeded\")"},
      {"a || b && c", "(|| a (&& b c))"},
      {"a && b || c", "(|| (&& a b) c)"},
      {"a && b && c", "(&& a b c)"},
      {"a || b || c || d", "(|| a b c d)"},
      {"!a == b", "(! (== a b))"},
      {"!a && b", "(&& (! a) b)"},
      {"!!a", "(! (! a))"},
      {"(a || b) && c", "(&& (|| a b) c)"},
      {"((a))", "a"},
      {"a < 1 && b >= 2", "(&& (< a 1) (>= b 2))"},
      {"a != b", "(!= a b)"},
      {"a<=b", "(<= a b)"},
      {"a>b", "(> a b)"},
      {"json(x).a", "(. (json x) a)"},
      {"lines(s)[0]", "([] (lines s) 0)"},
      {"lines(s)[0].x[1]", "([] (. ([] (lines s) 0) x) 1)"},
      {"f()", "(f)"},
      {"contains(a, 'b')", "(contains a \"b\")"},
      {"format_time(now, '%Y', 'UTC')", "(format_time now \"%Y\" \"UTC\")"},
      {"x[y[0]]", "([] x ([] y 0))"},
      {"env['MY-VAR']", "([] env \"MY-VAR\")"},
      {"a-b", "a-b"},
      {"a_b9", "a_b9"},
      {"steps.x.outputs.null", "(. (. (. steps x) outputs) null)"},
      {"a\n&&\tb\r\n", "(&& a b)"},
      {"(a).b", "(. a b)"},
      {"'x'.y", "(. \"x\" y)"},
  };
  for (const auto& c : cases) EXPECT_EQ(Tree(c.text), c.tree) << c.text;
}

TEST(ExprParseTest, ReadsLiterals) {
  const TreeCase cases[] = {
      {"true", "true"},
      {"false", "false"},
      {"null", "null"},
      {"42", "42"},
      {"-5", "-5"},
      {"007", "7"},
      {"0", "0"},
      {"2.5", "2.5"},
      {"-0.5", "-0.5"},
      {"1e3", "1000.0"},
      {"1E-2", "0.01"},
      {"1.5e+2", "150.0"},
      {"9223372036854775807", "9223372036854775807"},
      {"99999999999999999999", "1e+20"},  // too big for int64: a double
      {"''", "\"\""},
      {"'it''s'", "\"it's\""},
      {"''''", "\"'\""},
      {"'a}}b'", "\"a}}b\""},
      {"'line\nbreak'", "\"line\\nbreak\""},
  };
  for (const auto& c : cases) EXPECT_EQ(Tree(c.text), c.tree) << c.text;
}

TEST(ExprParseTest, KeepsIntegersAndDoublesApart) {
  auto i = Expression::Parse("80");
  ASSERT_TRUE(i.ok());
  EXPECT_TRUE(i->root().value.is_int64());
  auto d = Expression::Parse("80.0");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->root().value.is_double());
}

struct ErrorCase {
  const char* text;
  const char* message;
};

TEST(ExprParseTest, ReportsSyntaxErrorsWithTokenAndColumn) {
  const ErrorCase cases[] = {
      {"", "empty expression"},
      {"  \n ", "empty expression"},
      {"a ==", "unexpected end of expression, expected an operand"},
      {"!", "unexpected end of expression, expected an operand"},
      {"(a == b))", "unexpected token ')' at column 9"},
      {"a b", "unexpected token 'b' at column 3"},
      {"a 'x'", "unexpected string literal at column 3"},
      {"(a", "unexpected end of expression, expected ')'"},
      {"(a b)", "unexpected token 'b' at column 4, expected ')'"},
      {"()", "unexpected token ')' at column 2, expected an operand"},
      {"&& a", "unexpected token '&&' at column 1, expected an operand"},
      {"a == || b", "unexpected token '||' at column 6, expected an operand"},
      {"a == b == c", "unexpected token '==' at column 8 (comparisons do not chain; use parentheses)"},
      {"1 < x < 3", "unexpected token '<' at column 7 (comparisons do not chain; use parentheses)"},
      {"a.", "unexpected end of expression, expected a field name after '.'"},
      {"a.1", "unexpected token '1' at column 3, expected a field name after '.'"},
      {"a.'x'", "unexpected string literal at column 3, expected a field name after '.'"},
      {"a.(b)", "unexpected token '(' at column 3, expected a field name after '.'"},
      {"a[0", "unexpected end of expression, expected ']'"},
      {"a[0)", "unexpected token ')' at column 4, expected ']'"},
      {"a[]", "unexpected token ']' at column 3, expected an operand"},
      {"f(a b)", "unexpected token 'b' at column 5, expected ',' or ')'"},
      {"f(a", "unexpected end of expression, expected ',' or ')'"},
      {"f(a,", "unexpected end of expression, expected an operand"},
      {"f(,)", "unexpected token ',' at column 3, expected an operand"},
      {"f(a,)", "unexpected token ')' at column 5, expected an operand"},
      {"a.b(1)", "unexpected token '(' at column 4"},
      {"(a)(1)", "unexpected token '(' at column 4"},
      {"a xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "unexpected token 'xxxxxxxxxxxxxxxxxxxxx...' at column 3"},
  };
  for (const auto& c : cases) EXPECT_EQ(ParseError(c.text), c.message) << c.text;
}

TEST(ExprParseTest, ReportsLexicalErrorsWithCharacterAndColumn) {
  const ErrorCase cases[] = {
      {"'abc", "unterminated string literal at column 1"},
      {"a == 'it''s", "unterminated string literal at column 6"},
      {"'''", "unterminated string literal at column 1"},
      {"a = b", "unexpected character '=' at column 3 (did you mean '=='?)"},
      {"a & b", "unexpected character '&' at column 3 (did you mean '&&'?)"},
      {"a | b", "unexpected character '|' at column 3 (did you mean '||'?)"},
      {"\"x\"", "unexpected character '\"' at column 1 (strings use single quotes)"},
      {"a - b", "unexpected character '-' at column 3 (there is no arithmetic)"},
      {"a + 1", "unexpected character '+' at column 3 (there is no arithmetic)"},
      {"a * 2", "unexpected character '*' at column 3 (there is no arithmetic)"},
      {"a # b", "unexpected character '#' at column 3"},
      {"a ? b : c", "unexpected character '?' at column 3"},
      {"${{ a }}", "unexpected character '$' at column 1"},
      {"a \x01", "unexpected byte 0x01 at column 3"},
      {"\xc3\xa9", "unexpected byte 0xc3 at column 1"},
      {"1e", "malformed number '1e' at column 1"},
      {"1e+", "malformed number '1e+' at column 1"},
      {"1.", "malformed number '1.' at column 1"},
      {"x == 1.2.3", "malformed number '1.2.3' at column 6"},
      {"12abc", "malformed number '12abc' at column 1"},
      {"-1x", "malformed number '-1x' at column 1"},
      {"1e999", "number out of range '1e999' at column 1"},
      {"-1e999", "number out of range '-1e999' at column 1"},
  };
  for (const auto& c : cases) EXPECT_EQ(ParseError(c.text), c.message) << c.text;
}

TEST(ExprParseTest, BoundsNestingSoHostileInputCannotExhaustTheStack) {
  auto nest = [](const std::string& open, const std::string& close, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += open;
    s += "a";
    for (int i = 0; i < n; ++i) s += close;
    return s;
  };
  EXPECT_EQ(Tree(nest("(", ")", kMaxNesting)), "a");
  EXPECT_EQ(ParseError(nest("(", ")", kMaxNesting + 1)), "expression nested too deeply");
  EXPECT_EQ(ParseError(nest("!", "", kMaxNesting + 1)), "expression nested too deeply");
  EXPECT_EQ(ParseError(nest("f(", ")", kMaxNesting + 1)), "expression nested too deeply");
  EXPECT_EQ(ParseError(nest("x[", "]", kMaxNesting + 1)), "expression nested too deeply");
  EXPECT_EQ(ParseError(std::string(60000, '(')), "expression nested too deeply");
  EXPECT_EQ(ParseError(std::string(60000, '!')), "expression nested too deeply");

  // A long member chain builds a tall tree without parser recursion.
  std::string chain = "a";
  for (int i = 0; i < kMaxTreeHeight - 1; ++i) chain += ".b";
  EXPECT_TRUE(Expression::Parse(chain).ok());
  chain += ".b";
  EXPECT_EQ(ParseError(chain), "expression nested too deeply");

  // '&&' and '||' lists are flat: many operands are fine.
  std::string conj = "a";
  for (int i = 0; i < 5000; ++i) conj += " && a";
  EXPECT_TRUE(Expression::Parse(conj).ok());
}

TEST(ExprParseTest, RejectsExpressionsLongerThan64KiB) {
  std::string ok = "'" + std::string(kMaxExpressionBytes - 2, 'x') + "'";
  EXPECT_TRUE(Expression::Parse(ok).ok());
  EXPECT_EQ(ParseError(ok + " "), "expression longer than 65536 bytes");
}

TEST(ExprParseTest, KeepsTheTextAndSharesTheTreeWhenCopied) {
  auto e = Expression::Parse(" params.x == 'a' ");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->text(), " params.x == 'a' ");
  Expression copy = *e;
  Expression moved = std::move(*e);
  EXPECT_EQ(&copy.root(), &moved.root());
  EXPECT_EQ(DebugString(moved.root()), "(== (. params x) \"a\")");
}

using Paths = std::vector<std::vector<std::string>>;

Paths NamePathsOf(std::string_view text) {
  auto e = Expression::Parse(text);
  EXPECT_TRUE(e.ok()) << text;
  return e.ok() ? e->NamePaths() : Paths{};
}

TEST(ExprParseTest, NamePathsAreTheLeadingMemberChainsInOrder) {
  EXPECT_EQ(NamePathsOf("steps.a.outputs.rows[0].x"), (Paths{{"steps", "a", "outputs", "rows"}}));
  EXPECT_EQ(NamePathsOf("params.a == params.b"), (Paths{{"params", "a"}, {"params", "b"}}));
  EXPECT_EQ(NamePathsOf("contains(steps.x.outputs.stdout, env.NEEDLE) && success()"),
            (Paths{{"steps", "x", "outputs", "stdout"}, {"env", "NEEDLE"}}));
  EXPECT_EQ(NamePathsOf("env['MY-VAR']"), (Paths{{"env", "MY-VAR"}}));
  EXPECT_EQ(NamePathsOf("steps['block-attacker'].status"), (Paths{{"steps", "block-attacker", "status"}}));
  EXPECT_EQ(NamePathsOf("steps.a.outputs[params.key]"), (Paths{{"steps", "a", "outputs"}, {"params", "key"}}));
  EXPECT_EQ(NamePathsOf("json(steps.a.outputs.body).items[0].name"), (Paths{{"steps", "a", "outputs", "body"}}));
  EXPECT_EQ(NamePathsOf("!(now > run.started_at) || inputs.ok"),
            (Paths{{"now"}, {"run", "started_at"}, {"inputs", "ok"}}));
  EXPECT_EQ(NamePathsOf("params.x || params.x"), (Paths{{"params", "x"}, {"params", "x"}}));
  EXPECT_EQ(NamePathsOf("unknown.thing"), (Paths{{"unknown", "thing"}}));
  EXPECT_EQ(NamePathsOf("'literal' == 1 && always()"), Paths{});
}

TEST(ExprParseTest, DetectsStatusFunctionsAnywhere) {
  const std::pair<const char*, bool> cases[] = {
      {"success()", true},
      {"!failure() && params.x", true},
      {"params.x || always()", true},
      {"cancelled()", true},
      {"contains(lines(x), string(success()))", true},
      {"params.success", false},
      {"steps.failure.status == 'failed'", false},
      {"length(x) > 0", false},
  };
  for (const auto& [text, uses] : cases) {
    auto e = Expression::Parse(text);
    ASSERT_TRUE(e.ok()) << text;
    EXPECT_EQ(e->UsesStatusFunction(), uses) << text;
  }
}

TEST(ExprParseTest, NamesTypes) {
  EXPECT_STREQ(TypeName(Type::kAny), "any");
  EXPECT_STREQ(TypeName(Type::kNull), "null");
  EXPECT_STREQ(TypeName(Type::kBool), "bool");
  EXPECT_STREQ(TypeName(Type::kNumber), "number");
  EXPECT_STREQ(TypeName(Type::kString), "string");
  EXPECT_STREQ(TypeName(Type::kList), "list");
  EXPECT_STREQ(TypeName(Type::kObject), "object");
}

}  // namespace
}  // namespace runbook::expr
