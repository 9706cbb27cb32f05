// The expression language of `${{ }}` (SPEC.md §4): parsing, static type
// checking against compile-time knowledge of names, and evaluation against a
// run's values.
//
//   Expression e = Expression::Parse("steps.df.outputs.use > 90").value();
//   Check(e, scope, /*in_condition=*/false)  -> type or error message
//   Evaluate(e, context)                     -> boost::json::value or error
//
// Templates are strings with embedded `${{ expr }}` parts; the engine renders
// them, or (for `run:` and `argv`) turns each part into data passed beside the
// script so that a value never becomes shell syntax.
//
// Values are JSON values (boost::json::value): null, bool, number (int64 or
// double), string, array, object. Times (`now`, `run.started_at`) are strings
// in ISO-8601 UTC ("2026-11-29T06:53:04.123Z").
//
// Parsed expressions are immutable and may be shared between threads.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace runbook::expr {

// Static types known at compile time. kAny means "known only at run time".
enum class Type { kAny, kNull, kBool, kNumber, kString, kList, kObject };
// "any", "null", "bool", "number", "string", "list", "object"
const char* TypeName(Type t);

struct Node;  // AST node, defined in ast.h (private to the implementation)

class Expression {
 public:
  // Parses the text between `${{` and `}}` (surrounding blanks allowed).
  // Error messages name what was expected and where (columns are 1-based
  // byte offsets in `text`), e.g.
  //   "unexpected end of expression, expected an operand"
  //   "unexpected token ')' at column 8"
  //   "unterminated string literal at column 3"
  //   "empty expression", "expression nested too deeply"
  static Result<Expression> Parse(std::string_view text);

  const std::string& text() const { return text_; }
  // REQUIRES: made by Parse() (a default-constructed Expression has no tree;
  // Check() and Evaluate() report "empty expression" for it).
  const Node& root() const { return *root_; }

  // Every name path the expression reads, in order of appearance, as the
  // longest leading chain of member accesses from a root identifier:
  // "steps.a.outputs.rows[0].x" yields {"steps","a","outputs","rows"}. An
  // index by a string literal counts as a member: env['MY-VAR'] yields
  // {"env","MY-VAR"}. Repeated paths are listed again. Status functions are
  // not included.
  std::vector<std::vector<std::string>> NamePaths() const;
  // True if the expression calls success(), failure(), always() or cancelled().
  bool UsesStatusFunction() const;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
  friend class Parser;
};

// Compile-time knowledge of names (params, env, secrets, steps, run, now).
class Scope {
 public:
  virtual ~Scope() = default;
  // Type of the value at `path` (a leading member chain, as NamePaths()), or
  // a non-ok Status whose message says why it cannot be referenced here,
  // e.g. "unknown parameter 'foo' (did you mean 'food'?)" or
  // "step 'b' is not upstream of step 'c'".
  virtual Result<Type> Lookup(const std::vector<std::string>& path) const = 0;
};

// Checks names and types. `in_condition`: the status functions are allowed
// (only in `if:`). Returns the expression's static type, or a non-ok Status
// with a message like "'<' needs two numbers or two strings, got string and
// number" or "unknown function 'lenght' (did you mean 'length'?)".
Result<Type> Check(const Expression& e, const Scope& scope, bool in_condition);

// Run-time values.
class Context {
 public:
  virtual ~Context() = default;
  // Value at `path` (a leading member chain). NotFound if there is none:
  // the expression then sees null (a missing value is not an error); any
  // other error fails the evaluation with its message.
  virtual Result<boost::json::value> Lookup(const std::vector<std::string>& path) const = 0;
  // success(), failure(), always(), cancelled() for the step being decided.
  virtual Result<bool> StatusFunction(std::string_view name) const = 0;
};

// Evaluates. Errors (type mismatch at run time, missing value, bad function
// argument) are non-ok Status values with a clear message, never exceptions.
Result<boost::json::value> Evaluate(const Expression& e, const Context& ctx);

// JavaScript-like truthiness: null, false, 0, "" are false; everything else
// (including empty lists and objects) is true.
bool Truthy(const boost::json::value& v);

// How a value is spelled inside a string: strings as they are, integers
// without a decimal point, other numbers in shortest round-trip form, true /
// false, null as "", lists and objects as compact JSON.
std::string ToDisplayString(const boost::json::value& v);

// A string with embedded `${{ expr }}` parts.
class Template {
 public:
  struct Part {
    std::string literal;                       // text before `expr` (may be empty)
    std::shared_ptr<const Expression> expr;    // null for a trailing literal
  };

  // Errors: "unterminated '${{'" and any parse error of a part, prefixed
  // with the part's text: "in '${{ a == }}': unexpected end of expression".
  static Result<Template> Parse(std::string_view text);

  const std::vector<Part>& parts() const { return parts_; }
  bool IsLiteral() const;           // no expression at all
  bool IsSingleExpression() const;  // exactly "${{ e }}", nothing around it
  const std::string& source() const { return source_; }

 private:
  std::vector<Part> parts_;
  std::string source_;
};

// A condition field (`if:`, a check's `assert`, `until`): a bare expression,
// or exactly one `${{ }}` around it. Error for anything around the braces:
// "must be a single expression, e.g. ${{ steps.x.status == 'failed' }}".
Result<Expression> ParseCondition(std::string_view text);

// True if `text` contains "${{".
bool HasExpression(std::string_view text);

// Checks every part of a template (errors prefixed like Template::Parse's).
// The type is the expression's for a single-expression template, else string.
Result<Type> CheckTemplate(const Template& t, const Scope& scope, bool in_condition);

// Renders a template to a string (ToDisplayString for each part). Evaluation
// errors are prefixed with the part, like parse errors.
Result<std::string> RenderString(const Template& t, const Context& ctx);
// A single-expression template keeps its value's type; otherwise a string.
Result<boost::json::value> RenderValue(const Template& t, const Context& ctx);

}  // namespace runbook::expr
