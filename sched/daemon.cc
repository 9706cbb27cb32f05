#include "sched/daemon.h"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "engine/cancel.h"
#include "journal/identity.h"
#include "journal/journal.h"
#include "sched/scheduler.h"
#include "sched/slot_store.h"
#include "sched/triggers.h"
#include "steps/process.h"

extern char** environ;

namespace runbook::sched {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

constexpr size_t kMaxStdout = 1 << 20;
constexpr size_t kMaxStderrLine = 4096;

// A child's output: stdout kept (its --json summary; the tail if it is
// large), stderr logged line by line under the child's name.
class ChildSink : public steps::OutputSink {
 public:
  explicit ChildSink(std::string what) : what_(std::move(what)) {}

  awaitable<void> OnOutput(steps::Stream s, std::string_view data) override {
    if (s == steps::Stream::kStdout) {
      stdout_.append(data);
      if (stdout_.size() > kMaxStdout) stdout_.erase(0, stdout_.size() - kMaxStdout);
    } else {
      for (char c : data) {
        if (c == '\n') {
          FlushLine();
        } else if (line_.size() < kMaxStderrLine) {
          line_ += c;
        }
      }
    }
    co_return;
  }

  void FlushLine() {
    if (!line_.empty()) spdlog::info("[{}] {}", what_, line_);
    line_.clear();
  }
  std::string TakeStdout() { return std::move(stdout_); }

 private:
  std::string what_;
  std::string stdout_;
  std::string line_;
};

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

class Daemon {
 public:
  Daemon(const DaemonOptions& options, const Catalog& catalog, const StepTypeRegistry& types,
         journal::Journal& journal, SlotStore& store)
      : options_(options),
        catalog_(catalog),
        types_(types),
        env_(options.child_env.empty() ? CurrentEnvironment() : options.child_env),
        launcher_(steps::MakePosixProcessLauncher(io_.get_executor())),
        signals_(io_),
        wake_(io_),
        resume_timer_(io_),
        scheduler_(options.child, store, journal) {}

  int Run() {
    boost::system::error_code ec;
    for (int signo : {SIGTERM, SIGINT, SIGHUP}) {
      signals_.add(signo, ec);
      if (ec) spdlog::error("cannot handle signal {}: {}", signo, ec.message());
    }
    WaitForSignal();
    Load("start");
    if (options_.once) {
      for (auto& l : scheduler_.Tick(Now())) Spawn(std::move(l));
      for (auto& l : scheduler_.FindResumes()) Spawn(std::move(l));
      Drain();
    } else {
      scheduler_.Note("scheduler_started", StartMessage());
      StartWatching();
      asio::co_spawn(io_, MainLoop(), asio::detached);
      asio::co_spawn(io_, ResumeLoop(), asio::detached);
    }
    io_.run();
    if (!options_.once) scheduler_.Note("scheduler_stopped", "scheduler stopped");
    spdlog::info("scheduler stopped");
    return 0;
  }

 private:
  sys_seconds Now() const {
    if (options_.now) return options_.now();
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }

  std::string StartMessage() const {
    return "scheduler started (pid " + std::to_string(::getpid()) + ", " +
           std::to_string(scheduler_.triggers().size()) + " triggers, on-stop " +
           (options_.on_stop == OnStop::kCancel ? "cancel" : "wait") + ")";
  }

  void Load(const char* why) {
    TriggerSet set = LoadTriggers(catalog_, types_);
    for (const auto& p : set.problems) spdlog::error("{} (runbook not scheduled)", p);
    spdlog::info("{}: {} trigger(s) from {} runbook file(s)", why, set.triggers.size(), set.runbooks);
    for (const auto& t : set.triggers) spdlog::debug("trigger {} key '{}'", t.Describe(), t.key);
    scheduler_.SetTriggers(std::move(set.triggers), Now());
  }

  awaitable<void> MainLoop() {
    while (!draining_) {
      if (reload_pending_) {
        reload_pending_ = false;
        Load("reload");
        scheduler_.Note("scheduler_reloaded", "runbooks reloaded: " + std::to_string(scheduler_.triggers().size()) +
                                                  " triggers");
        StartWatching();
      }
      sys_seconds now = Now();
      for (auto& l : scheduler_.Tick(now)) Spawn(std::move(l));
      auto next = scheduler_.NextSlot(now);
      sys_seconds until = now + kMaxSleep;
      if (next && *next < until) until = *next;
      spdlog::debug("sleeping {} s until the next slot", (until - now).count());
      wake_.expires_at(std::chrono::system_clock::time_point(until));
      boost::system::error_code ec;
      co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  awaitable<void> ResumeLoop() {
    while (!draining_) {
      for (auto& l : scheduler_.FindResumes()) Spawn(std::move(l));
      resume_timer_.expires_after(options_.resume_interval);
      boost::system::error_code ec;
      co_await resume_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  void WaitForSignal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;  // cancelled: the daemon is finishing
      if (signo == SIGHUP) {
        spdlog::info("SIGHUP: reloading the runbooks and looking for approved runs");
        reload_pending_ = true;
        wake_.cancel();
        resume_timer_.cancel();
      } else {
        ++stop_signals_;
        spdlog::info("{}: stopping ({} run(s) in progress)", signo == SIGTERM ? "SIGTERM" : "SIGINT",
                     children_.size());
        if (options_.on_stop == OnStop::kCancel || stop_signals_ > 1) CancelChildren();
        Drain();
      }
      if (!finished_) WaitForSignal();
    });
  }

  // Watches every existing runbook directory (again: a reload may find new
  // ones). Any change requests a reload after `reload_debounce` of quiet.
  void StartWatching() {
    if (options_.once) return;
    if (!inotify_) {
      int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (fd < 0) {
        spdlog::warn("cannot watch the runbook directories ({}); reload with SIGHUP", std::strerror(errno));
        return;
      }
      inotify_.emplace(io_, fd);
      asio::co_spawn(io_, WatchLoop(), asio::detached);
    }
    for (const auto& dir : catalog_.dirs()) {
      std::error_code ec;
      if (!std::filesystem::is_directory(dir, ec)) continue;
      uint32_t mask = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |
                      IN_DELETE_SELF | IN_MOVE_SELF;
      if (::inotify_add_watch(inotify_->native_handle(), dir.c_str(), mask) < 0)
        spdlog::warn("cannot watch {}: {}; reload with SIGHUP", dir, std::strerror(errno));
    }
  }

  // Reads every pending event; true if one concerns a runbook file (or a
  // watched directory itself), so that the journal's own files, when they
  // live in a runbook directory, do not cause reloads.
  bool DrainInotify() {
    bool relevant = false;
    alignas(inotify_event) char buf[8192];
    for (;;) {
      ssize_t n = ::read(inotify_->native_handle(), buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
        std::string_view name(ev->len ? ev->name : "");
        name = name.substr(0, name.find('\0'));
        auto ends = [&](std::string_view ext) {
          return name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext;
        };
        if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW)) || ends(".yaml") || ends(".yml"))
          relevant = true;
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
    return relevant;
  }

  awaitable<void> WatchLoop() {
    asio::steady_timer quiet(io_);
    while (!draining_ && inotify_) {
      boost::system::error_code ec;
      co_await inotify_->async_wait(asio::posix::descriptor_base::wait_read,
                                    asio::redirect_error(use_awaitable, ec));
      if (ec || draining_) break;
      if (!DrainInotify()) continue;
      quiet.expires_after(options_.reload_debounce);
      co_await quiet.async_wait(asio::redirect_error(use_awaitable, ec));
      if (draining_) break;
      (void)DrainInotify();
      spdlog::info("a runbook file changed: reloading");
      reload_pending_ = true;
      wake_.cancel();
    }
  }

  void Spawn(Launch launch) {
    int id = next_child_++;
    auto cancel = std::make_shared<CancelSignal>();
    children_[id] = cancel;
    spdlog::info("starting {}", launch.what);
    asio::co_spawn(io_, RunChild(std::move(launch), id, cancel), asio::detached);
  }

  awaitable<void> RunChild(Launch launch, int id, std::shared_ptr<CancelSignal> cancel) {
    steps::ProcessRequest req;
    req.argv = launch.argv;
    req.env = env_;
    req.kill_grace = options_.kill_grace;
    ChildSink sink(launch.what);
    ChildExit exit;
    exit.started_at_us = journal::NowMicros();
    steps::ProcessResult r;
    try {
      r = co_await launcher_->Run(req, sink, *cancel);
    } catch (const std::exception& e) {
      r.end = steps::ProcessResult::End::kLaunchFailed;
      r.error = e.what();
    }
    sink.FlushLine();
    exit.launched = r.end != steps::ProcessResult::End::kLaunchFailed;
    exit.exit_code = r.exit_code;
    exit.signal = r.signal;
    exit.pid = r.pid;
    exit.error = r.error;
    exit.stdout_text = sink.TakeStdout();
    scheduler_.Finished(launch, exit);
    children_.erase(id);
    MaybeFinish();
  }

  void CancelChildren() {
    if (!children_.empty()) spdlog::info("cancelling {} run(s): SIGTERM to their process groups", children_.size());
    auto children = children_;  // Emit may complete a child synchronously
    for (auto& [id, cancel] : children) cancel->Emit();
  }

  // No new runs from now on; finish once the children have ended.
  void Drain() {
    if (!draining_) {
      draining_ = true;
      wake_.cancel();
      resume_timer_.cancel();
      if (inotify_) {
        boost::system::error_code ec;
        inotify_->close(ec);
      }
      if (!children_.empty()) spdlog::info("waiting for {} run(s) to end", children_.size());
    }
    MaybeFinish();
  }

  void MaybeFinish() {
    if (!draining_ || !children_.empty() || finished_) return;
    finished_ = true;
    boost::system::error_code ec;
    signals_.cancel(ec);
  }

  const DaemonOptions& options_;
  const Catalog& catalog_;
  const StepTypeRegistry& types_;
  const std::vector<std::string> env_;
  asio::io_context io_{1};
  std::unique_ptr<steps::ProcessLauncher> launcher_;
  asio::signal_set signals_;
  asio::system_timer wake_;
  asio::steady_timer resume_timer_;
  std::optional<asio::posix::stream_descriptor> inotify_;
  Scheduler scheduler_;
  std::map<int, std::shared_ptr<CancelSignal>> children_;
  int next_child_ = 0;
  int stop_signals_ = 0;
  bool reload_pending_ = false;
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace

int RunDaemon(const DaemonOptions& options, const Catalog& catalog, const StepTypeRegistry& types,
              journal::Journal& journal, SlotStore& store) {
  Daemon daemon(options, catalog, types, journal, store);
  return daemon.Run();
}

}  // namespace runbook::sched
