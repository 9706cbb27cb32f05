// ValueContext: the values expressions see during a run (or a plan): params,
// env, secrets, run properties, `now`, and the results of finished steps.
//
// The scheduler fills it as the run goes; `plan` fills only what is known
// before running (params, env, masked secrets) and everything else reads as
// "known at run time". Owned by the run; single-threaded (the run's
// io_context thread).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/expr/expr.h"

namespace runbook {

struct StepResultValues {
  std::string status;  // succeeded, failed, skipped, ...
  std::optional<long long> exit_code;
  boost::json::object outputs;
  // Why the step did not succeed (its error, the skip's or cancel's reason),
  // masked; empty when it succeeded. `steps.ID.error` in expressions.
  std::string error;
};

class ValueContext : public expr::Context {
 public:
  boost::json::object params;
  std::map<std::string, std::string> env;      // runbook env, rendered
  std::map<std::string, std::string> secrets;  // name -> value (or "***" in a plan)
  std::map<std::string, std::string> missing_secrets;  // name -> why it has no value
  boost::json::object run;                     // id, incident, started_at, runbook, trigger, actor
  std::unordered_map<std::string, StepResultValues> steps;
  // Step-level env overlay for the step being rendered (rendered values).
  const std::map<std::string, std::string>* step_env = nullptr;
  // The time source; unset in a plan (then `now` is known only at run time).
  std::function<std::string()> now;
  // In a plan, what is known only at run time is an error that says so
  // (shown as such); during a run, a result that does not exist (a step that
  // never ran) reads as null.
  bool plan_mode = false;
  // Status functions for the step being decided; unset: known at run time.
  std::function<Result<bool>(std::string_view)> status_function;

  Result<boost::json::value> Lookup(const std::vector<std::string>& path) const override;
  Result<bool> StatusFunction(std::string_view name) const override;
};

// "2026-11-29T06:53:04.123Z" for a point in time.
std::string IsoUtc(std::chrono::system_clock::time_point t);
// The same from microseconds since the epoch, for any year the journal can
// hold (a system_clock time_point counts nanoseconds and ends in 2262).
std::string IsoUtcMicros(int64_t us);

}  // namespace runbook
