// How a `shell` step's script reaches the shell (SPEC.md §3). The script is
// bound by BindScript (engine/script.h: each value in a RUNBOOK_EXPR_N
// variable, never in the text) and run as `sh -e -c SCRIPT` (bash: `bash
// --noprofile --norc -e -o pipefail -c SCRIPT`). A script longer than
// kMaxInlineScript cannot be one argument (Linux caps each at 128 KiB,
// MAX_ARG_STRLEN: "Argument list too long"), so it is written to a private
// temporary file (mode 0600, $TMPDIR or /tmp, `runbook-script-XXXXXX`) that the
// shell reads, `sh -e FILE`, with the same options; the file is removed when
// the ShellCommand is destroyed, after the attempt. It holds the script as the
// shell sees it, so no value — secret or not — is ever written to it.
// Built and used on the run's io_context thread (steps/process_step.cc).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "engine/script.h"
#include "engine/status.h"

namespace runbook {
struct StepContext;
}

namespace runbook::steps {

// Longer scripts (as the shell sees them) are run from a file.
inline constexpr size_t kMaxInlineScript = 100 * 1024;

// A shell's command line and the variables it needs; owns the script file,
// if there is one. Movable, not copyable.
class ShellCommand {
 public:
  ShellCommand() = default;
  ShellCommand(ShellCommand&& other) noexcept;
  ShellCommand& operator=(ShellCommand&& other) noexcept;
  ShellCommand(const ShellCommand&) = delete;
  ShellCommand& operator=(const ShellCommand&) = delete;
  ~ShellCommand();  // removes the script file

  const std::vector<std::string>& argv() const { return argv_; }
  const std::map<std::string, std::string>& env() const { return env_; }
  // The temporary file holding the script; empty when the script is in argv.
  const std::string& script_file() const { return script_file_; }

 private:
  friend Result<ShellCommand> MakeShellCommand(const std::string& shell, BoundScript script,
                                               const std::string& temp_dir);
  std::vector<std::string> argv_;
  std::map<std::string, std::string> env_;
  std::string script_file_;
};

// `shell` ("sh" or "bash") running `script`; a script longer than
// kMaxInlineScript goes to a new file in `temp_dir`. Errors: the file cannot
// be written ("cannot write the script to a temporary file in DIR: ...").
Result<ShellCommand> MakeShellCommand(const std::string& shell, BoundScript script, const std::string& temp_dir);

// The step's command: `run` bound with the step's values, `shell` (else the
// runbook's default, else sh), the script file in $TMPDIR (else /tmp).
// Errors: "'run': ..." (see BindScript), or MakeShellCommand's.
Result<ShellCommand> PrepareShellCommand(const StepContext& ctx);

}  // namespace runbook::steps
