// Values reach scripts as environment variables, never as shell text.
#include "engine/script.h"

#include <gtest/gtest.h>

#include "engine/values.h"

namespace runbook {
namespace {

ValueContext Ctx() {
  ValueContext c;
  c.params["ip"] = "x\"; touch /tmp/pwned; echo \"";
  c.params["n"] = 3;
  return c;
}

TEST(BindScript, UnquotedExpressionBecomesAQuotedVariable) {
  auto b = BindScript("ufw deny from ${{ params.ip }}", Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "ufw deny from \"${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(b->env.at("RUNBOOK_EXPR_1"), "x\"; touch /tmp/pwned; echo \"");
}

TEST(BindScript, InsideDoubleQuotesTheVariableIsBare) {
  auto b = BindScript("ufw deny from \"${{ params.ip }}\" # n=${{ params.n }}", Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "ufw deny from \"${RUNBOOK_EXPR_1}\" # n=\"${RUNBOOK_EXPR_2}\"");
  EXPECT_EQ(b->env.at("RUNBOOK_EXPR_2"), "3");
}

TEST(BindScript, InsideSingleQuotesTheQuoteIsClosedAndReopened) {
  auto b = BindScript("echo 'ip=${{ params.ip }}.'", Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "echo 'ip='\"${RUNBOOK_EXPR_1}\"'.'");
}

TEST(BindScript, EscapedQuotesDoNotConfuseTheScanner) {
  auto b = BindScript("echo \"a\\\"b\" ${{ params.n }}", Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "echo \"a\\\"b\" \"${RUNBOOK_EXPR_1}\"");
}

TEST(BindScript, EvaluationErrorsNameTheExpression) {
  auto b = BindScript("echo ${{ int('abc') }}", Ctx());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("int('abc')"), std::string::npos) << b.status().message();
}

}  // namespace
}  // namespace runbook
