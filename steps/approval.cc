// `approval`: a human decision as a step, with typed inputs (e.g. the
// severity classification of an emergency).
#include "engine/loader.h"
#include "engine/schema_reader.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

expr::Type InputType(ParamType t) {
  switch (t) {
    case ParamType::kInt:
    case ParamType::kNumber: return expr::Type::kNumber;
    case ParamType::kBool: return expr::Type::kBool;
    default: return expr::Type::kString;
  }
}

class ApprovalType : public StepType {
 public:
  std::string_view name() const override { return "approval"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"prompt", FieldKind::kString, false, {}},
        {"approvers", FieldKind::kStringList, false, {}},
        {"min_approvals", FieldKind::kInt, false, {}},
        {"inputs", FieldKind::kMapping, false, {}},
        {"on_timeout", FieldKind::kEnum, false, {"reject", "approve"}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    ApprovalSpec a;
    ReadApprovalFields(step.fields, "step '" + step.id + "': ", a, diags);
    if (step.approval)
      diags.Error(step.approval->loc, "step '" + step.id + "': an approval step takes its settings directly, not under 'approval'");
  }
  std::vector<OutputDecl> Outputs(const StepSpec& step) const override {
    std::vector<OutputDecl> out = {{"approved_by", expr::Type::kString}, {"decision", expr::Type::kString},
                                   {"comment", expr::Type::kString}};
    if (const Node* in = step.fields.Find("inputs")) {
      Diagnostics ignored;
      for (const auto& p : schema::ParamSpecs(*in, "", ignored)) out.push_back({p.name, InputType(p.type)});
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeApprovalType() { return std::make_unique<ApprovalType>(); }

}  // namespace runbook::steps
