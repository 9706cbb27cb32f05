// TerminalPrompter: asks the operator for approvals on the terminal (SPEC.md
// §5 "On a terminal, the engine prompts"), or answers them in advance when
// the run was started with --yes. Each question is asked on a thread of its
// own (reading stdin must not stop the run's event loop), one question at a
// time; the answer goes back through the callback. The operator is the OS
// user: a step whose `approvers` do not name them is not offered to them and
// waits for `runbook approve`.
#pragma once

#include <functional>
#include <istream>
#include <ostream>
#include <string>

#include "engine/runner.h"

namespace runbook::cli {

class TerminalProgress;

class TerminalPrompter : public ApprovalPrompter {
 public:
  // `interactive`: stdin and stderr are a terminal. `yes`: approve what can
  // be approved without asking (inputs must have defaults).
  TerminalPrompter(std::istream& in, std::ostream& err, bool interactive, bool yes, TerminalProgress* progress,
                   std::string operator_name);
  void Ask(const ApprovalQuestion& q, std::function<void(ApprovalAnswer)> done) override;

 private:
  ApprovalAnswer Converse(const ApprovalQuestion& q);
  std::istream& in_;
  std::ostream& err_;
  bool interactive_;
  bool yes_;
  TerminalProgress* progress_;
  std::string operator_;
};

// Typed values for approval inputs from "k=v" texts, checked like parameters
// (types, enums, patterns, required). Problems go to `error` as one message.
std::optional<boost::json::object> ParseApprovalInputs(const std::vector<ParamSpec>& inputs,
                                                       const std::vector<std::pair<std::string, std::string>>& given,
                                                       std::string& error);

}  // namespace runbook::cli
