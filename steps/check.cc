// `check`: compares a value with thresholds (or asserts a condition) and
// produces a finding at a level (info, warning, critical).
#include "engine/schema_reader.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class CheckType : public StepType {
 public:
  std::string_view name() const override { return "check"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"value", FieldKind::kAny, false, {}},
        {"info", FieldKind::kString, false, {}},
        {"warn", FieldKind::kString, false, {}},
        {"critical", FieldKind::kString, false, {}},
        {"assert", FieldKind::kString, false, {}},
        {"severity", FieldKind::kEnum, false, {"info", "warning", "critical"}},
        {"message", FieldKind::kString, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    const Node& f = step.fields;
    bool thresholds = f.Find("info") || f.Find("warn") || f.Find("critical");
    if (f.Find("assert")) {
      if (f.Find("value") || thresholds)
        diags.Error(f.KeyLoc("assert"), ctx + "use either 'assert' (with 'severity') or 'value' with thresholds, not both");
    } else if (f.Find("value")) {
      if (!thresholds) diags.Error(f.KeyLoc("value"), ctx + "'value' needs at least one threshold: info, warn or critical");
    } else {
      diags.Error(step.loc, ctx + "a check needs 'value' with thresholds (warn: \"> 80\") or 'assert'");
    }
    if (f.Find("severity") && !f.Find("assert"))
      diags.Error(f.KeyLoc("severity"), ctx + "'severity' applies to 'assert'; thresholds set their own level");
    for (const char* level : {"info", "warn", "critical"}) {
      if (const Node* t = f.Find(level)) schema::ThresholdField(*t, ctx + "'" + level + "'", diags);
    }
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"level", expr::Type::kString}, {"value", expr::Type::kAny}, {"message", expr::Type::kString}};
  }
};

}  // namespace

std::unique_ptr<StepType> MakeCheckType() { return std::make_unique<CheckType>(); }

}  // namespace runbook::steps
