// `runbook`: runs another runbook as a child run (same incident), passing
// parameters; its status and outputs become this step's outputs.
#include <boost/json.hpp>

#include "engine/executor.h"
#include "engine/expr/expr.h"
#include "engine/loader.h"
#include "engine/script.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

class RunbookType : public StepType {
 public:
  std::string_view name() const override { return "runbook"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"runbook", FieldKind::kString, true, {}},
        {"params", FieldKind::kMapping, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    const Node* r = step.fields.Find("runbook");
    if (r && !IsValidRunbookName(r->scalar))
      diags.Error(r->loc, "step '" + step.id + "': invalid runbook name '" + r->scalar + "'");
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"run_id", expr::Type::kString}, {"status", expr::Type::kString}, {"outputs", expr::Type::kObject}};
  }
};

class RunbookExecutor : public StepExecutor {
 public:
  boost::asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    StepOutcome out;
    out.status = StepStatus::kFailed;
    ChildRunRequest req;
    req.runbook = ctx.fields().Find("runbook")->scalar;
    if (const Node* p = ctx.fields().Find("params")) {
      auto rendered = RenderJson(p->ToJson(), *ctx.values);
      if (!rendered.ok()) {
        out.error = "params: " + rendered.status().message();
        out.permanent = true;
        co_return out;
      }
      if (rendered->is_object()) req.params = rendered->as_object();
    }
    // Ran before in this run (resume): continue that child run instead of starting another.
    if (ctx.previous_outputs) {
      if (auto it = ctx.previous_outputs->find("run_id"); it != ctx.previous_outputs->end() && it->value().is_string())
        req.resume_run_id = std::string(it->value().get_string());
    }
    if (!ctx.children) {
      out.error = "child runs cannot be started here";
      co_return out;
    }
    ChildRunResult r = co_await ctx.children->Run(req, *ctx.cancel);
    if (!r.run_id.empty()) out.outputs["run_id"] = r.run_id;
    out.outputs["status"] = r.status;
    out.outputs["outputs"] = r.outputs;
    std::string what = "child run " + (r.run_id.empty() ? std::string() : r.run_id + " ") + "of " + req.runbook;
    // Built before the co_await: g++ 12 mishandles temporaries of a
    // conditional expression inside a co_await's arguments.
    // Nothing is written for a child that waits: the step continues under
    // the same attempt number when the run is resumed.
    std::string line = what;
    if (!req.resume_run_id.empty()) line += " (resumed)";
    line += ": " + r.status;
    if (!r.error.empty()) line += ": " + r.error;
    line += "\n";
    if (r.status != "waiting") co_await ctx.output->Write(OutputStream::kStdout, line);
    if (r.status == "succeeded") {
      out.status = StepStatus::kSucceeded;
    } else if (r.status == "waiting") {
      out.status = StepStatus::kWaiting;
      out.error = what + " is waiting for an approval";
    } else if (r.status == "cancelled") {
      out.status = StepStatus::kCancelled;
      out.error = what + " was cancelled";
    } else {
      out.error = r.run_id.empty() ? "cannot start child run of " + req.runbook + ": " + r.error
                                   : what + " " + r.status + (r.error.empty() ? "" : ": " + r.error);
    }
    co_return out;
  }
};

}  // namespace

std::unique_ptr<StepExecutor> MakeRunbookExecutor() { return std::make_unique<RunbookExecutor>(); }

std::unique_ptr<StepType> MakeRunbookType() { return std::make_unique<RunbookType>(); }

}  // namespace runbook::steps
