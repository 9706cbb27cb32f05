// TerminalProgress: what `runbook run` shows while a run goes — on a terminal
// a live status line of the running steps (elapsed, last output line) under
// the finished ones; otherwise plain timestamped lines, one per event, for
// logs and cron mail. Step output is echoed only with --show-output; without
// it, a step that fails or times out is followed by the last lines of its
// stderr (of its stdout when stderr is empty), as Ansible shows a failed
// task's stderr, so the reason is on screen without `runbook logs`.
// Called on the run's thread, except SetPrompting (the prompter's thread):
// out_mu_ orders their writes to the terminal.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "engine/runner.h"

namespace runbook::cli {

class TerminalProgress : public ProgressSink {
 public:
  TerminalProgress(std::ostream& out, bool live, bool color, bool show_output)
      : out_(out), live_(live), color_(color), show_output_(show_output) {}

  void RunStarted(const std::string& run_id, const CompiledRunbook& rb) override;
  void StepStarted(const CompiledStep& step, int attempt) override;
  void StepOutput(const CompiledStep& step, OutputStream stream, std::string_view data) override;
  void StepFinished(const CompiledStep& step, int attempt, StepStatus status, Millis duration,
                    const std::string& error) override;
  void StepSkipped(const CompiledStep& step, const std::string& reason) override;
  void Retrying(const CompiledStep& step, int next_attempt, Millis delay) override;
  void Notice(const std::string& message) override;
  void Tick() override { Redraw(); }
  // While an approval prompt is open on the terminal (from the prompter's
  // thread), the live status line stays away and the lines of other steps
  // are held, so that they do not land in the middle of the question; they
  // are printed when the prompt closes.
  void SetPrompting(bool on);

 private:
  void Line(const std::string& text);
  void Redraw();
  void AppendStatus(std::string& out);  // the live status line, if any
  void AppendTimestamp(std::string& out);
  std::string Paint(const std::string& text, const char* code) const;
  std::atomic<bool> prompting_{false};
  std::mutex out_mu_;              // out_ and held_: the prompter's thread flushes
  std::vector<std::string> held_;  // lines printed while prompting

  struct Running {
    std::chrono::steady_clock::time_point since;
    std::string last_line;
    int attempt = 1;
  };
  std::ostream& out_;
  bool live_;
  bool color_;
  bool show_output_;
  // By step object (a child run may have a step of the same id as its
  // parent's); a runbook's steps are in file order.
  std::map<const CompiledStep*, Running> running_;
  std::map<const CompiledStep*, std::string> partial_;  // incomplete output lines, per step
  // The last bytes of each running step's stdout and stderr (masked, as
  // everything the progress gets), for the lines shown after a failure.
  struct Tail {
    std::string out, err;
    bool out_cut = false, err_cut = false;  // earlier bytes were dropped
  };
  // By step object, not id: a child run may have a step of the same id.
  std::map<const CompiledStep*, Tail> tails_;
  // The steps of each run started (child runs report here too), as the
  // address range of its runbook's steps, kept without reading the runbook
  // again (a child's may be gone): a step's run is the newest range holding
  // it. "" when a range served two runs and the step's run cannot be told.
  struct RunSteps {
    const CompiledStep* begin;
    const CompiledStep* end;
    std::string run_id;
  };
  std::vector<RunSteps> runs_;
  std::string RunOf(const CompiledStep& step) const;
  bool status_shown_ = false;
  long long stamp_second_ = 0;  // AppendTimestamp's cache
  std::string stamp_prefix_;
};

}  // namespace runbook::cli
