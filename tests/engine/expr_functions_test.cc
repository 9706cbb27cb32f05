// Each built-in function: results and error messages at run time.
#include <gtest/gtest.h>

#include "engine/expr/expr.h"
#include "tests/engine/expr_test_fakes.h"

namespace runbook::expr {
namespace {

struct Case {
  const char* text;
  const char* want;
};

// Values as JSON (so 5, 5.0 and "5" differ), or "error: message".
void ExpectAll(const std::vector<Case>& cases) {
  for (const auto& c : cases) EXPECT_EQ(EvalText(c.text), c.want) << c.text;
}

// Values as they read in text (for functions that return strings).
std::string Display(std::string_view text) {
  FakeContext ctx;
  auto e = Expression::Parse(text);
  if (!e.ok()) return "parse error: " + e.status().message();
  auto v = Evaluate(*e, ctx);
  return v.ok() ? ToDisplayString(*v) : "error: " + v.status().message();
}

void ExpectDisplay(const std::vector<Case>& cases) {
  for (const auto& c : cases) EXPECT_EQ(Display(c.text), c.want) << c.text;
}

TEST(ExprFunctionsTest, ContainsFindsSubstringsAndListElements) {
  ExpectAll({
      {"contains('hello world', 'lo w')", "true"},
      {"contains('abc', 'x')", "false"},
      {"contains('abc', '')", "true"},
      {"contains('', 'a')", "false"},
      {"contains(params.tags, 'a')", "true"},
      {"contains(params.tags, 3.0)", "true"},
      {"contains(params.tags, '3')", "false"},
      {"contains(params.tags, null)", "false"},
      {"contains(json('[[1], [2]]'), json('[2]'))", "true"},
      {"contains(json('[]'), 1)", "false"},
      {"contains(1, 1)", "error: argument 1 of contains() must be a string or a list, got number"},
      {"contains(params.meta, 'owner')", "error: argument 1 of contains() must be a string or a list, got object"},
      {"contains('a', 1)", "error: argument 2 of contains() must be a string, got number"},
  });
}

TEST(ExprFunctionsTest, StartsWithAndEndsWithCompareBytes) {
  ExpectAll({
      {"starts_with(params.name, 'web')", "true"},
      {"starts_with('web', 'web-1')", "false"},
      {"starts_with('abc', '')", "true"},
      {"ends_with('app.log', '.log')", "true"},
      {"ends_with('app.log', '.LOG')", "false"},
      {"ends_with('', '')", "true"},
      {"starts_with(1, 'a')", "error: argument 1 of starts_with() must be a string, got number"},
      {"ends_with('a', null)", "error: argument 2 of ends_with() must be a string, got null"},
  });
}

TEST(ExprFunctionsTest, IntTruncatesTowardZeroAndParsesNumericStrings) {
  ExpectAll({
      {"int(3.7)", "3"},
      {"int(-3.7)", "-3"},
      {"int(5)", "5"},
      {"int('42')", "42"},
      {"int(' 42\n')", "42"},
      {"int('+5')", "5"},
      {"int('3.9')", "3"},
      {"int('-0.5')", "0"},
      {"int('1e3')", "1000"},
      {"int(true)", "1"},
      {"int(false)", "0"},
      {"int(-9.2e18)", "-9200000000000000000"},
      {"int(-9.223372036854775808e18)", "-9223372036854775808"},
      {"int(9.223372036854775807e18)", "error: int() cannot convert 9223372036854775808: out of range"},
      {"int('+-5')", "error: int() cannot convert '+-5' to a number"},
      {"int('++5')", "error: int() cannot convert '++5' to a number"},
      {"int('+')", "error: int() cannot convert '+' to a number"},
      {"int(steps.df.outputs.big)", "18446744073709551615"},
      {"int('abc')", "error: int() cannot convert 'abc' to a number"},
      {"int('')", "error: int() cannot convert '' to a number"},
      {"int('0x10')", "error: int() cannot convert '0x10' to a number"},
      {"int('1 2')", "error: int() cannot convert '1 2' to a number"},
      {"int('1e30')", "error: int() cannot convert 1e+30: out of range"},
      {"int(1e19)", "error: int() cannot convert 1e+19: out of range"},
      {"int(null)", "error: argument 1 of int() must be a number, a string or a bool, got null"},
      {"int(params.tags)", "error: argument 1 of int() must be a number, a string or a bool, got list"},
  });
}

TEST(ExprFunctionsTest, NumberKeepsIntegersAndParsesDecimals) {
  ExpectAll({
      {"number('42')", "42"},
      {"number(' 7 ')", "7"},
      {"number('3.5')", "3.5"},
      {"number('-1e3')", "-1000.0"},
      {"number(2.5)", "2.5"},
      {"number(9)", "9"},
      {"number(true)", "1"},
      {"number('99999999999999999999')", "1e+20"},
      {"number('nan')", "error: number() cannot convert 'nan' to a number"},
      {"number('inf')", "error: number() cannot convert 'inf' to a number"},
      {"number('12 apples')", "error: number() cannot convert '12 apples' to a number"},
      {"number('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')",
       "error: number() cannot convert 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' to a number"},
      {"number(params.meta)", "error: argument 1 of number() must be a number, a string or a bool, got object"},
      {"number('5') > 4", "true"},
  });
}

TEST(ExprFunctionsTest, StringSpellsValuesLikeTemplates) {
  ExpectDisplay({
      {"string(80.0)", "80"},
      {"string(0.25)", "0.25"},
      {"string(params.tags)", "[\"a\",\"b\",3]"},
      {"string(null)", ""},
      {"string(true)", "true"},
      {"string('x')", "x"},
  });
  ExpectAll({{"string(params.count) == '3'", "true"}});
}

TEST(ExprFunctionsTest, TrimRemovesSurroundingWhitespace) {
  ExpectAll({
      {"trim('  a b \n\t')", "\"a b\""},
      {"trim('')", "\"\""},
      {"trim(' \r\n ')", "\"\""},
      {"trim('x')", "\"x\""},
      {"trim(1)", "error: argument 1 of trim() must be a string, got number"},
  });
}

TEST(ExprFunctionsTest, LinesSplitsOnNewlineAndDropsTheLastEmptyLine) {
  ExpectAll({
      {"lines('a\nb\n')", "[\"a\",\"b\"]"},
      {"lines('a\r\nb')", "[\"a\",\"b\"]"},
      {"lines('')", "[]"},
      {"lines('\n')", "[\"\"]"},
      {"lines('a\n\n')", "[\"a\",\"\"]"},
      {"lines('a')", "[\"a\"]"},
      {"lines(steps.df.outputs.stdout)", "[\"a\",\"b\"]"},
      {"length(lines(steps.df.outputs.stdout))", "2"},
      {"lines(null)", "error: argument 1 of lines() must be a string, got null"},
  });
}

TEST(ExprFunctionsTest, JsonParsesAndReportsWhereItFailed) {
  std::string deep(65, '[');
  deep += std::string(65, ']');
  ExpectAll({
      {"json('{\"a\": [1, 2.5, \"x\", null, true]}')", "{\"a\":[1,2.5,\"x\",null,true]}"},
      {"json('42')", "42"},
      {"json(' \"s\" ')", "\"s\""},
      {"json('{\"a\": {\"b\": [10, 20]}}').a.b[1]", "20"},
      {"json('{\"a\":')", "error: json() got invalid JSON at offset 5: incomplete JSON"},
      {"json('[1, 2,]')", "error: json() got invalid JSON at offset 6: syntax error"},
      {"json('[1,2] x')", "error: json() got invalid JSON at offset 6: extra data"},
      {"json('')", "error: json() got invalid JSON at offset 0: incomplete JSON"},
      {"json(1)", "error: argument 1 of json() must be a string, got number"},
  });
  EXPECT_EQ(EvalText("json('" + deep + "')"), "error: json() got invalid JSON at offset 64: too deep");
}

TEST(ExprFunctionsTest, LengthCountsBytesElementsAndMembers) {
  ExpectAll({
      {"length('h\xc3\xa9llo')", "6"},
      {"length('')", "0"},
      {"length(params.tags)", "3"},
      {"length(params.meta)", "2"},
      {"length(json('{}'))", "0"},
      {"length(1)", "error: argument 1 of length() must be a string, a list or an object, got number"},
  });
}

TEST(ExprFunctionsTest, JoinSpellsEachElement) {
  ExpectAll({
      {"join(params.tags, ', ')", "\"a, b, 3\""},
      {"join(json('[]'), ',')", "\"\""},
      {"join(json('[\"x\"]'), ',')", "\"x\""},
      {"join(json('[null, 1.5, true, [1]]'), '|')", "\"|1.5|true|[1]\""},
      {"join(params.tags)", "error: join() takes 2 arguments, got 1"},
      {"join('a', ',')", "error: argument 1 of join() must be a list, got string"},
  });
}

TEST(ExprFunctionsTest, ToJsonSerializesCompactly) {
  ExpectDisplay({
      {"to_json(params.meta)", "{\"owner\":\"ops\",\"n\":1}"},
      {"to_json('a\"b')", "\"a\\\"b\""},
      {"to_json(null)", "null"},
      {"to_json(params.tags)", "[\"a\",\"b\",3]"},
      {"to_json(params.flag)", "true"},
  });
}

TEST(ExprFunctionsTest, FormatTimeReadsIsoTimesAndEpochSeconds) {
  ExpectDisplay({
      {"format_time('2026-11-29T06:53:04.123Z', '%Y%m%d_%H%M%S', 'UTC')", "20261129_065304"},
      {"format_time(run.started_at, '%Y-%m-%d %H:%M:%S', 'UTC')", "2026-11-29 06:53:04"},
      {"format_time('2026-11-29T06:53:04+01:00', '%H:%M %z', 'UTC')", "05:53 +0000"},
      {"format_time('2026-11-29T06:53:04-0230', '%H:%M', 'UTC')", "09:23"},
      {"format_time('2026-11-29T23:30:00-01', '%d %H:%M', 'UTC')", "30 00:30"},
      {"format_time('2026-11-29', '%Y-%m-%d %H:%M:%S', 'UTC')", "2026-11-29 00:00:00"},
      {"format_time('2026-11-29 06:53Z', '%H:%M:%S', 'UTC')", "06:53:00"},
      {"format_time('2026-11-29t06:53:04', '%H:%M:%S %Z', 'UTC')", "06:53:04 UTC"},
      {"format_time(0, '%Y-%m-%dT%H:%M:%SZ', 'UTC')", "1970-01-01T00:00:00Z"},
      {"format_time(1700000000.9, '%H:%M:%S', 'UTC')", "22:13:20"},
      {"format_time(-1, '%Y-%m-%d %H:%M:%S', 'UTC')", "1969-12-31 23:59:59"},
      {"format_time(-1.5, '%S', 'UTC')", "58"},
  });
}

TEST(ExprFunctionsTest, FormatTimeConvertsToTheGivenZone) {
  ExpectDisplay({
      {"format_time(now, '%j %a %b %Z %z %%', 'Europe/Berlin')", "333 Sun Nov CET +0100 %"},
      {"format_time('2026-07-01T12:00:00Z', '%H %Z', 'Europe/Berlin')", "14 CEST"},
      {"format_time('2026-07-01T12:00:00Z', '%H %Z', 'America/New_York')", "08 EDT"},
      {"format_time('2026-07-01T12:00:00Z', '%H:%M', 'Asia/Kolkata')", "17:30"},
  });
  // Without a zone: the machine's zone, the same as 'local'.
  std::string implicit = Display("format_time(now, '%Y-%m-%d %H:%M %Z')");
  EXPECT_EQ(implicit, Display("format_time(now, '%Y-%m-%d %H:%M %Z', 'local')"));
  EXPECT_EQ(implicit.rfind("2026-11-", 0), 0u) << implicit;
}

TEST(ExprFunctionsTest, FormatTimeRejectsUnreadableTimesRangesAndZones) {
  const std::string expected =
      "; expected ISO-8601 like '2026-11-29T06:53:04Z' or seconds since the epoch";
  for (const char* bad : {"yesterday", "2026-13-01", "2026-02-30", "2026-11-29T25:00Z", "2026-11-29T06:53:04+01:00x",
                          "2026-11-29T06", "2026-11-29T06:53:04.Z", "2026-11-29T06:53+25:00", "26-11-29"}) {
    EXPECT_EQ(Display(std::string("format_time('") + bad + "', '%Y', 'UTC')"),
              std::string("error: format_time() cannot read the time '") + bad + "'" + expected);
  }
  ExpectDisplay({
      {"format_time(1e20, '%Y', 'UTC')", "error: format_time() time out of range: 1e+20"},
      {"format_time(253402300800, '%Y', 'UTC')", "error: format_time() time out of range: 253402300800"},
      {"format_time(-62167219201, '%Y', 'UTC')", "error: format_time() time out of range: -62167219201"},
      {"format_time(steps.df.outputs.big, '%Y', 'UTC')",
       "error: format_time() time out of range: 18446744073709551615"},
      {"format_time('9999-12-31T23:59:59-01:00', '%Y', 'UTC')",
       "error: format_time() time out of range: '9999-12-31T23:59:59-01:00'"},
      {"format_time(253402300799, '%Y', 'UTC')", "9999"},
      {"format_time('0000-01-01T00:00:00Z', '%Y', 'UTC')", "0000"},
      {"format_time(0, '%Y', params.name)", "error: format_time() unknown time zone 'web-1'"},
      {"format_time(true, '%Y')", "error: argument 1 of format_time() must be a number or a string, got bool"},
  });
}

}  // namespace
}  // namespace runbook::expr
