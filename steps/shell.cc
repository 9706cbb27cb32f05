// `shell`: a script run by sh (or bash). Expressions in `run` reach the script
// as environment variables, never as script text (engine/script.h); a long
// script is run from a temporary file (steps/shell.h).
#include "steps/shell.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "engine/executor.h"
#include "engine/schema_reader.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

ShellDialect DialectOf(const std::string& shell) { return shell == "bash" ? ShellDialect::kBash : ShellDialect::kSh; }

// The step's `shell`, else the runbook's default, else sh.
std::string ShellOf(const Node& fields, const RunbookSpec& runbook) {
  if (const Node* s = fields.Find("shell")) return s->scalar;
  return runbook.defaults.shell.empty() ? "sh" : runbook.defaults.shell;
}

// Fail fast like CI runners do: -e, and pipefail where the shell has it.
// Then `-c SCRIPT`, or the file holding the script.
std::vector<std::string> ShellArgv(const std::string& shell, const std::string& script, bool from_file) {
  std::vector<std::string> argv = {"sh", "-e"};
  if (shell == "bash") argv = {"bash", "--noprofile", "--norc", "-e", "-o", "pipefail"};
  if (!from_file) argv.emplace_back("-c");
  argv.push_back(script);
  return argv;
}

// A new file in `dir` (mode 0600) holding `text`; its path.
Result<std::string> WriteScriptFile(const std::string& dir, const std::string& text) {
  std::string path = dir + "/runbook-script-XXXXXX";
  auto failed = [&](const char* what, int err, bool created) -> Status {
    if (created) ::unlink(path.c_str());
    return Status::IoError("cannot write the script to a temporary file in " + dir + ": " + what + ": " +
                           std::strerror(err));
  };
  int fd = ::mkostemp(path.data(), O_CLOEXEC);  // 0600, O_EXCL
  if (fd < 0) return failed("create", errno, false);
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return failed("write", err, true);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return failed("close", errno, true);
  return path;
}

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
  // An empty script; an expression where the shell would not expand it (a
  // quoted here-document...). Expression syntax is the compiler's to report.
  // The runbook's default shell is not known here: without `shell:` the
  // script is read as sh's (the run checks again with the right one).
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    const Node* run = step.fields.Find("run");
    if (!run) return;
    if (run->scalar.find_first_not_of(" \t\r\n") == std::string::npos) {
      diags.Error(run->loc, "step '" + step.id + "': 'run' is empty");
      return;
    }
    if (!expr::HasExpression(run->scalar) || !expr::Template::Parse(run->scalar).ok()) return;
    const Node* shell = step.fields.Find("shell");
    auto text = ScriptText(run->scalar, DialectOf(shell ? shell->scalar : "sh"));
    if (!text.ok()) diags.Error(run->loc, "step '" + step.id + "': 'run': " + text.status().message());
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"exit_code", expr::Type::kNumber}, {"stdout", expr::Type::kString}, {"stderr", expr::Type::kString}};
  }
  std::vector<std::string> TextSources() const override { return {"stdout", "stderr"}; }
  // The shell's argv with the script as the shell sees it, and the value of
  // each RUNBOOK_EXPR_N variable it reads. A script run from a file: the
  // file's place in argv, and the script as `script`.
  std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec& runbook,
                                             const ValueContext& values) const override {
    const Node& f = step.fields;
    const std::string& script = f.Find("run")->scalar;
    const std::string shell = ShellOf(f, runbook);
    auto bound = ScriptText(script, DialectOf(shell));
    const std::string& text = bound.ok() ? *bound : script;
    const bool from_file = text.size() > kMaxInlineScript;
    boost::json::array argv;
    for (const auto& a : ShellArgv(shell, from_file ? "$TMPDIR/runbook-script-XXXXXX" : text, from_file))
      argv.emplace_back(a);
    boost::json::object p;
    p["argv"] = std::move(argv);
    if (from_file) p["script"] = text;
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

ShellCommand::ShellCommand(ShellCommand&& other) noexcept
    : argv_(std::move(other.argv_)), env_(std::move(other.env_)), script_file_(std::exchange(other.script_file_, {})) {}

ShellCommand& ShellCommand::operator=(ShellCommand&& other) noexcept {
  if (this != &other) {
    if (!script_file_.empty()) ::unlink(script_file_.c_str());
    argv_ = std::move(other.argv_);
    env_ = std::move(other.env_);
    script_file_ = std::exchange(other.script_file_, {});
  }
  return *this;
}

ShellCommand::~ShellCommand() {
  if (!script_file_.empty()) ::unlink(script_file_.c_str());
}

Result<ShellCommand> MakeShellCommand(const std::string& shell, BoundScript script, const std::string& temp_dir) {
  ShellCommand cmd;
  cmd.env_ = std::move(script.env);
  if (script.text.size() <= kMaxInlineScript) {
    cmd.argv_ = ShellArgv(shell, script.text, false);
    return cmd;
  }
  auto file = WriteScriptFile(temp_dir, script.text);
  if (!file.ok()) return file.status();
  cmd.script_file_ = *file;
  cmd.argv_ = ShellArgv(shell, *file, true);
  return cmd;
}

Result<ShellCommand> PrepareShellCommand(const StepContext& ctx) {
  const Node& f = ctx.fields();
  const std::string shell = ShellOf(f, ctx.runbook->spec);
  auto bound = BindScript(f.Find("run")->scalar, *ctx.values, DialectOf(shell));
  if (!bound.ok()) return Status::InvalidArgument("'run': " + bound.status().message());
  // Absolute: the shell may run in another directory (`cwd:`).
  const char* tmp = std::getenv("TMPDIR");
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(tmp && *tmp ? tmp : "/tmp", ec);
  return MakeShellCommand(shell, std::move(*bound), ec ? "/tmp" : dir.string());
}

std::unique_ptr<StepType> MakeShellType() { return std::make_unique<ShellType>(); }

}  // namespace runbook::steps
