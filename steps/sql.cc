// `sql`: a query against a SQLite database file, arguments bound as
// parameters (never spliced into the SQL text).
#include "engine/schema_reader.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class SqlType : public StepType {
 public:
  std::string_view name() const override { return "sql"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"database", FieldKind::kString, true, {}},
        {"query", FieldKind::kString, true, {}},
        {"args", FieldKind::kAny, false, {}},
        {"mode", FieldKind::kEnum, false, {"read", "write"}},
        {"expect", FieldKind::kMapping, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    if (const Node* a = step.fields.Find("args")) {
      if (!a->IsSequence() && !a->IsMapping())
        schema::KindError(*a, ctx + "'args'", "a list (for ?) or a mapping (for :name)", diags);
    }
    if (const Node* q = step.fields.Find("query")) {
      if (expr::HasExpression(q->scalar))
        diags.Error(q->loc, ctx + "'query' must not contain ${{ }}; pass values through 'args' (bound, never spliced)");
    }
    if (const Node* e = step.fields.Find("expect")) {
      schema::CheckKeys(*e, {"rows"}, ctx + "expect: ", "key", diags);
      if (const Node* r = e->Find("rows")) schema::ThresholdField(*r, ctx + "expect: 'rows'", diags);
    }
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"rows", expr::Type::kList}, {"row_count", expr::Type::kNumber}};
  }
};

}  // namespace

std::unique_ptr<StepType> MakeSqlType() { return std::make_unique<SqlType>(); }

}  // namespace runbook::steps
