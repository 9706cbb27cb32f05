// Templates: splitting text into literal and `${{ }}` parts, rendering to a
// string or a typed value, and how errors name the part they come from.
#include <gtest/gtest.h>

#include "engine/expr/expr.h"
#include "engine/json_text.h"
#include "tests/engine/expr_test_fakes.h"

namespace runbook::expr {
namespace {

std::string Render(std::string_view text) {
  auto t = Template::Parse(text);
  if (!t.ok()) return "parse error: " + t.status().message();
  FakeContext ctx;
  auto s = RenderString(*t, ctx);
  return s.ok() ? *s : "error: " + s.status().message();
}

std::string RenderJson(std::string_view text) {
  auto t = Template::Parse(text);
  if (!t.ok()) return "parse error: " + t.status().message();
  FakeContext ctx;
  auto v = RenderValue(*t, ctx);
  return v.ok() ? JsonText(*v) : "error: " + v.status().message();
}

TEST(ExprTemplateTest, LiteralTextHasNoExpression) {
  auto t = Template::Parse("plain {text} with } and { and }} and $ and ${ x }");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->IsLiteral());
  EXPECT_FALSE(t->IsSingleExpression());
  ASSERT_EQ(t->parts().size(), 1u);
  EXPECT_EQ(t->parts()[0].literal, "plain {text} with } and { and }} and $ and ${ x }");
  EXPECT_EQ(t->parts()[0].expr, nullptr);
  EXPECT_EQ(RenderJson("plain {text}"), "\"plain {text}\"");

  auto empty = Template::Parse("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->IsLiteral());
  EXPECT_TRUE(empty->parts().empty());
  EXPECT_EQ(Render(""), "");
  EXPECT_EQ(RenderJson(""), "\"\"");
}

TEST(ExprTemplateTest, SplitsIntoLiteralsAndExpressions) {
  auto t = Template::Parse("${{ params.name }}-${{params.count}}.log");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->IsLiteral());
  EXPECT_FALSE(t->IsSingleExpression());
  EXPECT_EQ(t->source(), "${{ params.name }}-${{params.count}}.log");
  const auto& p = t->parts();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].literal, "");
  ASSERT_NE(p[0].expr, nullptr);
  EXPECT_EQ(p[0].expr->text(), " params.name ");
  EXPECT_EQ(p[1].literal, "-");
  ASSERT_NE(p[1].expr, nullptr);
  EXPECT_EQ(p[1].expr->text(), "params.count");
  EXPECT_EQ(p[2].literal, ".log");
  EXPECT_EQ(p[2].expr, nullptr);
  EXPECT_EQ(Render("${{ params.name }}-${{params.count}}.log"), "web-1-3.log");
}

TEST(ExprTemplateTest, SingleExpressionKeepsItsType) {
  auto t = Template::Parse("${{ params.count }}");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->IsSingleExpression());
  EXPECT_EQ(RenderJson("${{ params.count }}"), "3");
  EXPECT_EQ(RenderJson("${{ params.tags }}"), "[\"a\",\"b\",3]");
  EXPECT_EQ(RenderJson("${{ params.flag }}"), "true");
  EXPECT_EQ(RenderJson("${{ null }}"), "null");
  EXPECT_EQ(RenderJson("${{ params.ratio }}"), "0.5");
  // Anything around the expression makes it a string.
  EXPECT_EQ(RenderJson(" ${{ params.count }}"), "\" 3\"");
  EXPECT_EQ(RenderJson("${{ params.count }}${{ params.count }}"), "\"33\"");
  EXPECT_EQ(RenderJson("${{ params.count }}%"), "\"3%\"");
}

TEST(ExprTemplateTest, RendersValuesWithTheirDisplaySpelling) {
  EXPECT_EQ(Render("count=${{ params.count }} ratio=${{ params.ratio }} flag=${{ params.flag }}"),
            "count=3 ratio=0.5 flag=true");
  EXPECT_EQ(Render("[${{ null }}]"), "[]");
  EXPECT_EQ(Render("tags: ${{ params.tags }}"), "tags: [\"a\",\"b\",3]");
  EXPECT_EQ(Render("${{ 80.0 }}%"), "80%");
  EXPECT_EQ(Render("$${{ 1 }}"), "$1");
  EXPECT_EQ(Render("{${{ 1 }}}"), "{1}");
  EXPECT_EQ(Render("${{ 1 }}}"), "1}");
}

TEST(ExprTemplateTest, ClosingBracesInsideStringLiteralsDoNotEndTheExpression) {
  EXPECT_EQ(Render("${{ '}}' }}"), "}}");
  EXPECT_EQ(Render("a${{ 'x}}y' == 'x}}y' }}b"), "atrueb");
  EXPECT_EQ(Render("${{ 'it''s }}' }}"), "it's }}");
  EXPECT_EQ(Render("${{ contains('{{}}', '}') }}"), "true");
}

TEST(ExprTemplateTest, ReportsUnterminatedAndEmptyExpressions) {
  EXPECT_EQ(Render("${{ a"), "parse error: unterminated '${{'");
  EXPECT_EQ(Render("x ${{ 1 }} ${{"), "parse error: unterminated '${{'");
  EXPECT_EQ(Render("x ${{ '}} "), "parse error: unterminated '${{'");
  EXPECT_EQ(Render("${{ }"), "parse error: unterminated '${{'");
  EXPECT_EQ(Render("${{ }}"), "parse error: in '${{ }}': empty expression");
  EXPECT_EQ(Render("${{}}"), "parse error: in '${{}}': empty expression");
}

TEST(ExprTemplateTest, PrefixesParseErrorsWithThePart) {
  EXPECT_EQ(Render("${{ a == }}"), "parse error: in '${{ a == }}': unexpected end of expression, expected an operand");
  EXPECT_EQ(Render("ok ${{ 1 }} ${{ a b }}"), "parse error: in '${{ a b }}': unexpected token 'b' at column 4");
  std::string long_part = "${{ params.x == 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' = }}";
  EXPECT_EQ(Render(long_part),
            "parse error: in '${{ params.x == 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...}}': "
            "unexpected character '=' at column 77 (did you mean '=='?)");
}

TEST(ExprTemplateTest, PrefixesEvaluationErrorsWithThePartAndKeepsTheirCode) {
  EXPECT_EQ(Render("token=${{ secrets.BROKEN }}"), "error: in '${{ secrets.BROKEN }}': cannot read secret 'BROKEN'");
  EXPECT_EQ(RenderJson("${{ secrets.BROKEN }}"), "error: in '${{ secrets.BROKEN }}': cannot read secret 'BROKEN'");
  auto t = Template::Parse("${{ secrets.BROKEN }}!");
  ASSERT_TRUE(t.ok());
  FakeContext ctx;
  auto s = RenderString(*t, ctx);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kIoError);
  EXPECT_EQ(Render("${{ 1 < 'a' }}"),
            "error: in '${{ 1 < 'a' }}': '<' needs two numbers or two strings, got number and string");
}

TEST(ExprTemplateTest, HasExpressionLooksForTheOpeningMarker) {
  EXPECT_TRUE(HasExpression("a ${{ b }}"));
  EXPECT_TRUE(HasExpression("${{"));
  EXPECT_FALSE(HasExpression("a ${ b }"));
  EXPECT_FALSE(HasExpression("{{ b }}"));
  EXPECT_FALSE(HasExpression(""));
}

class TypesScope : public Scope {
 public:
  Result<Type> Lookup(const std::vector<std::string>& path) const override {
    if (path == std::vector<std::string>{"params", "n"}) return Type::kNumber;
    return Status::InvalidArgument("unknown parameter '" + path.back() + "'");
  }
};

TEST(ExprTemplateTest, CheckTemplateTypesSingleExpressionsAndPrefixesErrors) {
  TypesScope scope;
  auto check = [&](std::string_view text, bool in_condition = false) -> std::string {
    auto t = Template::Parse(text);
    if (!t.ok()) return "parse error: " + t.status().message();
    auto r = CheckTemplate(*t, scope, in_condition);
    return r.ok() ? TypeName(*r) : "error: " + r.status().message();
  };
  EXPECT_EQ(check("${{ params.n }}"), "number");
  EXPECT_EQ(check("${{ params.n > 1 }}"), "bool");
  EXPECT_EQ(check("n=${{ params.n }}"), "string");
  EXPECT_EQ(check("literal"), "string");
  EXPECT_EQ(check("${{ params.m }}"), "error: in '${{ params.m }}': unknown parameter 'm'");
  EXPECT_EQ(check("a ${{ success() }}"), "error: in '${{ success() }}': success() is only allowed in 'if'");
  EXPECT_EQ(check("${{ success() }}", /*in_condition=*/true), "bool");
}

}  // namespace
}  // namespace runbook::expr
