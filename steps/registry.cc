#include "steps/registry.h"

namespace runbook::steps {

const StepTypeRegistry& BuiltinStepTypes() {
  static const StepTypeRegistry* registry = [] {
    auto* r = new StepTypeRegistry;
    r->Add(MakeShellType());
    r->Add(MakeExecType());
    r->Add(MakeHttpType());
    r->Add(MakeSqlType());
    r->Add(MakeCheckType());
    r->Add(MakeApprovalType());
    r->Add(MakeNotifyType());
    r->Add(MakeWaitType());
    r->Add(MakeRunbookType());
    return r;
  }();
  return *registry;
}

}  // namespace runbook::steps
