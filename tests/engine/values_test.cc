// Small pure pieces of the engine: durations, output extraction, params.
#include <gtest/gtest.h>

#include <chrono>

#include "engine/duration.h"
#include "engine/extract.h"
#include "engine/params.h"
#include "engine/schema_reader.h"
#include "engine/values.h"

namespace runbook {
namespace {

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(*ParseDuration("500ms"), Millis(500));
  EXPECT_EQ(*ParseDuration("30s"), Millis(30000));
  EXPECT_EQ(*ParseDuration("1h30m"), Millis(5400000));
  EXPECT_EQ(*ParseDuration("1.5s"), Millis(1500));
  EXPECT_EQ(*ParseDuration("2d"), Millis(172800000));
  EXPECT_EQ(*ParseDuration("45"), Millis(45000));
  for (const char* bad : {"", "5 minutes", "m5", "1m1h", "1.2.3s", "5x", "1s1s"})
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  EXPECT_EQ(FormatDuration(Millis(5400000)), "1h30m");
  EXPECT_EQ(FormatDuration(Millis(250)), "250ms");
  EXPECT_EQ(FormatDuration(Millis(1500)), "1.5s");
}

TEST(Extract, RegexGroupTypedAsNumber) {
  OutputRule r;
  r.name = "cpu";
  r.regex = R"(Cpu\(s\):\s+([0-9.]+))";
  r.type = OutputType::kNumber;
  auto v = ExtractOutput(r, "top - 10:00\n%Cpu(s):  12.5 us, 3.0 sy\n");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_DOUBLE_EQ(v->as_double(), 12.5);
}

TEST(Extract, JsonPointerAndDefault) {
  OutputRule r;
  r.name = "active";
  r.from = "body";
  r.json_pointer = "/is_active";
  r.type = OutputType::kJson;
  auto v = ExtractOutput(r, R"({"is_active": true, "reason": "x"})");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->as_bool());
  r.json_pointer = "/missing";
  EXPECT_EQ(ExtractOutput(r, "{}").status().message(), "output 'active': JSON pointer '/missing' not found in body");
  r.default_value = false;
  EXPECT_FALSE(ExtractOutput(r, "{}")->as_bool());
}

TEST(Extract, ConversionErrorsNameTheValue) {
  OutputRule r;
  r.name = "n";
  r.type = OutputType::kInt;
  EXPECT_EQ(ExtractOutput(r, "abc\n").status().message(), "output 'n': 'abc\n' is not an integer");
  EXPECT_EQ(ExtractOutput(r, " 42\n")->as_int64(), 42);
}

TEST(Params, CommandLineOverridesProfileAndEveryViolationIsReported) {
  Diagnostics load;
  Node decl = Node::Scalar("", {});
  RunbookSpec spec;
  spec.name = "t";
  ParamSpec host{"host", {}, ParamType::kString, false, boost::json::value("localhost"), "", {}, {}, {}, {}};
  ParamSpec port{"port", {}, ParamType::kInt, false, boost::json::value(3306), "", {}, {}, 1, 65535};
  ParamSpec reason{"reason", {}, ParamType::kString, true, std::nullopt, "", {}, {}, {}, {}};
  spec.params = {host, port, reason};
  Node site;
  site.kind = Node::Kind::kMapping;
  site.keys = {"host", "unrelated"};
  site.key_locs = {{}, {}};
  site.items = {Node::Scalar("db.internal", {}, false), Node::Scalar("x", {}, false)};
  ParamSources src;
  src.site = &site;
  src.cli = {{"port", "99999"}, {"nope", "1"}};
  Diagnostics diags;
  auto values = ResolveParams(spec, src, diags);
  EXPECT_EQ(values.at("host").as_string(), "db.internal");
  EXPECT_EQ(diags.FormatAll(),
            "-p: error: unknown parameter 'nope' for runbook 't'\n"
            "-p: error: parameter 'port' value 99999 is above the maximum 65535\n"
            "-p: error: missing required parameter 'reason' (give it with -p reason=...)\n");
}

// The journal stores microseconds; a system_clock time_point (nanoseconds)
// ends in 2262, and `journal prune --older-than 2999-01-01` printed its
// cutoff through one (signed overflow under UBSan).
TEST(IsoUtc, MicrosecondsPrintForAnyYearAndBeforeTheEpoch) {
  EXPECT_EQ(IsoUtcMicros(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(IsoUtcMicros(1'764'403'200'123'456), "2025-11-29T08:00:00.123Z");
  EXPECT_EQ(IsoUtcMicros(32'472'144'000'000'000), "2999-01-01T00:00:00.000Z");
  EXPECT_EQ(IsoUtcMicros(-1'000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(IsoUtc(std::chrono::system_clock::time_point(std::chrono::microseconds(1'764'403'200'123'456))),
            "2025-11-29T08:00:00.123Z");
}

}  // namespace
}  // namespace runbook
