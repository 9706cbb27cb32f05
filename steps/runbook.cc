// `runbook`: runs another runbook as a child run (same incident), passing
// parameters; its status and outputs become this step's outputs.
#include "engine/loader.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class RunbookType : public StepType {
 public:
  std::string_view name() const override { return "runbook"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"runbook", FieldKind::kString, true, {}},
        {"params", FieldKind::kMapping, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    const Node* r = step.fields.Find("runbook");
    if (r && !IsValidRunbookName(r->scalar))
      diags.Error(r->loc, "step '" + step.id + "': invalid runbook name '" + r->scalar + "'");
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"run_id", expr::Type::kString}, {"status", expr::Type::kString}, {"outputs", expr::Type::kObject}};
  }
};

}  // namespace

std::unique_ptr<StepType> MakeRunbookType() { return std::make_unique<RunbookType>(); }

}  // namespace runbook::steps
