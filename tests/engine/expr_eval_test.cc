// The evaluator: names through a Context, operators, members and indexes,
// status functions, truthiness and how values are spelled in strings.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/expr/expr.h"
#include "tests/engine/expr_test_fakes.h"

namespace runbook::expr {
namespace {

struct Case {
  const char* text;
  const char* want;  // JSON of the value, or "error: message"
};

void ExpectAll(const std::vector<Case>& cases) {
  for (const auto& c : cases) EXPECT_EQ(EvalText(c.text), c.want) << c.text;
}

TEST(ExprEvalTest, EvaluatesLiterals) {
  ExpectAll({
      {"'it''s'", "\"it's\""},
      {"42", "42"},
      {"-5", "-5"},
      {"2.5", "2.5"},
      {"true", "true"},
      {"null", "null"},
  });
}

TEST(ExprEvalTest, ReadsNamesThroughTheContext) {
  ExpectAll({
      {"params.name", "\"web-1\""},
      {"params.count", "3"},
      {"params.tags", "[\"a\",\"b\",3]"},
      {"steps.df.outputs.use", "91"},
      {"steps.block-attacker.status", "\"skipped\""},
      {"steps['block-attacker'].status", "\"skipped\""},
      {"env['MY-VAR']", "\"v\""},
      {"now", "\"2026-11-29T07:00:00Z\""},
      {"inputs.ok", "true"},
  });
  FakeContext ctx;
  EXPECT_EQ(EvalText("steps.df.outputs.rows[1].x", ctx), "2");
  EXPECT_EQ(ctx.lookups, (std::vector<std::vector<std::string>>{{"steps", "df", "outputs", "rows"}}));
}

TEST(ExprEvalTest, MissingValuesAreNullButOtherContextErrorsFail) {
  ExpectAll({
      {"steps.df.outputs.nothing", "null"},
      {"steps.df.outputs.nothing == null", "true"},
      {"params.missing || 'fallback'", "true"},
      {"secrets.BROKEN", "error: cannot read secret 'BROKEN'"},
      {"foo", "error: unknown name 'foo'"},
      {"parms.x", "error: unknown name 'parms' (did you mean 'params'?)"},
  });
}

TEST(ExprEvalTest, EqualityIsStrictExceptBetweenNumbers) {
  ExpectAll({
      {"1 == 1", "true"},
      {"1 == 1.0", "true"},
      {"params.ratio == 0.5", "true"},
      {"1 == '1'", "false"},
      {"1 != '1'", "true"},
      {"'a' == 'a'", "true"},
      {"'a' != 'b'", "true"},
      {"null == null", "true"},
      {"null == false", "false"},
      {"0 == false", "false"},
      {"'' == null", "false"},
      {"true == true", "true"},
      {"params.tags == json('[\"a\", \"b\", 3.0]')", "true"},
      {"params.tags == json('[\"a\", \"b\"]')", "false"},
      {"params.meta == json('{\"n\": 1.0, \"owner\": \"ops\"}')", "true"},
      {"params.meta == json('{\"n\": 1, \"owner\": \"dev\"}')", "false"},
      {"params.meta == json('{\"n\": 1, \"other\": \"ops\"}')", "false"},
      {"steps.df.outputs.big == 18446744073709551615", "true"},
      {"steps.df.outputs.big == 9223372036854775807", "false"},
      {"steps.df.status == 'succeeded'", "true"},
  });
}

TEST(ExprEvalTest, OrdersNumbersByValueAndStringsByBytes) {
  ExpectAll({
      {"2 < 10", "true"},
      {"'2' < '10'", "false"},
      {"'abc' < 'abd'", "true"},
      {"'ab' < 'abc'", "true"},
      {"'B' < 'a'", "true"},
      {"1.5 < 2", "true"},
      {"2 <= 2.0", "true"},
      {"3 > 2.999", "true"},
      {"3 >= 4", "false"},
      {"-1 < steps.df.outputs.big", "true"},
      {"steps.df.outputs.big > 9223372036854775807", "true"},
      {"9223372036854775807 > 9223372036854775806", "true"},
      {"steps.df.outputs.use > 90", "true"},
      {"run.started_at < now", "true"},
      {"'1' < 2", "error: '<' needs two numbers or two strings, got string and number"},
      {"null >= 0", "error: '>=' needs two numbers or two strings, got null and number"},
      {"true > false", "error: '>' needs two numbers or two strings, got bool and bool"},
      {"params.tags <= params.tags", "error: '<=' needs two numbers or two strings, got list and list"},
  });
}

TEST(ExprEvalTest, LogicShortCircuitsAndGivesBool) {
  ExpectAll({
      {"false && secrets.BROKEN", "false"},
      {"true || secrets.BROKEN", "true"},
      {"true && secrets.BROKEN", "error: cannot read secret 'BROKEN'"},
      {"false || secrets.BROKEN", "error: cannot read secret 'BROKEN'"},
      {"'a' || 'b'", "true"},
      {"'a' && 'b'", "true"},
      {"'' || 0", "false"},
      {"params.name && params.count && params.tags", "true"},
      {"params.name && params.empty && secrets.BROKEN", "false"},
      {"!''", "true"},
      {"!'a'", "false"},
      {"!!params.meta", "true"},
      {"!null", "true"},
      {"!(1 == 2) && (2 > 1 || false)", "true"},
  });
}

TEST(ExprEvalTest, MembersOfObjectsAndMissingMembersAreNull) {
  ExpectAll({
      {"json('{\"a\": {\"b\": 1}}').a.b", "1"},
      {"json('{\"a\": 1}').missing", "null"},
      {"json('{\"a\": 1}').a.b", "error: 'json('{\"a\": 1}').a' is a number; it has no field 'b'"},
      {"json('null').x", "error: 'json('null')' is null; it has no field 'x'"},
      {"json('[1]').x", "error: 'json('[1]')' is a list; it has no field 'x'"},
      {"params.name.x", "null"},  // a leading chain: the context decides (here: not found)
      {"(params.count == 3).x", "error: 'params.count == 3' is a bool; it has no field 'x'"},
  });
}

TEST(ExprEvalTest, IndexesListsWithNumbersAndObjectsWithStrings) {
  ExpectAll({
      {"params.tags[0]", "\"a\""},
      {"params.tags[2]", "3"},
      {"params.tags[3]", "null"},
      {"params.tags[1.0]", "\"b\""},
      {"params.tags[1e300]", "null"},
      {"params.tags[steps.df.outputs.big]", "null"},
      {"steps.df.outputs.rows[0].x", "1"},
      {"steps.df.outputs.rows[params.count]", "null"},
      {"lines('a')[0]", "\"a\""},
      {"params.meta[params.key]", "\"ops\""},
      {"params.meta[params.name]", "null"},
      {"params.tags[-1]", "error: index -1 into 'params.tags' is negative"},
      {"params.tags[1.5]", "error: 'params.tags' is a list; index it with a whole number, got 1.5"},
      {"params.tags[params.name]", "error: 'params.tags' is a list; index it with a number, got string"},
      {"params.tags[null]", "error: 'params.tags' is a list; index it with a number, got null"},
      {"params.meta[1]", "error: 'params.meta' is an object; index it with a string, got number"},
      {"params.count[0]", "error: 'params.count' is a number; it cannot be indexed"},
      {"params.name[0]", "error: 'params.name' is a string; it cannot be indexed"},
      {"steps.df.outputs.nothing[0]", "error: 'steps.df.outputs.nothing' is null; it cannot be indexed"},
  });
}

TEST(ExprEvalTest, AsksTheContextForStatusFunctions) {
  FakeContext ctx;
  EXPECT_EQ(EvalText("success()", ctx), "true");
  EXPECT_EQ(EvalText("failure()", ctx), "false");
  EXPECT_EQ(EvalText("always() && !failure()", ctx), "true");
  EXPECT_EQ(EvalText("cancelled()", ctx), "error: cancelled() is not available here");
  ctx.SetStatus("failure", true);
  EXPECT_EQ(EvalText("failure()", ctx), "true");
  EXPECT_EQ(EvalText("success(1)", ctx), "error: success() takes no arguments, got 1");
}

TEST(ExprEvalTest, ChecksFunctionsAgainRunTimeValues) {
  ExpectAll({
      {"lenght(params.name)", "error: unknown function 'lenght' (did you mean 'length'?)"},
      {"trim()", "error: trim() takes 1 argument, got 0"},
      {"int(steps.df.outputs.data)", "error: argument 1 of int() must be a number, a string or a bool, got list"},
      {"trim(steps.df.outputs.use)", "error: argument 1 of trim() must be a string, got number"},
      {"contains(params.name, params.count)", "error: argument 2 of contains() must be a string, got number"},
      {"trim(secrets.BROKEN)", "error: cannot read secret 'BROKEN'"},
  });
}

TEST(ExprEvalTest, TruthinessIsJavaScriptLike) {
  using boost::json::value;
  EXPECT_FALSE(Truthy(value()));
  EXPECT_FALSE(Truthy(value(false)));
  EXPECT_FALSE(Truthy(value(0)));
  EXPECT_FALSE(Truthy(value(std::uint64_t{0})));
  EXPECT_FALSE(Truthy(value(0.0)));
  EXPECT_FALSE(Truthy(value(-0.0)));
  EXPECT_FALSE(Truthy(value(std::nan(""))));
  EXPECT_FALSE(Truthy(value("")));
  EXPECT_TRUE(Truthy(value(true)));
  EXPECT_TRUE(Truthy(value(-1)));
  EXPECT_TRUE(Truthy(value(std::uint64_t{1})));
  EXPECT_TRUE(Truthy(value(0.001)));
  EXPECT_TRUE(Truthy(value("false")));
  EXPECT_TRUE(Truthy(value("0")));
  EXPECT_TRUE(Truthy(value(boost::json::array())));
  EXPECT_TRUE(Truthy(value(boost::json::object())));
}

TEST(ExprEvalTest, DisplaysValuesAsTheyReadInText) {
  using boost::json::value;
  EXPECT_EQ(ToDisplayString(value(42)), "42");
  EXPECT_EQ(ToDisplayString(value(-7)), "-7");
  EXPECT_EQ(ToDisplayString(value(std::numeric_limits<std::uint64_t>::max())), "18446744073709551615");
  EXPECT_EQ(ToDisplayString(value(80.0)), "80");
  EXPECT_EQ(ToDisplayString(value(-0.0)), "0");
  EXPECT_EQ(ToDisplayString(value(-3.0)), "-3");
  EXPECT_EQ(ToDisplayString(value(999999999999999.0)), "999999999999999");
  EXPECT_EQ(ToDisplayString(value(1e15)), "1000000000000000");
  EXPECT_EQ(ToDisplayString(value(1.5e10)), "15000000000");
  EXPECT_EQ(ToDisplayString(value(15000000000.5)), "15000000000.5");
  EXPECT_EQ(ToDisplayString(value(1e16)), "1e+16");
  EXPECT_EQ(ToDisplayString(value(0.0001)), "0.0001");
  EXPECT_EQ(ToDisplayString(value(0.00012)), "0.00012");
  EXPECT_EQ(ToDisplayString(value(0.00001)), "1e-05");
  EXPECT_EQ(ToDisplayString(value(0.1)), "0.1");
  EXPECT_EQ(ToDisplayString(value(91.5)), "91.5");
  EXPECT_EQ(ToDisplayString(value(1.0 / 3)), "0.3333333333333333");
  EXPECT_EQ(ToDisplayString(value(1e-7)), "1e-07");
  EXPECT_EQ(ToDisplayString(value(std::numeric_limits<double>::infinity())), "inf");
  EXPECT_EQ(ToDisplayString(value("a \"b\"")), "a \"b\"");
  EXPECT_EQ(ToDisplayString(value(true)), "true");
  EXPECT_EQ(ToDisplayString(value(false)), "false");
  EXPECT_EQ(ToDisplayString(value()), "");
  EXPECT_EQ(ToDisplayString(boost::json::parse(R"([1, "a", null, {"k": true}])")), R"([1,"a",null,{"k":true}])");
  EXPECT_EQ(ToDisplayString(boost::json::parse(R"({"a": [], "b": {}})")), R"({"a":[],"b":{}})");
}

TEST(ExprEvalTest, SharedExpressionEvaluatesAgainstDifferentContexts) {
  auto e = Expression::Parse("failure() && steps.df.outputs.use > 90");
  ASSERT_TRUE(e.ok());
  FakeContext a, b;
  b.SetStatus("failure", true);
  auto va = Evaluate(*e, a);
  auto vb = Evaluate(*e, b);
  ASSERT_TRUE(va.ok());
  ASSERT_TRUE(vb.ok());
  EXPECT_EQ(*va, boost::json::value(false));
  EXPECT_EQ(*vb, boost::json::value(true));
}

TEST(ExprEvalTest, DefaultConstructedExpressionIsAnErrorNotACrash) {
  Expression e;
  FakeContext ctx;
  auto v = Evaluate(e, ctx);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "empty expression");
  EXPECT_TRUE(e.NamePaths().empty());
  EXPECT_FALSE(e.UsesStatusFunction());
}

}  // namespace
}  // namespace runbook::expr
