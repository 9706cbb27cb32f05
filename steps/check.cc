// `check`: compares a value with thresholds (or asserts a condition) and
// produces a finding at a level (info, warning, critical). The schema is
// read by the loader and the compiler; the executor runs on the run's
// io_context thread and never blocks.
#include <boost/json/value.hpp>

#include "engine/executor.h"
#include "engine/expr/expr.h"
#include "engine/schema_reader.h"
#include "engine/script.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class CheckType : public StepType {
 public:
  std::string_view name() const override { return "check"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"value", FieldKind::kAny, false, {}},
        {"info", FieldKind::kString, false, {}},
        {"warn", FieldKind::kString, false, {}},
        {"critical", FieldKind::kString, false, {}},
        {"assert", FieldKind::kString, false, {}},
        {"severity", FieldKind::kEnum, false, {"info", "warning", "critical"}},
        {"message", FieldKind::kString, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    const Node& f = step.fields;
    bool thresholds = f.Find("info") || f.Find("warn") || f.Find("critical");
    if (f.Find("assert")) {
      if (f.Find("value") || thresholds)
        diags.Error(f.KeyLoc("assert"), ctx + "use either 'assert' (with 'severity') or 'value' with thresholds, not both");
    } else if (f.Find("value")) {
      if (!thresholds) diags.Error(f.KeyLoc("value"), ctx + "'value' needs at least one threshold: info, warn or critical");
    } else {
      diags.Error(step.loc, ctx + "a check needs 'value' with thresholds (warn: \"> 80\") or 'assert'");
    }
    if (f.Find("severity") && !f.Find("assert"))
      diags.Error(f.KeyLoc("severity"), ctx + "'severity' applies to 'assert'; thresholds set their own level");
    for (const char* level : {"info", "warn", "critical"}) {
      if (const Node* t = f.Find(level)) schema::ThresholdField(*t, ctx + "'" + level + "'", diags);
    }
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"level", expr::Type::kString}, {"value", expr::Type::kAny}, {"message", expr::Type::kString}};
  }
  // The value (or assertion) and what it is compared with.
  std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec&,
                                             const ValueContext& values) const override {
    const Node& f = step.fields;
    boost::json::object p;
    if (const Node* a = f.Find("assert")) {
      p["assert"] = a->scalar;
      p["severity"] = f.Find("severity") ? f.Find("severity")->scalar : "critical";
    } else if (const Node* v = f.Find("value")) {
      p["value"] = v->IsScalar() ? PreviewValue(v->scalar, values) : PreviewJson(v->ToJson(), values);
      boost::json::object thresholds;
      for (const char* level : {"info", "warn", "critical"})
        if (const Node* t = f.Find(level)) thresholds[level] = t->scalar;
      p["thresholds"] = std::move(thresholds);
    }
    if (const Node* m = f.Find("message")) p["message"] = PreviewText(m->scalar, values).text;
    return p;
  }
};

// --- Executor ---------------------------------------------------------------

// Every failure of a check is its expressions' or thresholds' (nothing runs):
// another attempt would fail the same way.
StepOutcome Failed(std::string error) { return CouldNotStart(std::move(error)); }

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// The value of the `value` field: a `${{ }}` template keeps its expression's
// type; anything else is read with YAML's core schema (93.5 is a number,
// "93.5" a string).
Result<boost::json::value> ReadValue(const Node& n, const ValueContext& values) {
  if (n.IsScalar() && expr::HasExpression(n.scalar)) {
    auto t = expr::Template::Parse(n.scalar);
    if (!t.ok()) return t.status();
    return expr::RenderValue(*t, values);
  }
  return n.ToJson();
}

// A number, or a string that spells one (surrounding blanks ignored, so a
// command's "93.5\n" counts): integers stay integers.
std::optional<boost::json::value> AsNumber(const boost::json::value& v) {
  if (v.is_number()) return v;
  if (!v.is_string()) return std::nullopt;
  Node n = Node::Scalar(Trim(v.get_string()), {}, /*quoted=*/false);
  if (auto i = n.AsInt()) return boost::json::value(static_cast<std::int64_t>(*i));
  if (auto d = n.AsNumber()) return boost::json::value(*d);
  return std::nullopt;
}

// How a value is named in an error: strings quoted, the rest as displayed.
std::string Describe(const boost::json::value& v) {
  if (v.is_string()) return std::string("'").append(v.get_string()).append("'");
  return expr::ToDisplayString(v);
}

// Whether `v` meets threshold `t`; an error when they cannot be compared.
Result<bool> Matches(const schema::Threshold& t, const boost::json::value& v) {
  const std::string source = Trim(t.source);
  if (v.is_null()) return Status::InvalidArgument("value is null; cannot compare with '" + source + "'");
  if (t.text) {
    if (v.is_array() || v.is_object())
      return Status::InvalidArgument("value " + Describe(v) + " is not a string; cannot compare with '" + source + "'");
    bool equal = expr::ToDisplayString(v) == *t.text;
    return t.op == "==" ? equal : !equal;
  }
  auto n = AsNumber(v);
  if (!n)
    return Status::InvalidArgument("value " + Describe(v) + " is not a number; cannot compare with '" + source + "'");
  double x = n->to_number<double>();
  if (t.op == ">") return x > t.number;
  if (t.op == ">=") return x >= t.number;
  if (t.op == "<") return x < t.number;
  if (t.op == "<=") return x <= t.number;
  if (t.op == "==") return x == t.number;
  return x != t.number;
}


Level LevelFromName(const std::string& name) {
  return name == "info" ? Level::kInfo : name == "warning" ? Level::kWarning : Level::kCritical;
}

class CheckExecutor : public StepExecutor {
 public:
  boost::asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    const Node& f = ctx.fields();
    const std::string name = ctx.step->spec->title.empty() ? ctx.step->id() : ctx.step->spec->title;
    Level level = Level::kOk;
    boost::json::value value;
    std::string shown_value, threshold, message;
    if (const Node* a = f.Find("assert")) {
      auto e = expr::ParseCondition(a->scalar);
      if (!e.ok()) co_return Failed("cannot evaluate 'assert': " + e.status().message());
      auto v = expr::Evaluate(*e, *ctx.values);
      if (!v.ok()) co_return Failed("cannot evaluate 'assert': " + v.status().message());
      value = *v;
      bool holds = expr::Truthy(value);
      if (!holds) level = LevelFromName(f.Find("severity") ? f.Find("severity")->scalar : "critical");
      message = name + (holds ? ": assertion holds: " : ": assertion failed: ") + e->text();
    } else {
      auto v = ReadValue(*f.Find("value"), *ctx.values);
      if (!v.ok()) co_return Failed("cannot evaluate 'value': " + v.status().message());
      value = *v;
      // A numeric string is shown as the number it spells ("85", not "85\n").
      auto number = AsNumber(value);
      shown_value = expr::ToDisplayString(number ? *number : value);
      // The highest level whose threshold matches.
      static const std::pair<const char*, Level> kRules[] = {
          {"critical", Level::kCritical}, {"warn", Level::kWarning}, {"info", Level::kInfo}};
      for (const auto& [field, rule_level] : kRules) {
        const Node* n = f.Find(field);
        if (!n) continue;
        auto t = schema::ParseThreshold(n->scalar);
        if (!t) co_return Failed("'" + std::string(field) + "': invalid threshold '" + n->scalar + "'");
        auto m = Matches(*t, value);
        if (!m.ok()) co_return Failed(m.status().message());
        if (*m) {
          level = rule_level;
          threshold = Trim(t->source);
          break;
        }
      }
      if (number) value = *number;  // compared as a number, offered as one
      message = name + ": value " + shown_value + (threshold.empty() ? " within thresholds" : " " + threshold);
    }
    bool custom = false;
    if (const Node* m = f.Find("message")) {
      auto r = RenderText(m->scalar, *ctx.values);
      if (!r.ok()) co_return Failed("'message': " + r.status().message());
      // Blanks at either end dropped: a value that rendered empty at the end
      // of a template ("...: ${{ trim(stderr) }}") leaves no dangling space.
      message = Trim(*r);
      custom = true;
    }
    std::string line = std::string(LevelName(level)) + ": " + message;
    if (custom && !shown_value.empty())
      line += " (value " + shown_value + (threshold.empty() ? "" : ", threshold " + threshold) + ")";
    co_await ctx.output->Write(OutputStream::kStdout, line + "\n");
    if (level != Level::kOk && ctx.finding) ctx.finding(level, message, shown_value, threshold);
    StepOutcome outcome;
    outcome.outputs = {{"level", LevelName(level)}, {"value", value}, {"message", message}};
    co_return outcome;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeCheckType() { return std::make_unique<CheckType>(); }
std::unique_ptr<StepExecutor> MakeCheckExecutor() { return std::make_unique<CheckExecutor>(); }

}  // namespace runbook::steps
