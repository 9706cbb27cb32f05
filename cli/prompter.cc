#include "cli/prompter.h"

#include <algorithm>
#include <fmt/ranges.h>
#include <mutex>
#include <thread>

#include "cli/progress.h"
#include "engine/json_text.h"
#include "engine/params.h"

namespace runbook::cli {
namespace {

std::mutex& PromptMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

std::optional<boost::json::object> ParseApprovalInputs(const std::vector<ParamSpec>& inputs,
                                                       const std::vector<std::pair<std::string, std::string>>& given,
                                                       std::string& error) {
  RunbookSpec spec;  // the inputs are typed exactly like parameters
  spec.params = inputs;
  ParamSources sources;
  sources.cli = given;
  Diagnostics diags;
  boost::json::object values = ResolveParams(spec, sources, diags);
  if (diags.has_errors()) {
    for (const auto& d : diags.all()) {
      std::string m = d.message;
      // "parameter" reads as "input" here.
      for (size_t at; (at = m.find("parameter")) != std::string::npos;) m.replace(at, 9, "input");
      error += (error.empty() ? "" : "; ") + m;
    }
    return std::nullopt;
  }
  return values;
}

TerminalPrompter::TerminalPrompter(std::istream& in, std::ostream& err, bool interactive, bool yes,
                                   TerminalProgress* progress, std::string operator_name)
    : in_(in), err_(err), interactive_(interactive), yes_(yes), progress_(progress),
      operator_(std::move(operator_name)) {}

void TerminalPrompter::Ask(const ApprovalQuestion& q, std::function<void(ApprovalAnswer)> done) {
  ApprovalAnswer a;
  if (!q.approvers.empty() && std::find(q.approvers.begin(), q.approvers.end(), operator_) == q.approvers.end()) {
    a.why_not = fmt::format(
        "not asked at the terminal: '{}' is not one of the approvers ({}); decide with 'runbook approve {} {} --as NAME'",
        operator_, fmt::join(q.approvers, ", "), q.run_id, q.step_id);
    done(std::move(a));
    return;
  }
  if (std::find(q.approved_by.begin(), q.approved_by.end(), operator_) != q.approved_by.end()) {
    a.why_not = "'" + operator_ + "' has approved already; " + std::to_string(q.min_approvals) +
                " different approvers are needed";
    done(std::move(a));
    return;
  }
  if (yes_) {
    std::string error;
    auto inputs = ParseApprovalInputs(q.inputs, {}, error);
    if (!inputs) {
      a.why_not = "--yes cannot answer: " + error;
      done(std::move(a));
      return;
    }
    a.answered = true;
    a.approved = true;
    a.approver = operator_;
    a.inputs = std::move(*inputs);
    a.comment = "approved in advance with --yes";
    done(std::move(a));
    return;
  }
  if (!interactive_) {
    done(std::move(a));  // nobody to ask: the run waits for `runbook approve`
    return;
  }
  std::thread([this, q, done = std::move(done)] { done(Converse(q)); }).detach();
}

ApprovalAnswer TerminalPrompter::Converse(const ApprovalQuestion& q) {
  std::lock_guard<std::mutex> lock(PromptMutex());
  if (progress_) progress_->SetPrompting(true);
  ApprovalAnswer a;
  auto read = [&](std::string& line) {
    if (!std::getline(in_, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  };
  err_ << "\r\033[K\n== approval needed: step " << q.step_id << " of run " << q.run_id << "\n   " << q.prompt << "\n";
  if (!q.approvers.empty()) err_ << "   approvers: " << fmt::format("{}", fmt::join(q.approvers, ", ")) << "\n";
  std::vector<std::pair<std::string, std::string>> given;
  for (const auto& in : q.inputs) {
    std::string hint = in.values.empty() ? ParamTypeName(in.type) : fmt::format("{}", fmt::join(in.values, ", "));
    std::string def = in.default_value ? JsonText(*in.default_value) : "";
    while (true) {
      err_ << "   " << in.name << " (" << hint << ")" << (def.empty() ? "" : " [" + def + "]")
           << (in.description.empty() ? "" : "  " + in.description) << ": " << std::flush;
      std::string line;
      if (!read(line)) {
        a.why_not = "the terminal closed before the approval was answered";
        if (progress_) progress_->SetPrompting(false);
        return a;
      }
      if (line.empty() && (in.default_value || !in.required)) break;
      std::string error;
      if (ParseApprovalInputs({in}, {{in.name, line}}, error)) {
        given.emplace_back(in.name, line);
        break;
      }
      err_ << "   " << error << "\n";
    }
  }
  std::string error;
  auto inputs = ParseApprovalInputs(q.inputs, given, error);
  while (true) {
    err_ << "   approve as " << operator_ << "? [y]es / [n]o, reject / [l]ater (runbook approve): " << std::flush;
    std::string line;
    if (!read(line)) {
      a.why_not = "the terminal closed before the approval was answered";
      break;
    }
    if (line == "y" || line == "yes" || line == "n" || line == "no") {
      a.answered = true;
      a.approved = line[0] == 'y';
      a.approver = operator_;
      if (inputs) a.inputs = *inputs;
      err_ << "   comment (optional): " << std::flush;
      std::string comment;
      if (read(comment)) a.comment = comment;
      break;
    }
    if (line == "l" || line == "later") {
      a.why_not = "left for later at the terminal";
      break;
    }
  }
  if (progress_) progress_->SetPrompting(false);
  return a;
}

}  // namespace runbook::cli
