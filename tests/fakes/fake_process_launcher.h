// FakeProcessLauncher: a table-driven ProcessLauncher for the engine's and the
// step executors' unit tests. Nothing is spawned: each Run() looks up a Script
// (by call index, by argv[0], by predicate, else the default "exit 0"),
// streams its output chunks to the sink, then "runs" for the scripted
// duration on an asio::steady_timer, honouring the request's timeout and the
// CancelSignal like the real launcher would (kTimedOut / kCancelled, SIGTERM).
// Every request is recorded. Single-threaded, like the engine.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "steps/process.h"

namespace runbook::fakes {

class FakeProcessLauncher : public steps::ProcessLauncher {
 public:
  struct Script {
    // What Run() returns: end, exit_code, signal, error. pid 0 means "make
    // one up" (1000 + call index); duration is always the measured one.
    steps::ProcessResult result = Exited(0);
    // Emitted in order before the simulated run time, each chunk awaited.
    std::vector<std::pair<steps::Stream, std::string>> output;
    std::chrono::milliseconds duration{0};
  };

  // Shorthands for the usual scripts.
  static steps::ProcessResult Exited(int code);
  static Script Exits(int code, std::string out = "", std::string err = "");
  static Script Runs(std::chrono::milliseconds duration, int code = 0);
  static Script Signaled(int signal);
  static Script LaunchFails(std::string error);

  // Rules, first match wins; call-index rules are checked before the others.
  void OnCall(size_t index, Script script);  // the index-th Run(), from 0
  void OnProgram(std::string argv0, Script script);
  void On(std::function<bool(const steps::ProcessRequest&)> match, Script script);
  void SetDefault(Script script) { default_ = std::move(script); }

  const std::vector<steps::ProcessRequest>& requests() const { return requests_; }
  size_t calls() const { return requests_.size(); }
  int running() const { return running_; }          // Run()s in flight now
  int max_running() const { return max_running_; }  // the most ever in flight

  boost::asio::awaitable<steps::ProcessResult> Run(const steps::ProcessRequest& request, steps::OutputSink& sink,
                                                   CancelSignal& cancel) override;

 private:
  struct Rule {
    std::function<bool(const steps::ProcessRequest&)> match;
    Script script;
  };
  const Script& Find(size_t index, const steps::ProcessRequest& request) const;

  std::vector<std::pair<size_t, Script>> by_call_;
  std::vector<Rule> rules_;
  Script default_;
  std::vector<steps::ProcessRequest> requests_;
  int running_ = 0;
  int max_running_ = 0;
};

}  // namespace runbook::fakes
