// ReadYaml: what the Node tree keeps of the YAML (nulls, quoting, tags,
// anchors, merge keys) and where each kind of bad input is reported: libyaml's
// syntax errors with their context, its reader's byte-offset errors as a line
// and column, and our own limits and rules.
#include "engine/yaml_reader.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace runbook {
namespace {

const auto kFile = std::make_shared<const std::string>("t.yaml");

std::optional<Node> Read(std::string_view text, std::string* error = nullptr) {
  Diagnostics diags;
  std::optional<Node> n = ReadYaml(text, kFile, diags);
  EXPECT_EQ(n.has_value(), !diags.has_errors());
  if (error) *error = diags.all().empty() ? "" : diags.all()[0].Format();
  EXPECT_LE(diags.all().size(), 1u);
  return n;
}

std::string ErrorOf(std::string_view text) {
  std::string error;
  EXPECT_FALSE(Read(text, &error).has_value()) << text;
  return error;
}

TEST(YamlReaderTest, PlainNullsAreNullAndQuotedOrTaggedOnesAreStrings) {
  auto n = Read("a:\nb: ~\nc: null\nd: NULL\ne: ''\nf: 'null'\ng: !!str null\nh: |\n  x\ni: plain\nj: ! ~\n");
  ASSERT_TRUE(n && n->IsMapping());
  for (const char* k : {"a", "b", "c", "d"}) EXPECT_TRUE(n->Find(k)->IsNull()) << k;
  for (const char* k : {"e", "f", "g", "h", "j"}) {
    ASSERT_TRUE(n->Find(k)->IsScalar()) << k;
    EXPECT_TRUE(n->Find(k)->quoted) << k;
  }
  // An empty value is placed where it would have been, on its key's line
  // (not at the next token, which may be lines further down).
  EXPECT_EQ(n->Find("a")->loc.line, 1);
  EXPECT_EQ(n->Find("a")->loc.col, 3);
  EXPECT_EQ(n->Find("f")->scalar, "null");
  EXPECT_EQ(n->Find("h")->scalar, "x\n");
  EXPECT_FALSE(n->Find("i")->quoted);
  EXPECT_EQ(n->Find("i")->loc.line, 10);
  EXPECT_EQ(n->Find("i")->loc.col, 4);
}

TEST(YamlReaderTest, ScalarsKeepEmbeddedNulBytesAndUnicode) {
  auto n = Read("a: \"x\\0y\"\nb: grüße\n");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->Find("a")->scalar, std::string("x\0y", 3));
  EXPECT_EQ(n->Find("b")->scalar, "grüße");
}

TEST(YamlReaderTest, AnchorsAliasesAndMergeKeys) {
  auto n = Read("base: &b {x: 1, y: 2}\nlist: &l [a, b]\nuse: *l\nm:\n  <<: *b\n  y: 3\nb2: &b [z]\nlater: *b\n");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->Find("use")->size(), 2u);
  const Node* m = n->Find("m");
  ASSERT_TRUE(m && m->IsMapping());
  EXPECT_EQ(m->Find("x")->scalar, "1");
  EXPECT_EQ(m->Find("y")->scalar, "3");  // the mapping's own key wins
  EXPECT_EQ(m->keys.size(), 2u);
  ASSERT_TRUE(n->Find("later")->IsSequence());  // a later anchor of the same name replaces
  EXPECT_EQ(n->Find("later")->items[0].scalar, "z");
}

TEST(YamlReaderTest, SyntaxErrorsNameTheProblemAndWhereItsConstructStarted) {
  EXPECT_EQ(ErrorOf("a: 1\n  b: 2\n"), "t.yaml:2:4: error: YAML syntax: mapping values are not allowed in this context");
  EXPECT_EQ(ErrorOf("steps:\n  - id: a\n    needs: [b\n"),
            "t.yaml:4:1: error: YAML syntax: did not find expected ',' or ']' "
            "(while parsing a flow sequence that starts at line 3, column 12)");
  EXPECT_EQ(ErrorOf("a: \"unterminated\n"),
            "t.yaml:2:1: error: YAML syntax: found unexpected end of stream "
            "(while scanning a quoted scalar that starts at line 1, column 4)");
}

TEST(YamlReaderTest, BadBytesAreReportedAtTheirLineAndColumn) {
  EXPECT_EQ(ErrorOf("a: 1\nb: x\xff\n"), "t.yaml:2:5: error: YAML syntax: invalid leading UTF-8 octet (byte 0xff)");
  EXPECT_EQ(ErrorOf(std::string("a: 1\nb: \x01\n")),
            "t.yaml:2:4: error: YAML syntax: control characters are not allowed (byte 0x01)");
}

TEST(YamlReaderTest, OurOwnRulesAreReportedWhereTheyWereBroken) {
  EXPECT_EQ(ErrorOf("a: 1\nb: 2\na: 3\n"), "t.yaml:3:1: error: duplicate key 'a' (first at line 1)");
  EXPECT_EQ(ErrorOf("a: *nowhere\n"), "t.yaml:1:4: error: unknown YAML alias '*nowhere'");
  EXPECT_EQ(ErrorOf("a: !!int 3\n"), "t.yaml:1:4: error: unsupported YAML tag 'tag:yaml.org,2002:int'");
  EXPECT_EQ(ErrorOf("? [x]\n: 1\n"), "t.yaml:1:3: error: mapping keys must be plain strings");
  EXPECT_EQ(ErrorOf("a: 1\n---\nb: 2\n"), "t.yaml:3:1: error: more than one YAML document in the file");
  EXPECT_EQ(ErrorOf("m:\n  <<: [1]\n"), "t.yaml:2:8: error: merge key '<<' needs a mapping");
}

TEST(YamlReaderTest, AnEmptyOrCommentOnlyFileIsReportedAsEmpty) {
  for (std::string_view text : {"", "# nothing here\n", "\n\n"})
    EXPECT_EQ(ErrorOf(text), "t.yaml:1:1: error: the file is empty; a runbook is a YAML mapping");
}

TEST(YamlReaderTest, LimitsStopTheParseWhereTheyAreHit) {
  Diagnostics diags;
  YamlLimits limits;
  limits.max_depth = 3;
  EXPECT_FALSE(ReadYaml("a: [[[[1]]]]\n", kFile, diags, limits));
  ASSERT_EQ(diags.all().size(), 1u);
  EXPECT_EQ(diags.all()[0].Format(), "t.yaml:1:6: error: YAML nesting deeper than 3 levels");
  Diagnostics d2;
  limits = YamlLimits{};
  limits.max_nodes = 5;
  EXPECT_FALSE(ReadYaml("[1, 2, 3, 4, 5, 6]\n", kFile, d2, limits));
  ASSERT_EQ(d2.all().size(), 1u);
  EXPECT_EQ(d2.all()[0].Format(), "t.yaml:1:14: error: YAML document has more than 5 nodes");
}

}  // namespace
}  // namespace runbook
