// Output extraction against hostile patterns and texts (issue #8): the regex
// engine never overflows the stack or matches forever, keeps ECMAScript's
// meaning of `.`, `^` and `$`, and type conversion refuses what does not fit.
// The loader reports a pattern the engine refuses as an invalid regex.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstring>
#include <memory>

#include "engine/compiler.h"
#include "engine/extract.h"
#include "engine/loader.h"
#include "steps/registry.h"

namespace runbook {
namespace {

OutputRule Regex(std::string pattern, int group = 1) {
  OutputRule r;
  r.name = "x";
  r.regex = std::move(pattern);
  r.group = group;
  return r;
}

TEST(ExtractHardening, RepetitionOverAHugeTextDoesNotOverflowTheStack) {
  // std::regex recursed once per character here and crashed at ~30 KB.
  const std::string text(4u << 20, 'a');
  auto v = ExtractOutput(Regex("([^x]*)"), text);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->as_string().size(), text.size());
  v = ExtractOutput(Regex(R"(([\s\S]*))"), text);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->as_string().size(), text.size());
}

TEST(ExtractHardening, PatternsThatNeedUnboundedBacktrackingGiveUpWithAClearError) {
  const std::string text(100000, 'a');
  for (const char* pattern : {"(a*)*b", "(.|\\n)*x", "(a|aa)*c"}) {
    SCOPED_TRACE(pattern);
    auto v = ExtractOutput(Regex(pattern), text);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().message().rfind(std::string("output 'x': regex '") + pattern +
                                             "' gave up on 100000 bytes of stdout: ", 0),
              0u)
        << v.status().message();
  }
}

TEST(ExtractHardening, DeeplyNestedPatternIsAnInvalidRegexNotACrash) {
  std::string deep = std::string(30000, '(') + "a" + std::string(30000, ')');
  auto g = RegexGroups(deep);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("at offset"), std::string::npos) << g.status().message();

  Diagnostics diags;
  std::string yaml = "name: deep\nsteps:\n  - id: a\n    run: echo a\n    outputs:\n      x: {regex: '" + deep + "'}\n";
  auto spec = LoadRunbookText(yaml, "deep.yaml", steps::BuiltinStepTypes(), diags);
  EXPECT_TRUE(diags.has_errors());
  EXPECT_NE(diags.FormatAll().find("deep.yaml:6:"), std::string::npos);
  EXPECT_NE(diags.FormatAll().find("output 'x': invalid regex '((("), std::string::npos);
}

TEST(ExtractHardening, PatternEndingInsideABracketRangeIsRefusedWithoutReadingPastIt) {
  // Found by extract_fuzz: Boost.Regex reads one byte past such a pattern. The
  // pattern here is exactly its 8 bytes on the heap, so that the ASan build
  // (RUNBOOK_SANITIZE) sees any read beyond them.
  const char text[] = "([0+0+-)";
  std::unique_ptr<char[]> exact(new char[sizeof text - 1]);
  std::memcpy(exact.get(), text, sizeof text - 1);
  auto g = RegexGroups(std::string_view(exact.get(), sizeof text - 1));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("at offset"), std::string::npos) << g.status().message();
}

TEST(ExtractHardening, KeepsEcmaScriptMeaningOfDotAndAnchors) {
  // `.` stops at a line end; `^` and `$` anchor the whole text, not lines.
  EXPECT_EQ(*ExtractOutput(Regex("(.+)"), "ab\ncd"), boost::json::value("ab"));
  EXPECT_FALSE(ExtractOutput(Regex("^(.*)$"), "ab\ncd").ok());
  EXPECT_FALSE(ExtractOutput(Regex("^(cd)"), "ab\ncd").ok());
  EXPECT_EQ(*ExtractOutput(Regex("(cd)$"), "ab\ncd"), boost::json::value("cd"));
  EXPECT_EQ(*ExtractOutput(Regex(R"(v(\d+)\.(\d+))", 2), "version v12.34\n"), boost::json::value("34"));
  EXPECT_FALSE(ExtractOutput(Regex(R"((?:x)(y)?z)"), "xz").ok()) << "an unmatched group is no match";
  EXPECT_EQ(RegexGroups(R"((a)(?:b)(c(d)))").value(), 3u);
  EXPECT_TRUE(RegexFullMatch("[a-z-]+", "web-1x").value() == false);
  EXPECT_TRUE(RegexFullMatch("[a-z0-9-]+", "web-1").value());
  EXPECT_TRUE(RegexFullMatch("^[a-z]*$", std::string(1 << 20, 'a')).value());
}

TEST(ExtractHardening, IntegerConversionRefusesWhatDoesNotFitAndKeepsExactIntegers) {
  OutputRule r;
  r.name = "n";
  r.json_pointer = "/n";
  r.type = OutputType::kInt;
  EXPECT_EQ(ExtractOutput(r, R"({"n": 1e300})").status().message(),
            "output 'n': '1e+300' is out of range for an integer");
  EXPECT_FALSE(ExtractOutput(r, R"({"n": 18446744073709551615})").ok());
  EXPECT_FALSE(ExtractOutput(r, R"({"n": -9.3e18})").ok());
  EXPECT_EQ(ExtractOutput(r, R"({"n": 9007199254740993})")->as_int64(), 9007199254740993);
  EXPECT_EQ(ExtractOutput(r, R"({"n": 9223372036854775807})")->as_int64(), 9223372036854775807);
  EXPECT_EQ(ExtractOutput(r, R"({"n": -2.9})")->as_int64(), -2);
}

}  // namespace
}  // namespace runbook
