// `shell`: a script run by sh (or bash). Expressions in `run` reach the script
// as environment variables, never as script text (see engine/render.h).
#include "engine/schema_reader.h"
#include "engine/script.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

// Lets BindScript place its variables without the values: every name reads
// as null. Only the script text it produces is used.
class NoValues : public expr::Context {
 public:
  Result<boost::json::value> Lookup(const std::vector<std::string>&) const override {
    return boost::json::value(nullptr);
  }
  Result<bool> StatusFunction(std::string_view) const override { return false; }
};

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
  // The shell's argv with the script as the shell sees it, and the value of
  // each RUNBOOK_EXPR_N variable it reads.
  std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec& runbook,
                                             const ValueContext& values) const override {
    const Node& f = step.fields;
    const std::string& script = f.Find("run")->scalar;
    std::string shell = f.Find("shell")                  ? f.Find("shell")->scalar
                        : runbook.defaults.shell.empty() ? "sh"
                                                         : runbook.defaults.shell;
    auto bound = BindScript(script, NoValues());
    std::string text = bound.ok() ? bound->text : script;
    boost::json::array argv;
    if (shell == "bash") {
      argv = {"bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c"};
    } else {
      argv = {"sh", "-e", "-c"};
    }
    argv.emplace_back(text);
    boost::json::object p;
    p["argv"] = std::move(argv);
    boost::json::object env;
    auto t = expr::Template::Parse(script);
    int count = 0;
    if (bound.ok() && t.ok())
      for (const auto& part : t->parts())
        if (part.expr)
          env["RUNBOOK_EXPR_" + std::to_string(++count)] = PreviewText("${{ " + part.expr->text() + " }}", values).text;
    if (!env.empty()) p["env"] = std::move(env);
    for (const char* k : {"cwd", "stdin"})
      if (const Node* n = f.Find(k)) p[k] = PreviewText(n->scalar, values).text;
    return p;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeShellType() { return std::make_unique<ShellType>(); }

}  // namespace runbook::steps
