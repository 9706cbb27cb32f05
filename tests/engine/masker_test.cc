#include "engine/masker.h"

#include <gtest/gtest.h>

namespace runbook {
namespace {

TEST(Masker, MasksPlainBase64AndUrlEncodedForms) {
  Masker m({"s3cr3t/t0ken+x"});
  EXPECT_EQ(m.Mask("token=s3cr3t/t0ken+x;"), "token=***;");
  EXPECT_EQ(m.Mask(Base64("s3cr3t/t0ken+x")), "***");
  EXPECT_EQ(m.Mask("q=" + UrlEncode("s3cr3t/t0ken+x")), "q=***");
  EXPECT_EQ(m.Mask("nothing here"), "nothing here");
}

TEST(Masker, TooShortSecretsAreNotMasked) {
  Masker m({"ab"});
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.Mask("abab"), "abab");
}

TEST(StreamMasker, CatchesASecretSplitAcrossChunks) {
  Masker m({"hunter2-password"});
  StreamMasker s(m);
  std::string out = s.Push("login hunter2-pa");
  out += s.Push("ssword ok\n");
  out += s.Finish();
  EXPECT_EQ(out, "login *** ok\n");
}

TEST(StreamMasker, PassesDataThroughByteExactWithoutSecrets) {
  Masker m;
  StreamMasker s(m);
  std::string data("a\0b\xff", 4);
  EXPECT_EQ(s.Push(data) + s.Finish(), data);
}

TEST(Encoding, Base64MatchesTheStandardVectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
}

TEST(Encoding, Base64AndUrlEncode) {
  EXPECT_EQ(Base64("ab"), "YWI=");
  EXPECT_EQ(Base64("abc"), "YWJj");
  EXPECT_EQ(Base64("a"), "YQ==");
  EXPECT_EQ(UrlEncode("a b/c"), "a%20b%2Fc");
}

}  // namespace
}  // namespace runbook
