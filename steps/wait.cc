// `wait`: a pause, or polling an expression until it holds.
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class WaitType : public StepType {
 public:
  std::string_view name() const override { return "wait"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"duration", FieldKind::kDuration, false, {}},
        {"until", FieldKind::kString, false, {}},
        {"every", FieldKind::kDuration, false, {}},
        {"max", FieldKind::kDuration, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    const Node& f = step.fields;
    if (f.Find("duration") && f.Find("until"))
      diags.Error(f.KeyLoc("until"), ctx + "give either 'duration' or 'until', not both");
    else if (!f.Find("duration") && !f.Find("until"))
      diags.Error(step.loc, ctx + "a wait needs 'duration' or 'until'");
    if (!f.Find("until")) {
      for (const char* k : {"every", "max"})
        if (f.Find(k)) diags.Error(f.KeyLoc(k), ctx + "'" + k + "' applies only with 'until'");
    }
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override { return {}; }
};

}  // namespace

std::unique_ptr<StepType> MakeWaitType() { return std::make_unique<WaitType>(); }

}  // namespace runbook::steps
