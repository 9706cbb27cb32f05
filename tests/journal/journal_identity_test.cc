// Run ids, SHA-256, process identity, and the stored spellings of the enums.
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <set>

#include "journal/identity.h"
#include "journal/records.h"
#include "journal/sha256.h"

namespace runbook::journal {
namespace {

TEST(NewRunIdTest, IsTwelveLowercaseHexCharactersAndDoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRunId();
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{12}"))) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Sha256Test, MatchesKnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, IncrementalEqualsOneShotAndDigestDoesNotDisturbIt) {
  Sha256 h;
  EXPECT_EQ(h.HexDigest(), Sha256Hex(""));
  h.Update("a");
  EXPECT_EQ(h.HexDigest(), Sha256Hex("a"));
  h.Update(std::string_view("b\0c", 3));
  EXPECT_EQ(h.HexDigest(), Sha256Hex(std::string_view("ab\0c", 4)));
  Sha256 moved = std::move(h);
  moved.Update("d");
  EXPECT_EQ(moved.HexDigest(), Sha256Hex(std::string_view("ab\0cd", 5)));
}

TEST(ProcessIdentityTest, DescribesTheCurrentProcess) {
  ProcessIdentity me = CurrentProcess();
  EXPECT_EQ(me.pid, getpid());
  EXPECT_EQ(me.host, HostName());
  EXPECT_GT(me.start_time, 0);
  EXPECT_EQ(ProcessStartTime(getpid()), me.start_time);
  EXPECT_TRUE(ProcessIsAlive(me));
  EXPECT_EQ(LocalActor(), UserName() + "@" + HostName());
  EXPECT_FALSE(UserName().empty());
}

TEST(ProcessIdentityTest, ANonexistentPidHasNoStartTimeAndIsNotAlive) {
  ProcessIdentity ghost = CurrentProcess();
  ghost.pid = 0x3fffffff;  // above any pid_max
  EXPECT_EQ(ProcessStartTime(ghost.pid), std::nullopt);
  EXPECT_FALSE(ProcessIsAlive(ghost));
}

TEST(RecordsTest, EveryEnumSpellingRoundTrips) {
  for (int i = 0; i < 6; ++i) {
    auto v = static_cast<RunStatus>(i);
    EXPECT_EQ(ParseRunStatus(ToString(v)), v);
  }
  for (int i = 0; i < 8; ++i) {
    auto v = static_cast<AttemptStatus>(i);
    EXPECT_EQ(ParseAttemptStatus(ToString(v)), v);
  }
  EXPECT_EQ(ToString(AttemptStatus::kTimedOut), "timed_out");
  EXPECT_EQ(ToString(RunStatus::kInterrupted), "interrupted");
  EXPECT_EQ(ToString(Block::kOnFailure), "on_failure");
  EXPECT_EQ(ParseBlock("finally"), Block::kFinally);
  EXPECT_EQ(ToString(Trigger::kApi), "api");
  EXPECT_EQ(ParseTrigger("cron"), Trigger::kCron);
  EXPECT_EQ(ParseStream("stderr"), Stream::kStderr);
  EXPECT_EQ(ParseFindingLevel("warning"), FindingLevel::kWarning);
  EXPECT_EQ(ParseDecision("rejected"), Decision::kRejected);
  EXPECT_EQ(ParseRunStatus("Running"), std::nullopt);
  EXPECT_EQ(ParseAttemptStatus(""), std::nullopt);
  EXPECT_FALSE(IsFinished(RunStatus::kWaiting));
  EXPECT_TRUE(IsFinished(RunStatus::kInterrupted));
  EXPECT_FALSE(IsFinished(AttemptStatus::kPending));
  EXPECT_TRUE(IsFinished(AttemptStatus::kSkipped));
}

}  // namespace
}  // namespace runbook::journal
