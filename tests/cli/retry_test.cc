// Acceptance: retries in real time. A step fails twice, then succeeds; with
// `retry: {attempts: 3, delay: 300ms, backoff: 2}` the journal holds three
// attempts, spaced by at least the delays, and a retry event for each retry.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

TEST(CliRetry, StepFailingTwiceIsRetriedWithBackoffAndEveryAttemptIsJournaled) {
  CliSandbox box;
  std::string count = box.Path("count");
  std::string rb = box.WriteRunbook("flaky", R"(name: flaky
steps:
  - id: flaky
    retry: {attempts: 3, delay: 300ms, backoff: 2}
    run: |
      n=$(cat )" + count + R"( 2>/dev/null || echo 0)
      n=$((n + 1))
      echo $n > )" + count + R"yaml(
      echo "attempt $n (RUNBOOK_ATTEMPT=$RUNBOOK_ATTEMPT)"
      [ "$n" -ge 3 ]
)yaml");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(ReadFile(count), "3\n");
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  std::string run_id = JsonString(*summary, "run_id");

  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  auto attempts = j->GetAttempts(run_id);
  ASSERT_TRUE(attempts.ok()) << attempts.status().message();
  ASSERT_EQ(attempts->size(), 3u);
  const journal::AttemptStatus want[] = {journal::AttemptStatus::kFailed, journal::AttemptStatus::kFailed,
                                         journal::AttemptStatus::kSucceeded};
  for (int i = 0; i < 3; ++i) {
    const auto& a = (*attempts)[i];
    SCOPED_TRACE("attempt " + std::to_string(i + 1));
    EXPECT_EQ(a.step_id, "flaky");
    EXPECT_EQ(a.attempt, i + 1);
    EXPECT_EQ(a.status, want[i]) << journal::ToString(a.status);
    ASSERT_TRUE(a.started_at_us && a.finished_at_us);
    EXPECT_EQ(a.exit_code, i < 2 ? std::optional<int>(1) : std::optional<int>(0));
  }
  int64_t gap1 = *(*attempts)[1].started_at_us - *(*attempts)[0].started_at_us;
  int64_t gap2 = *(*attempts)[2].started_at_us - *(*attempts)[1].started_at_us;
  EXPECT_GE(gap1, 300000) << "first retry came " << gap1 << " us after the first attempt";
  EXPECT_GE(gap2, 600000) << "second retry came " << gap2 << " us after the second attempt (backoff 2)";
  // Upper bounds only to catch a unit mix-up (seconds for milliseconds).
  EXPECT_LT(gap1, 20000000);
  EXPECT_LT(gap2, 20000000);

  auto events = j->GetEvents(run_id);
  ASSERT_TRUE(events.ok());
  std::vector<int64_t> delays;
  for (const auto& e : *events) {
    if (e.kind != "retry") continue;
    EXPECT_EQ(e.step_id, "flaky");
    auto data = ParseJson(e.data_json, "retry event data");
    if (data && data->is_object() && data->as_object().contains("delay_ms"))
      delays.push_back(data->as_object().at("delay_ms").to_number<int64_t>());
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{300, 600}));

  // Each attempt's output is kept apart.
  auto chunks = j->GetOutput(run_id, std::string("flaky"));
  ASSERT_TRUE(chunks.ok());
  std::map<int, std::string> by_attempt;
  for (const auto& c : *chunks) by_attempt[c.attempt] += c.data;
  for (int i = 1; i <= 3; ++i)
    EXPECT_EQ(by_attempt[i], "attempt " + std::to_string(i) + " (RUNBOOK_ATTEMPT=" + std::to_string(i) + ")\n");

  boost::json::value show = box.ShowJson(run_id);
  const boost::json::object* step = FindStep(show, "flaky");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(JsonString(*step, "status"), "succeeded");
  EXPECT_EQ(step->at("attempts").to_number<int>(), 3);
}

}  // namespace
}  // namespace runbook::clitest
