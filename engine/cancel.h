// CancelSignal: a one-shot "stop now" that the runner emits on Ctrl-C,
// SIGTERM, a run timeout or `runbook cancel`, and that a step's executor
// (the process launcher, a timer, an HTTP request) listens to. Asio-free.
// Single-threaded: emit and connect on the run's io_context thread.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace runbook {

class CancelSignal {
 public:
  // Calls every connected callback once; later Emit()s do nothing.
  void Emit() {
    if (emitted_) return;
    emitted_ = true;
    auto callbacks = std::move(callbacks_);
    callbacks_.clear();
    for (auto& f : callbacks) f();
  }
  bool emitted() const { return emitted_; }
  // `f` runs on Emit(), or right away if already emitted.
  void Connect(std::function<void()> f) {
    if (emitted_) {
      f();
      return;
    }
    callbacks_.push_back(std::move(f));
  }

 private:
  bool emitted_ = false;
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace runbook
