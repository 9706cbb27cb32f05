// PlanView: what a run of a compiled runbook would do with given parameters,
// as data — printed by `runbook plan` and `run --dry-run`, or serialised as
// the documented plan JSON (docs/cli.md). Secrets are shown as "***".
// Plain values; built once per command.
#pragma once

#include <boost/json/object.hpp>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "engine/compiler.h"

namespace runbook::cli {

struct PlanStep {
  int order = 0;  // 1-based position in the execution order
  std::string id, title, type, block;
  std::vector<std::string> needs;
  std::string condition;  // the `if` expression ("success()" by default)
  std::string decision;   // "runs when its needs succeed", "runs", "skipped: ...", "decided at run time: ..."
  std::string timeout;    // "" = none
  std::string retry;      // "" = one attempt
  bool approval = false;
  std::vector<std::string> approvers;
  bool continue_on_error = false;
  std::string action;  // one line: "sh: ufw deny ...", "POST https://...", ...
  boost::json::value fields;  // the type's fields as written (templates kept)
  // What the step would send or run (StepType::Preview), or null.
  boost::json::value preview;
  // Each expression the step uses -> its value now, or why it is not known yet.
  std::vector<std::pair<std::string, std::string>> bindings;
};

struct PlanView {
  std::string name, title, description, file, source_sha256;
  boost::json::object params;
  std::vector<std::string> secrets;
  std::string timeout;
  std::string concurrency;
  std::vector<std::string> schedule;
  std::vector<PlanStep> steps;
  std::vector<std::pair<std::string, std::string>> outputs;
};

PlanView BuildPlanView(const CompiledRunbook& rb, const boost::json::object& params);
boost::json::object PlanToJson(const PlanView& view);
void PrintPlan(const PlanView& view, std::ostream& out);
// What `plan` and `run --dry-run` print: the JSON object or the text.
void ShowPlan(const CompiledRunbook& rb, const boost::json::object& params, bool json, std::ostream& out);

}  // namespace runbook::cli
