// What the engine knows about a step type before running it: the fields it
// accepts, its cross-field rules and the outputs it produces.
//
// Each type lives in one file under steps/ (shell.cc, http.cc, ...), which
// implements StepType; steps/registry.cc builds the registry that main.cc and
// the tests pass to the loader and the compiler. The engine depends only on
// this interface, never on steps/. Immutable after construction; shareable.
//
// Preview() and the Preview* helpers below serve `runbook plan` and `run
// --dry-run`: what a step would send, rendered with what is known before the
// run. Stateless; any thread.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/expr/expr.h"
#include "engine/model.h"
#include "engine/values.h"

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
  // What a run of `step` would send or run — the request, query, message or
  // command — rendered for `runbook plan` with the values known before the
  // run (`values` in plan mode, secrets "***"; see PreviewText). Keys are
  // the type's own ("method", "url", "headers", "query", "args", ...).
  // nullopt: nothing to show beyond the fields (the default).
  virtual std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec& runbook,
                                                     const ValueContext& values) const {
    (void)step;
    (void)runbook;
    (void)values;
    return std::nullopt;
  }
};

// --- Rendering for Preview() -------------------------------------------------

// A field rendered for a preview. Each `${{ }}` part is evaluated against
// `values`, except that a part reading a secret is "***" (never evaluated),
// and a part that cannot be evaluated before the run (a step's output, `now`,
// `run.id`) is kept as written: "${{ steps.x.outputs.y }}".
struct PreviewString {
  std::string text;
  bool exact = true;  // false if a part is "***" or kept as written
};
// Applied to each evaluated value (not to literal text, "***" or a part kept
// as written), given the text rendered so far: e.g. URL encoding.
using PreviewEncoder = std::function<std::string(const std::string& value, const std::string& so_far)>;
PreviewString PreviewText(const std::string& text, const ValueContext& values, const PreviewEncoder& encode = nullptr);
// Like PreviewText, but a template that is exactly one expression keeps its
// value's type (a number stays a number), as at run time.
boost::json::value PreviewValue(const std::string& text, const ValueContext& values);
// A YAML value as JSON (an http `json:` body, sql `args`): every string
// through PreviewValue, every key through PreviewText.
boost::json::value PreviewJson(const boost::json::value& v, const ValueContext& values);

class StepTypeRegistry {
 public:
  void Add(std::unique_ptr<StepType> type);
  const StepType* Find(std::string_view name) const;
  std::vector<std::string> Names() const;

 private:
  std::vector<std::unique_ptr<StepType>> types_;
};

}  // namespace runbook
