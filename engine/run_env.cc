// The environment of a step's processes (see StepContext::env): built once
// per run from the engine's own, the runbook's env and the run's RUNBOOK_*
// variables, then copied and completed for each attempt.
#include "engine/env.h"
#include "engine/run_execution.h"

extern char** environ;

namespace runbook::internal {

std::vector<std::string> RunExecution::StepEnv(const CompiledStep& cs, int attempt, std::string& error) {
  if (!run_env_ready_) {
    // Once per run. Variables of ours (RUNBOOK_*) are set, not inherited.
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      if (!kv.starts_with("RUNBOOK_")) run_env_.emplace_back(kv);
    }
    SortEnv(run_env_);
    for (const auto& [k, v] : values_.env) SetEnv(run_env_, k, v);
    run_vars_ = {{"RUNBOOK_RUN_ID", run_id_}, {"RUNBOOK_INCIDENT", incident_}, {"RUNBOOK_RUNBOOK", rb_.spec.name}};
    for (const auto& [k, v] : values_.params)
      run_vars_.emplace_back("RUNBOOK_PARAM_" + std::string(k), expr::ToDisplayString(v));
    for (const auto& [k, v] : run_vars_) SetEnv(run_env_, k, v);
    // Set for every step below; present already, they are replaced in place.
    SetEnv(run_env_, "RUNBOOK_ATTEMPT", "");
    SetEnv(run_env_, "RUNBOOK_STEP_ID", "");
    run_env_ready_ = true;
  }
  std::vector<std::string> env = run_env_;
  bool overlaid = false;
  for (const auto* list : {&rb_.spec.defaults.env, &cs.spec->env}) {
    for (const auto& e : *list) {
      auto r = Render(e.value);
      if (!r.ok()) {
        error = "env '" + e.name + "': " + r.status().message();
        return env;
      }
      SetEnv(env, e.name, *r);
      overlaid = true;
    }
  }
  if (overlaid) {
    for (const auto& [k, v] : run_vars_) SetEnv(env, k, v);  // the run's variables win over the step's
  }
  SetEnv(env, "RUNBOOK_STEP_ID", cs.id());
  SetEnv(env, "RUNBOOK_ATTEMPT", std::to_string(attempt));
  return env;
}

}  // namespace runbook::internal
