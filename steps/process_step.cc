#include "steps/process_step.h"

#include <csignal>
#include <cstring>

#include "engine/env.h"
#include "engine/script.h"
#include "steps/shell.h"

namespace runbook::steps {

namespace {

class SinkAdapter : public OutputSink {
 public:
  explicit SinkAdapter(OutputSinkBase& out) : out_(out) {}
  boost::asio::awaitable<void> OnOutput(Stream s, std::string_view data) override {
    co_await out_.Write(s == Stream::kStdout ? OutputStream::kStdout : OutputStream::kStderr, data);
  }

 private:
  OutputSinkBase& out_;
};

std::vector<long long> SuccessCodes(const Node& fields) {
  std::vector<long long> codes;
  if (const Node* n = fields.Find("success_codes")) {
    if (n->IsSequence()) {
      for (const auto& i : n->items)
        if (auto v = i.AsInt()) codes.push_back(*v);
    } else if (auto v = n->AsInt()) {
      codes.push_back(*v);
    }
  }
  if (codes.empty()) codes.push_back(0);
  return codes;
}

}  // namespace

boost::asio::awaitable<StepOutcome> RunProcessStep(ProcessLauncher& launcher, StepContext& ctx,
                                                   std::vector<std::string> argv,
                                                   const std::map<std::string, std::string>& extra_env) {
  StepOutcome outcome;
  const Node& f = ctx.fields();
  ProcessRequest req;
  req.argv = std::move(argv);
  req.env = std::move(ctx.env);  // this attempt's, used once
  for (const auto& [k, v] : extra_env) SetEnv(req.env, k, v);
  if (const Node* cwd = f.Find("cwd")) {
    auto r = RenderText(cwd->scalar, *ctx.values);
    if (!r.ok()) co_return CouldNotStart("'cwd': " + r.status().message());
    req.cwd = *r;
  }
  if (const Node* in = f.Find("stdin")) {
    auto r = RenderText(in->scalar, *ctx.values);
    if (!r.ok()) co_return CouldNotStart("'stdin': " + r.status().message());
    req.stdin_data = *r;
  }
  req.kill_grace = ctx.kill_grace;
  // The runner enforces the timeout through ctx.cancel, uniformly for every
  // step type; the launcher turns a cancel into SIGTERM, grace, SIGKILL.
  req.timeout = Millis(0);
  SinkAdapter sink(*ctx.output);
  ProcessResult r = co_await launcher.Run(req, sink, *ctx.cancel);
  switch (r.end) {
    case ProcessResult::End::kExited: {
      outcome.exit_code = r.exit_code;
      bool ok = false;
      for (long long c : SuccessCodes(f)) ok |= (c == r.exit_code);
      if (ok) {
        outcome.status = StepStatus::kSucceeded;
      } else {
        outcome.status = StepStatus::kFailed;
        outcome.error = "exit code " + std::to_string(r.exit_code);
      }
      break;
    }
    case ProcessResult::End::kSignaled:
      outcome.status = StepStatus::kFailed;
      outcome.exit_code = 128 + r.signal;
      outcome.error = std::string("killed by signal ") + std::to_string(r.signal) + " (" + strsignal(r.signal) + ")";
      break;
    case ProcessResult::End::kTimedOut:
      outcome.status = StepStatus::kTimedOut;
      outcome.error = "timed out";
      break;
    case ProcessResult::End::kCancelled:
      outcome.status = StepStatus::kCancelled;
      outcome.error = "cancelled";
      break;
    case ProcessResult::End::kLaunchFailed:
      outcome.status = StepStatus::kFailed;
      outcome.error = r.error;
      break;
  }
  co_return outcome;
}

namespace {

class ShellExecutor : public StepExecutor {
 public:
  explicit ShellExecutor(ProcessLauncher& l) : launcher_(l) {}
  boost::asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    // `cmd` (and the file of a long script) lives until the process is done.
    auto cmd = PrepareShellCommand(ctx);
    if (!cmd.ok()) co_return StepOutcome{StepStatus::kFailed, std::nullopt, {}, cmd.status().message()};
    co_return co_await RunProcessStep(launcher_, ctx, cmd->argv(), cmd->env());
  }

 private:
  ProcessLauncher& launcher_;
};

class ExecExecutor : public StepExecutor {
 public:
  explicit ExecExecutor(ProcessLauncher& l) : launcher_(l) {}
  boost::asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    std::vector<std::string> argv;
    for (const auto& item : ctx.fields().Find("argv")->items) {
      auto r = RenderText(item.scalar, *ctx.values);
      if (!r.ok()) co_return CouldNotStart("'argv': " + r.status().message());
      argv.push_back(*r);
    }
    co_return co_await RunProcessStep(launcher_, ctx, std::move(argv), {});
  }

 private:
  ProcessLauncher& launcher_;
};

}  // namespace

std::unique_ptr<StepExecutor> MakeShellExecutor(ProcessLauncher& launcher) {
  return std::make_unique<ShellExecutor>(launcher);
}
std::unique_ptr<StepExecutor> MakeExecExecutor(ProcessLauncher& launcher) {
  return std::make_unique<ExecExecutor>(launcher);
}

}  // namespace runbook::steps
