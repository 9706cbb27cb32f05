// What `shell` and `exec` steps share: turning a StepContext into a
// ProcessRequest (environment, cwd, stdin, timeout) and a ProcessResult into
// a StepOutcome (success_codes, signals, cancellation). Runs on the run's
// io_context thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "steps/process.h"

namespace runbook::steps {

// Runs `argv` for the step in `ctx`, adding `extra_env` to its environment.
boost::asio::awaitable<StepOutcome> RunProcessStep(ProcessLauncher& launcher, StepContext& ctx,
                                                   std::vector<std::string> argv,
                                                   const std::map<std::string, std::string>& extra_env);

// Executors for the two process step types, sharing one launcher.
std::unique_ptr<StepExecutor> MakeShellExecutor(ProcessLauncher& launcher);
std::unique_ptr<StepExecutor> MakeExecExecutor(ProcessLauncher& launcher);

}  // namespace runbook::steps
