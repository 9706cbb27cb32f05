// The compiler: a loaded RunbookSpec -> a CompiledRunbook, the immutable DAG
// that `plan`, `graph` and the scheduler work from.
//
// It resolves `needs` (unknown ids, self-dependencies, cross-block needs),
// applies `sequential: true` and `defaults`, finds dependency cycles
// ("dependency cycle: a -> b -> c -> a"), orders each block topologically
// (YAML order among steps that are free at the same time), and checks every
// expression: syntax, names (params, env, secrets, steps and their declared
// outputs, run, now), types, and that a referenced step is upstream of the
// step that references it. Boost.Graph is used inside compiler.cc only.
// A CompiledRunbook is immutable and may be shared across threads.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/model.h"
#include "engine/step_type.h"

namespace runbook {

struct CompiledStep {
  const StepSpec* spec = nullptr;  // points into CompiledRunbook::spec
  const StepType* type = nullptr;
  int index = 0;                   // position in CompiledRunbook::steps
  Block block = Block::kMain;
  std::vector<int> needs;       // indices, same block, including sequential's
  std::vector<int> dependents;  // the reverse edges
  // Effective settings, with the runbook's defaults applied.
  std::optional<Millis> timeout;
  RetrySpec retry;
  std::string condition;  // the `if` expression text; "success()" by default
  bool condition_is_default = true;
  std::vector<OutputDecl> outputs;  // the type's outputs, then extracted ones

  const std::string& id() const { return spec->id; }
};

struct CompiledRunbook {
  RunbookSpec spec;
  std::vector<CompiledStep> steps;  // main steps, then on_failure, then finally
  // Topological order of each block (indices into steps).
  std::vector<int> main_order;
  std::vector<int> on_failure_order;
  std::vector<int> finally_order;
  std::unordered_map<std::string, int> index_by_id;

  CompiledRunbook() = default;
  CompiledRunbook(CompiledRunbook&&) = default;
  CompiledRunbook& operator=(CompiledRunbook&&) = default;
  CompiledRunbook(const CompiledRunbook&) = delete;
  CompiledRunbook& operator=(const CompiledRunbook&) = delete;

  // -1 when unknown.
  int Find(const std::string& id) const;
  const std::vector<int>& Order(Block b) const;
  // All steps, in the order they would run: main, on_failure, finally.
  std::vector<int> ExecutionOrder() const;
};

// Compiles `spec`. Reports every problem to `diags`; returns nullopt if any
// error was reported (by this call or before it, as far as `diags` knows).
std::optional<CompiledRunbook> Compile(RunbookSpec spec, const StepTypeRegistry& types, Diagnostics& diags);

}  // namespace runbook
