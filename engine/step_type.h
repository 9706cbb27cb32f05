// What the engine knows about a step type before running it: the fields it
// accepts, its cross-field rules and the outputs it produces.
//
// Each type lives in one file under steps/ (shell.cc, http.cc, ...), which
// implements StepType; steps/registry.cc builds the registry that main.cc and
// the tests pass to the loader and the compiler. The engine depends only on
// this interface, never on steps/. Immutable after construction; shareable.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/expr/expr.h"
#include "engine/model.h"

namespace runbook {

enum class FieldKind {
  kString,      // a scalar read as text; ${{ }} allowed
  kStringList,  // a list of scalars (a single scalar is not accepted); ${{ }} allowed
  kStringMap,   // a mapping of scalar values; ${{ }} allowed in values
  kIntList,     // an integer or a list of integers
  kInt,         // an integer (no expressions)
  kBool,        // true/false (no expressions)
  kDuration,    // "30s" etc. (no expressions)
  kEnum,        // one of `choices` (no expressions)
  kAny,         // any YAML value, kept as JSON; ${{ }} allowed in strings
  kMapping,     // a mapping validated by the type's Validate()
};

struct FieldSchema {
  std::string name;
  FieldKind kind = FieldKind::kString;
  bool required = false;
  std::vector<std::string> choices;  // kEnum
};

struct OutputDecl {
  std::string name;
  expr::Type type = expr::Type::kAny;
};

class StepType {
 public:
  virtual ~StepType() = default;
  virtual std::string_view name() const = 0;
  virtual const std::vector<FieldSchema>& fields() const = 0;
  // Rules beyond each field's kind (e.g. "body and json are exclusive").
  // Called only after every field passed its kind check.
  virtual void Validate(const StepSpec& step, Diagnostics& diags) const {
    (void)step;
    (void)diags;
  }
  // The outputs the type itself produces (before extraction rules).
  virtual std::vector<OutputDecl> Outputs(const StepSpec& step) const = 0;
  // Which outputs are text that `outputs: {x: {from: ...}}` can extract from.
  virtual std::vector<std::string> TextSources() const { return {}; }
};

class StepTypeRegistry {
 public:
  void Add(std::unique_ptr<StepType> type);
  const StepType* Find(std::string_view name) const;
  std::vector<std::string> Names() const;

 private:
  std::vector<std::unique_ptr<StepType>> types_;
};

}  // namespace runbook
