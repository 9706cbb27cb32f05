#include "journal/records.h"

#include <array>
#include <utility>

namespace runbook::journal {

namespace {

// Spellings indexed by enumerator value; the order matches the enum.
constexpr std::array<std::string_view, 6> kRunStatus = {
    "running", "waiting", "succeeded", "failed", "cancelled", "interrupted"};
constexpr std::array<std::string_view, 8> kAttemptStatus = {
    "pending", "waiting", "running", "succeeded", "failed", "timed_out", "skipped", "cancelled"};
constexpr std::array<std::string_view, 3> kBlock = {"main", "on_failure", "finally"};
constexpr std::array<std::string_view, 5> kTrigger = {"manual", "cron", "resume", "child", "api"};
constexpr std::array<std::string_view, 2> kStream = {"stdout", "stderr"};
constexpr std::array<std::string_view, 3> kFindingLevel = {"info", "warning", "critical"};
constexpr std::array<std::string_view, 2> kDecision = {"approved", "rejected"};

template <class E, size_t N>
std::string_view Name(const std::array<std::string_view, N>& names, E v) {
  return names[static_cast<size_t>(v)];
}

template <class E, size_t N>
std::optional<E> Parse(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::string_view ToString(RunStatus v) { return Name(kRunStatus, v); }
std::string_view ToString(AttemptStatus v) { return Name(kAttemptStatus, v); }
std::string_view ToString(Block v) { return Name(kBlock, v); }
std::string_view ToString(Trigger v) { return Name(kTrigger, v); }
std::string_view ToString(Stream v) { return Name(kStream, v); }
std::string_view ToString(FindingLevel v) { return Name(kFindingLevel, v); }
std::string_view ToString(Decision v) { return Name(kDecision, v); }

std::optional<RunStatus> ParseRunStatus(std::string_view s) {
  return Parse<RunStatus>(kRunStatus, s);
}
std::optional<AttemptStatus> ParseAttemptStatus(std::string_view s) {
  return Parse<AttemptStatus>(kAttemptStatus, s);
}
std::optional<Block> ParseBlock(std::string_view s) { return Parse<Block>(kBlock, s); }
std::optional<Trigger> ParseTrigger(std::string_view s) { return Parse<Trigger>(kTrigger, s); }
std::optional<Stream> ParseStream(std::string_view s) { return Parse<Stream>(kStream, s); }
std::optional<FindingLevel> ParseFindingLevel(std::string_view s) {
  return Parse<FindingLevel>(kFindingLevel, s);
}
std::optional<Decision> ParseDecision(std::string_view s) { return Parse<Decision>(kDecision, s); }

bool IsFinished(RunStatus v) {
  return v != RunStatus::kRunning && v != RunStatus::kWaiting;
}

bool IsFinished(AttemptStatus v) {
  return v != AttemptStatus::kPending && v != AttemptStatus::kWaiting &&
         v != AttemptStatus::kRunning;
}

}  // namespace runbook::journal
