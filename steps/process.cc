#include "steps/process.h"

namespace runbook::steps {

std::string_view ToString(ProcessResult::End end) {
  switch (end) {
    case ProcessResult::End::kExited: return "exited";
    case ProcessResult::End::kSignaled: return "signaled";
    case ProcessResult::End::kTimedOut: return "timed_out";
    case ProcessResult::End::kCancelled: return "cancelled";
    case ProcessResult::End::kLaunchFailed: return "launch_failed";
  }
  return "unknown";
}

}  // namespace runbook::steps
