// JsonText: Boost.JSON's text, except doubles in plain decimal.
#include "engine/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace runbook {
namespace {

TEST(JsonTextTest, DoublesReadAsDecimalsAndStayDoubles) {
  const std::pair<double, const char*> cases[] = {
      {0.5, "0.5"},
      {42.5, "42.5"},
      {-0.25, "-0.25"},
      {0.1, "0.1"},
      {1234567.25, "1234567.25"},
      {1.0 / 3, "0.3333333333333333"},
      {3.0, "3.0"},  // integral: still a double when read back, unlike 3
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1000.0, "1000.0"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},  // below 1e-4: exponent form, as Python's repr
      {9999999999999998.0, "9999999999999998.0"},
      {1e16, "1e+16"},
      {1.5e300, "1.5e+300"},
      {std::numeric_limits<double>::min(), "2.2250738585072014e-308"},
  };
  for (const auto& [d, want] : cases) {
    EXPECT_EQ(JsonText(boost::json::value(d)), want);
    EXPECT_EQ(JsonNumberText(d), want);
    boost::json::value back = boost::json::parse(want);
    ASSERT_TRUE(back.is_double()) << want;
    EXPECT_EQ(back.get_double(), d) << want;
    EXPECT_EQ(std::signbit(back.get_double()), std::signbit(d)) << want;
  }
}

TEST(JsonTextTest, WhatJsonCannotExpressIsNull) {
  EXPECT_EQ(JsonText(boost::json::value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(JsonText(boost::json::value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(JsonText(boost::json::value(-std::numeric_limits<double>::infinity())), "null");
}

TEST(JsonTextTest, EveryDoubleReadsBackExactly) {
  std::mt19937_64 rng(20261129);
  std::uniform_int_distribution<uint64_t> bits;
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    uint64_t b = bits(rng);
    double d;
    static_assert(sizeof d == sizeof b);
    std::memcpy(&d, &b, sizeof d);
    if (!std::isfinite(d)) continue;
    std::string text = JsonText(boost::json::value(d));
    // A JSON number of kind double...
    boost::json::error_code ec;
    boost::json::value back = boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << text;
    ASSERT_TRUE(back.is_double()) << text;
    // ...whose text is exactly d (read with from_chars: Boost.JSON 1.81's
    // parser is off by an ulp for some, e.g. -3.9421174673923774e-153).
    double exact = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), exact);
    ASSERT_EQ(r.ptr, text.data() + text.size()) << text;
    ASSERT_EQ(exact, d) << text;
    ++checked;
  }
  EXPECT_GT(checked, 19000);
}

TEST(JsonTextTest, EverythingButDoublesIsAsBoostJsonWritesIt) {
  boost::json::value v = boost::json::parse(
      R"({"s":"quote \" backslash \\ tab \t nul \u0000 é ✔","i":-42,"u":18446744073709551615,)"
      R"("b":[true,false,null],"o":{"nested":{"empty":{},"list":[]}},"":""})");
  EXPECT_EQ(JsonText(v), boost::json::serialize(v));
  EXPECT_EQ(JsonText(v.as_object()), boost::json::serialize(v));
  EXPECT_EQ(JsonText(v.at("b").as_array()), "[true,false,null]");
}

TEST(JsonTextTest, StringsAreEscapedByteForByteAsBoostJsonEscapesThem) {
  std::string every;
  for (int c = 0; c < 256; ++c) every += static_cast<char>(c);  // invalid UTF-8 too: kept as is
  for (const std::string& s : {every, std::string("plain"), std::string(""), std::string("\"\\\"")}) {
    boost::json::value v(s);
    EXPECT_EQ(JsonText(v), boost::json::serialize(v));
    std::string body;  // the same, streamed without the quotes
    AppendJsonStringBody(body, s);
    EXPECT_EQ("\"" + body + "\"", boost::json::serialize(v));
    boost::json::object o;
    o[s] = s;  // keys too
    EXPECT_EQ(JsonText(o), boost::json::serialize(o));
  }
}

TEST(JsonTextTest, DoublesInsideContainers) {
  boost::json::value v = {{"load", 0.5}, {"series", {1.5, 2, 1e-7}}, {"n", 3}};
  EXPECT_EQ(JsonText(v), R"({"load":0.5,"series":[1.5,2,1e-07],"n":3})");
  std::string out = "x=";
  AppendJsonText(out, v.at("series"));
  EXPECT_EQ(out, "x=[1.5,2,1e-07]");
}

}  // namespace
}  // namespace runbook
