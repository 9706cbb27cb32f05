#include "tests/fakes/fake_process_launcher.h"

#include <csignal>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace runbook::fakes {

using steps::ProcessRequest;
using steps::ProcessResult;

ProcessResult FakeProcessLauncher::Exited(int code) {
  ProcessResult r;
  r.end = ProcessResult::End::kExited;
  r.exit_code = code;
  return r;
}

FakeProcessLauncher::Script FakeProcessLauncher::Exits(int code, std::string out, std::string err) {
  Script s;
  s.result = Exited(code);
  if (!out.empty()) s.output.emplace_back(steps::Stream::kStdout, std::move(out));
  if (!err.empty()) s.output.emplace_back(steps::Stream::kStderr, std::move(err));
  return s;
}

FakeProcessLauncher::Script FakeProcessLauncher::Runs(std::chrono::milliseconds duration, int code) {
  Script s;
  s.result = Exited(code);
  s.duration = duration;
  return s;
}

FakeProcessLauncher::Script FakeProcessLauncher::Signaled(int signal) {
  Script s;
  s.result.end = ProcessResult::End::kSignaled;
  s.result.signal = signal;
  return s;
}

FakeProcessLauncher::Script FakeProcessLauncher::LaunchFails(std::string error) {
  Script s;
  s.result.end = ProcessResult::End::kLaunchFailed;
  s.result.error = std::move(error);
  return s;
}

void FakeProcessLauncher::OnCall(size_t index, Script script) { by_call_.emplace_back(index, std::move(script)); }

void FakeProcessLauncher::OnProgram(std::string argv0, Script script) {
  On([argv0 = std::move(argv0)](const ProcessRequest& r) { return !r.argv.empty() && r.argv[0] == argv0; },
     std::move(script));
}

void FakeProcessLauncher::On(std::function<bool(const ProcessRequest&)> match, Script script) {
  rules_.push_back(Rule{std::move(match), std::move(script)});
}

const FakeProcessLauncher::Script& FakeProcessLauncher::Find(size_t index, const ProcessRequest& request) const {
  for (const auto& [i, script] : by_call_)
    if (i == index) return script;
  for (const Rule& rule : rules_)
    if (rule.match(request)) return rule.script;
  return default_;
}

boost::asio::awaitable<ProcessResult> FakeProcessLauncher::Run(const ProcessRequest& request, steps::OutputSink& sink,
                                                               CancelSignal& cancel) {
  namespace asio = boost::asio;
  const auto start = std::chrono::steady_clock::now();
  const size_t index = requests_.size();
  requests_.push_back(request);
  const Script script = Find(index, request);  // a copy: rules may change while we run

  ProcessResult r;
  r.end = ProcessResult::End::kCancelled;
  if (cancel.emitted()) co_return r;  // like the real one: nothing starts
  r = script.result;
  if (r.end == ProcessResult::End::kLaunchFailed) co_return r;
  if (r.pid == 0) r.pid = 1000 + static_cast<int>(index);

  ++running_;
  max_running_ = std::max(max_running_, running_);
  struct Running {
    int& n;
    ~Running() { --n; }
  } running{running_};

  for (const auto& [stream, data] : script.output) co_await sink.OnOutput(stream, data);

  // The simulated run: the scripted duration, cut short by the timeout or
  // the cancel signal. The signal's callback may outlive this frame (it
  // cannot be disconnected), hence the weak pointer.
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto timer_ref = std::make_shared<asio::steady_timer*>(&timer);
  bool cancelled = false;
  auto cancelled_ref = std::make_shared<bool*>(&cancelled);
  cancel.Connect([weak_timer = std::weak_ptr<asio::steady_timer*>(timer_ref),
                  weak_flag = std::weak_ptr<bool*>(cancelled_ref)] {
    if (auto flag = weak_flag.lock()) **flag = true;
    if (auto t = weak_timer.lock()) (*t)->cancel();
  });
  const bool times_out = request.timeout.count() > 0 && request.timeout < script.duration;
  if (!cancelled && (script.duration.count() > 0 || times_out)) {
    timer.expires_after(times_out ? request.timeout : script.duration);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (cancelled || times_out) {
    r.end = cancelled ? ProcessResult::End::kCancelled : ProcessResult::End::kTimedOut;
    r.exit_code = -1;
    r.signal = SIGTERM;
  }
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  co_return r;
}

}  // namespace runbook::fakes
