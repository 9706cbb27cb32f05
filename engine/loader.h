// The loader: YAML file -> RunbookSpec (model.h), with every shape error
// reported at its location (SPEC.md §3).
//
// It checks what can be checked one value at a time: known keys (unknown ones
// get a "did you mean"), value kinds, ids, durations, enums, parameter
// declarations, cron syntax, and each step's type-specific fields against its
// StepType schema. Cross-references (needs, cycles, expressions) are the
// compiler's job. It returns a best-effort spec whenever the file is a YAML
// mapping, so that the compiler can report its own errors in the same pass.
// Stateless functions; the registry is borrowed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/diagnostics.h"
#include "engine/model.h"
#include "engine/status.h"
#include "engine/step_type.h"

namespace runbook {

// Largest runbook file accepted.
inline constexpr size_t kMaxRunbookBytes = 64 << 20;

// Whether `path` can be a runbook file, without opening it (a FIFO with no
// writer would block): Ok for a regular file (or a link to one); else
// NotFound "no such runbook file: PATH", "PATH: not a regular file (a FIFO)"
// (a directory, a socket, a character device...), or "PATH: permission denied".
Status CheckRunbookFile(const std::string& path);

// Reads and loads `path`. I/O problems are reported as diagnostics on the
// file: "cannot read runbook: permission denied", "not a regular file (a
// FIFO)" (opened without blocking, so a FIFO never hangs the load).
std::optional<RunbookSpec> LoadRunbookFile(const std::string& path, const StepTypeRegistry& types,
                                           Diagnostics& diags);
// Loads `text` as if read from `path` (the runbook's default name is the
// path's stem).
std::optional<RunbookSpec> LoadRunbookText(std::string_view text, const std::string& path,
                                           const StepTypeRegistry& types, Diagnostics& diags);

// Reads the approval keys (prompt, approvers, min_approvals, inputs, timeout,
// on_timeout) of `node` into `a`; used for `approval:` and the approval step.
void ReadApprovalFields(const Node& node, const std::string& ctx, ApprovalSpec& a, Diagnostics& diags);

// True for valid step ids: [a-z0-9][a-z0-9_-]*
bool IsValidStepId(std::string_view id);
// True for valid runbook names: [a-z0-9][a-z0-9-]*
bool IsValidRunbookName(std::string_view name);

}  // namespace runbook
