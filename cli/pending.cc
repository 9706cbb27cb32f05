#include "cli/pending.h"

#include <boost/json/parse.hpp>
#include <map>

namespace runbook::cli {

namespace {

constexpr int kMaxDepth = 8;  // child runs nest at most 8 deep (docs/runbook-format.md)

// The last attempt of each step of `run_id`.
std::map<std::string, journal::AttemptRecord> LastAttempts(const journal::Journal& j, const std::string& run_id) {
  std::map<std::string, journal::AttemptRecord> last;
  auto attempts = j.GetAttempts(run_id);
  if (!attempts.ok()) return last;
  for (auto& a : *attempts) {
    auto it = last.find(a.step_id);
    if (it == last.end() || a.attempt > it->second.attempt) last[a.step_id] = std::move(a);
  }
  return last;
}

// The child run a waiting `runbook` step waits for: its outputs name the
// child's id, and that run names this one as its parent. "" otherwise.
std::string ChildRunOf(const journal::Journal& j, const std::string& run_id, const journal::AttemptRecord& a) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(a.outputs_json, ec);
  if (ec || !v.is_object()) return "";
  const boost::json::value* id = v.as_object().if_contains("run_id");
  if (!id || !id->is_string()) return "";
  std::string child(id->as_string());
  auto run = j.GetRun(child);
  if (!run.ok() || run->parent_run != run_id) return "";
  return child;
}

void Collect(const journal::Journal& j, const std::string& run_id, const journal::AttemptRecord& a, int depth,
             std::vector<PendingDecision>& out) {
  if (a.status != journal::AttemptStatus::kWaiting) return;
  std::string child = depth < kMaxDepth ? ChildRunOf(j, run_id, a) : "";
  if (child.empty()) {
    out.push_back({run_id, a.step_id});
    return;
  }
  for (const auto& [step, attempt] : LastAttempts(j, child)) Collect(j, child, attempt, depth + 1, out);
}

}  // namespace

std::vector<PendingDecision> PendingDecisions(const journal::Journal& j, const std::string& run_id,
                                              const std::string& step) {
  std::vector<PendingDecision> out;
  auto last = LastAttempts(j, run_id);
  auto it = last.find(step);
  if (it != last.end()) Collect(j, run_id, it->second, 0, out);
  return out;
}

std::string DecideHint(const std::vector<PendingDecision>& pending, const std::string& run_id,
                       const std::string& waiting_step) {
  std::string hint;
  for (const auto& p : pending) {
    if (!hint.empty()) hint += " and ";
    hint += "runbook approve " + p.run_id + " " + p.step;
  }
  if (hint.empty()) hint = "runbook approve " + run_id + " " + waiting_step;
  return hint + ", then runbook resume " + run_id;
}

}  // namespace runbook::cli
