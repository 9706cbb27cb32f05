// `exec`: a program and its arguments, no shell involved. Each argv element is
// one argument whatever its content.
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class ExecType : public StepType {
 public:
  std::string_view name() const override { return "exec"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"argv", FieldKind::kStringList, true, {}},
        {"cwd", FieldKind::kString, false, {}},
        {"stdin", FieldKind::kString, false, {}},
        {"success_codes", FieldKind::kIntList, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    const Node* argv = step.fields.Find("argv");
    if (argv && argv->items.empty()) diags.Error(argv->loc, "step '" + step.id + "': 'argv' is empty");
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"exit_code", expr::Type::kNumber}, {"stdout", expr::Type::kString}, {"stderr", expr::Type::kString}};
  }
  std::vector<std::string> TextSources() const override { return {"stdout", "stderr"}; }
  // The argv as it would be executed.
  std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec&,
                                             const ValueContext& values) const override {
    const Node& f = step.fields;
    boost::json::array argv;
    for (const auto& item : f.Find("argv")->items) argv.emplace_back(PreviewText(item.scalar, values).text);
    boost::json::object p;
    p["argv"] = std::move(argv);
    for (const char* k : {"cwd", "stdin"})
      if (const Node* n = f.Find(k)) p[k] = PreviewText(n->scalar, values).text;
    return p;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeExecType() { return std::make_unique<ExecType>(); }

}  // namespace runbook::steps
