// `shell`: a script run by sh (or bash). Expressions in `run` reach the script
// as environment variables, never as script text (see engine/render.h).
#include "engine/schema_reader.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class ShellType : public StepType {
 public:
  std::string_view name() const override { return "shell"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"run", FieldKind::kString, true, {}},
        {"shell", FieldKind::kEnum, false, {"sh", "bash"}},
        {"cwd", FieldKind::kString, false, {}},
        {"stdin", FieldKind::kString, false, {}},
        {"success_codes", FieldKind::kIntList, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    const Node* run = step.fields.Find("run");
    if (run && run->scalar.find_first_not_of(" \t\r\n") == std::string::npos)
      diags.Error(run->loc, "step '" + step.id + "': 'run' is empty");
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"exit_code", expr::Type::kNumber}, {"stdout", expr::Type::kString}, {"stderr", expr::Type::kString}};
  }
  std::vector<std::string> TextSources() const override { return {"stdout", "stderr"}; }
};

}  // namespace

std::unique_ptr<StepType> MakeShellType() { return std::make_unique<ShellType>(); }

}  // namespace runbook::steps
