// `notify`: tell people — into the journal (`log`), a webhook, email through
// a sendmail-compatible command, or any program reading the message on stdin.
#include "engine/schema_reader.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class NotifyType : public StepType {
 public:
  std::string_view name() const override { return "notify"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"channel", FieldKind::kEnum, true, {"log", "webhook", "email", "command"}},
        {"to", FieldKind::kAny, false, {}},
        {"subject", FieldKind::kString, false, {}},
        {"message", FieldKind::kString, true, {}},
        {"url", FieldKind::kString, false, {}},
        {"command", FieldKind::kStringList, false, {}},
        {"sendmail", FieldKind::kString, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    const Node& f = step.fields;
    const std::string channel = f.Find("channel")->scalar;
    auto only_for = [&](const char* field, const char* ch) {
      if (f.Find(field) && channel != ch)
        diags.Error(f.KeyLoc(field), ctx + "'" + field + "' applies only to channel " + ch);
    };
    only_for("url", "webhook");
    only_for("command", "command");
    only_for("sendmail", "email");
    if (channel == "webhook" && !f.Find("url")) diags.Error(f.loc, ctx + "channel webhook needs 'url'");
    if (channel == "command" && !f.Find("command")) diags.Error(f.loc, ctx + "channel command needs 'command'");
    if (channel == "email") {
      const Node* to = f.Find("to");
      if (!to) diags.Error(f.loc, ctx + "channel email needs 'to'");
      else if (!to->IsScalar() && !to->IsSequence())
        schema::KindError(*to, ctx + "'to'", "an address or a list of addresses", diags);
    }
    if (const Node* c = f.Find("command"); c && c->items.empty())
      diags.Error(c->loc, ctx + "'command' is empty");
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override { return {{"delivered", expr::Type::kBool}}; }
};

}  // namespace

std::unique_ptr<StepType> MakeNotifyType() { return std::make_unique<NotifyType>(); }

}  // namespace runbook::steps
