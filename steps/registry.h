// The built-in step types (SPEC.md §3): one file per type under steps/, each
// exposing a factory here. main.cc and the tests build the registry with
// BuiltinStepTypes() and lend it to the loader and the compiler.
#pragma once

#include <memory>

#include "engine/step_type.h"

namespace runbook {
class StepExecutor;
}

namespace runbook::steps {

class ProcessLauncher;

std::unique_ptr<StepType> MakeShellType();
std::unique_ptr<StepType> MakeExecType();
std::unique_ptr<StepType> MakeHttpType();
std::unique_ptr<StepType> MakeSqlType();
std::unique_ptr<StepType> MakeCheckType();
std::unique_ptr<StepType> MakeApprovalType();
std::unique_ptr<StepType> MakeNotifyType();
std::unique_ptr<StepType> MakeWaitType();
std::unique_ptr<StepType> MakeRunbookType();

// All of the above.
const StepTypeRegistry& BuiltinStepTypes();

// Executors (engine/executor.h) of the types above, built by cmd_run.cc on
// the run's io_context (shell and exec: process_step.h).
std::unique_ptr<StepExecutor> MakeCheckExecutor();
std::unique_ptr<StepExecutor> MakeWaitExecutor();
std::unique_ptr<StepExecutor> MakeHttpExecutor();
std::unique_ptr<StepExecutor> MakeSqlExecutor();
// Child runs through StepContext::children (the runner).
std::unique_ptr<StepExecutor> MakeRunbookExecutor();
// Channels `command` and `email` (sendmail) run their program through `launcher`.
std::unique_ptr<StepExecutor> MakeNotifyExecutor(ProcessLauncher& launcher);

}  // namespace runbook::steps
