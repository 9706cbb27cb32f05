// `wait`: a pause, or polling an expression until it holds. The executor
// sleeps on a steady_timer of the run's io_context (never blocking it) and
// stops at once when the step is cancelled (run cancelled or timed out).
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/executor.h"
#include "engine/expr/expr.h"
#include "steps/registry.h"

namespace runbook::steps {
namespace {

constexpr Millis kDefaultEvery = std::chrono::seconds(5);
constexpr Millis kDefaultMax = std::chrono::minutes(5);

class WaitType : public StepType {
 public:
  std::string_view name() const override { return "wait"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"duration", FieldKind::kDuration, false, {}},
        {"until", FieldKind::kString, false, {}},
        {"every", FieldKind::kDuration, false, {}},
        {"max", FieldKind::kDuration, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    const Node& f = step.fields;
    if (f.Find("duration") && f.Find("until"))
      diags.Error(f.KeyLoc("until"), ctx + "give either 'duration' or 'until', not both");
    else if (!f.Find("duration") && !f.Find("until"))
      diags.Error(step.loc, ctx + "a wait needs 'duration' or 'until'");
    if (!f.Find("until")) {
      for (const char* k : {"every", "max"})
        if (f.Find(k)) diags.Error(f.KeyLoc(k), ctx + "'" + k + "' applies only with 'until'");
    }
    if (const Node* every = f.Find("every")) {
      auto d = ParseDuration(every->scalar);
      if (d && d->count() == 0) diags.Error(every->loc, ctx + "'every' must be longer than 0s");
    }
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override { return {}; }
  // How long, or which condition how often for how long (defaults filled in).
  std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec&,
                                             const ValueContext&) const override {
    const Node& f = step.fields;
    boost::json::object p;
    if (const Node* d = f.Find("duration")) {
      p["duration"] = d->scalar;
    } else if (const Node* u = f.Find("until")) {
      p["until"] = u->scalar;
      p["every"] = f.Find("every") ? f.Find("every")->scalar : FormatDuration(kDefaultEvery);
      p["max"] = f.Find("max") ? f.Find("max")->scalar : FormatDuration(kDefaultMax);
    }
    return p;
  }
};

// --- Executor ---------------------------------------------------------------

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;


StepOutcome Failed(std::string error) { return StepOutcome{StepStatus::kFailed, std::nullopt, {}, std::move(error)}; }
StepOutcome Cancelled() { return StepOutcome{StepStatus::kCancelled, std::nullopt, {}, "cancelled"}; }

// A duration field, validated at compile time; `fallback` when absent.
Result<Millis> DurationField(const Node& fields, const char* key, Millis fallback) {
  const Node* n = fields.Find(key);
  if (!n) return fallback;
  auto d = ParseDuration(n->scalar);
  if (!d) return Status::InvalidArgument("'" + std::string(key) + "': " + BadDurationMessage(n->scalar));
  return *d;
}


// One timer per attempt, cancelled by the step's CancelSignal. The signal
// may outlive the attempt, so it holds the timer only weakly.
class Sleeper {
 public:
  explicit Sleeper(StepContext& ctx) : ctx_(ctx), timer_(std::make_shared<asio::steady_timer>(ctx.io)) {
    ctx.cancel->Connect([weak = std::weak_ptr<asio::steady_timer>(timer_)] {
      if (auto t = weak.lock()) t->cancel();
    });
  }
  // False when the step was cancelled before or during the sleep.
  asio::awaitable<bool> Sleep(Millis d) {
    if (ctx_.cancel->emitted()) co_return false;
    timer_->expires_after(d);
    boost::system::error_code ec;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return !ctx_.cancel->emitted();
  }

 private:
  StepContext& ctx_;
  std::shared_ptr<asio::steady_timer> timer_;
};

class WaitExecutor : public StepExecutor {
 public:
  asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    const Node& f = ctx.fields();
    Sleeper sleeper(ctx);
    if (f.Find("duration")) {
      auto d = DurationField(f, "duration", Millis(0));
      if (!d.ok()) co_return Failed(d.status().message());
      if (!co_await sleeper.Sleep(*d)) co_return Cancelled();
      co_return StepOutcome{};
    }
    auto every = DurationField(f, "every", kDefaultEvery);
    auto max = DurationField(f, "max", kDefaultMax);
    if (!every.ok()) co_return Failed(every.status().message());
    if (!max.ok()) co_return Failed(max.status().message());
    auto e = expr::ParseCondition(f.Find("until")->scalar);
    if (!e.ok()) co_return Failed("cannot evaluate 'until': " + e.status().message());
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + *max;
    for (int evaluations = 1;; ++evaluations) {
      // ctx.values is the run's live view: other steps finishing (and `now`)
      // change it between two evaluations.
      auto v = expr::Evaluate(*e, *ctx.values);
      if (!v.ok()) co_return Failed("cannot evaluate 'until': " + v.status().message());
      if (expr::Truthy(*v)) {
        auto waited = std::chrono::duration_cast<Millis>(Clock::now() - start);
        co_await ctx.output->Write(OutputStream::kStdout,
                                   "condition holds after " + FormatDuration(waited) + " (" +
                                       std::to_string(evaluations) + " evaluation" + (evaluations == 1 ? "" : "s") +
                                       "): " + e->text() + "\n");
        co_return StepOutcome{};
      }
      Clock::time_point now = Clock::now();
      if (now >= deadline) co_return Failed("condition still false after " + FormatDuration(*max) + ": " + e->text());
      Millis pause = std::min(*every, std::chrono::ceil<Millis>(deadline - now));
      if (!co_await sleeper.Sleep(pause)) co_return Cancelled();
    }
  }
};

}  // namespace

std::unique_ptr<StepType> MakeWaitType() { return std::make_unique<WaitType>(); }
std::unique_ptr<StepExecutor> MakeWaitExecutor() { return std::make_unique<WaitExecutor>(); }

}  // namespace runbook::steps
