// engine/env.h: sorted "KEY=VALUE" environments.
#include "engine/env.h"

#include <gtest/gtest.h>

namespace runbook {
namespace {

using Env = std::vector<std::string>;

TEST(EnvTest, SetEnvReplacesOrInsertsKeepingKeysSorted) {
  Env env;
  SetEnv(env, "PATH", "/bin");
  SetEnv(env, "A", "1");
  SetEnv(env, "Z", "26");
  SetEnv(env, "PATH", "/usr/bin:/bin");
  SetEnv(env, "EMPTY", "");
  SetEnv(env, "X", "a=b");
  EXPECT_EQ(env, (Env{"A=1", "EMPTY=", "PATH=/usr/bin:/bin", "X=a=b", "Z=26"}));
}

TEST(EnvTest, KeysThatArePrefixesOfOthersStayApart) {
  Env env;
  SetEnv(env, "AB", "2");
  SetEnv(env, "A", "1");
  SetEnv(env, "A_", "3");
  SetEnv(env, "A", "one");
  EXPECT_EQ(env, (Env{"A=one", "AB=2", "A_=3"}));
  ASSERT_NE(FindEnv(env, "AB"), nullptr);
  EXPECT_EQ(*FindEnv(env, "AB"), "AB=2");
  EXPECT_EQ(FindEnv(env, "B"), nullptr);
  EXPECT_EQ(FindEnv(env, "A_="), nullptr);
}

TEST(EnvTest, SortEnvKeepsTheFirstOfEqualKeysLikeGetenvAndDropsEntriesWithoutEquals) {
  Env env = {"PATH=/first", "HOME=/root", "junk", "PATH=/second", "A=1"};
  SortEnv(env);
  EXPECT_EQ(env, (Env{"A=1", "HOME=/root", "PATH=/first"}));
}

}  // namespace
}  // namespace runbook
