// Cancellation of a run: signals, the run's timeout, a parent's cancel, a
// journal that can no longer record; see run_execution.h.
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <spdlog/spdlog.h>

#include "engine/run_execution.h"

namespace runbook::internal {

// --- Cancellation ------------------------------------------------------------
void RunExecution::CancelRunning(bool include_finally) {
  auto copy = running_;
  for (auto& [s, signal] : copy)
    if (include_finally || rb_.steps[s].block != Block::kFinally) signal->Emit();
}

void RunExecution::CancelRun() {
  plan_.Cancel();
  CancelRunning(false);
  CancelParked();
  Wake();
}

void RunExecution::JournalBroken(const Status& why) {
  if (journal_broken_) return;
  spdlog::error("{}", why.message());  // already says "journal write failed: PATH: ..."
  journal_broken_ = true;
  journal_broken_reason_ = why;
  summary.error = "the journal cannot record this run any more (" + why.message() + "); no further steps are started";
  plan_.FailRun();
  plan_.Cancel();
  CancelRunning(true);
  CancelParked();
}

void RunExecution::WatchSignals() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](boost::system::error_code ec, int signo) { OnSignal(ec, signo); });
}

void RunExecution::OnSignal(boost::system::error_code ec, int signo) {
  if (ec) return;
  const char* name = signo == SIGINT ? "SIGINT" : "SIGTERM";
  if (signal_ == 0) {
    signal_ = signo;
    Event("", "cancel", std::string("received ") + name + "; cancelling running steps, then running 'finally'");
    if (progress_)
      progress_->Notice(std::string("received ") + name +
                        ": cancelling; 'finally' steps still run (send again to cancel them too)");
    CancelRun();
  } else {
    Event("", "cancel", std::string("received ") + name + " again; cancelling 'finally' steps too");
    CancelRunning(true);
  }
  Wake();
  signals_.async_wait([this](boost::system::error_code e, int n) { OnSignal(e, n); });
}

void RunExecution::WatchRunTimeout(Millis limit) {
  run_timer_.expires_after(limit);
  run_timer_.async_wait([this, limit](boost::system::error_code ec) {
    if (ec) return;
    timed_out_ = true;
    Event("", "timeout", "run timed out after " + FormatDuration(limit) + "; cancelling running steps");
    plan_.FailRun();
    CancelRun();
  });
}

}  // namespace runbook::internal
