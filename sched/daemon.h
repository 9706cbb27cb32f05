// The `runbook schedule` daemon: one io_context thread that sleeps on a timer
// until the next slot of any trigger (never a polling loop), asks the
// Scheduler what is due, and runs each run as a child process in its own
// process group (steps/process.h). SIGHUP and changes in the runbook
// directories (inotify) reload the triggers; SIGTERM/SIGINT stop it cleanly:
// no new runs, then the running children are cancelled (SIGTERM to their
// groups, SIGKILL after `kill_grace`) or awaited (`OnStop::kWait`; a second
// signal cancels them). A second timer looks for approved `waiting` runs to
// continue. docs/scheduling.md describes the behaviour.
//
// Asio stays in daemon.cc; this header is light.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "engine/catalog.h"
#include "sched/child.h"
#include "sched/planner.h"

namespace runbook {
class StepTypeRegistry;
}  // namespace runbook
namespace runbook::journal {
class Journal;
}  // namespace runbook::journal

namespace runbook::sched {

class SlotStore;

enum class OnStop { kCancel, kWait };

// The timer never sleeps longer than this, so that a wall-clock step (NTP,
// suspend and resume) is noticed within it.
inline constexpr std::chrono::minutes kMaxSleep{10};

struct DaemonOptions {
  // Fire what is due now (and continue approved runs), wait for those
  // children, return. No timers, no reload.
  bool once = false;
  OnStop on_stop = OnStop::kCancel;
  ChildBase child;                     // the children's binary and global options
  std::vector<std::string> child_env;  // "K=V"; empty: this process's environment
  std::chrono::milliseconds kill_grace{60000};  // SIGTERM -> SIGKILL for a cancelled child
  std::chrono::seconds resume_interval{30};     // how often to look for approved waiting runs
  std::chrono::milliseconds reload_debounce{300};
  // The time slots are decided at; empty: the system clock. (Timers always
  // follow the system clock; tests inject this for `once`.)
  std::function<sys_seconds()> now;
};

// Runs the daemon until SIGTERM/SIGINT, or with `once` until the due children
// have ended. Returns the exit code: 0 after a clean stop.
// REQUIRES: called on the main thread (it installs signal handlers); SIGCHLD
// is not ignored.
int RunDaemon(const DaemonOptions& options, const Catalog& catalog, const StepTypeRegistry& types,
              journal::Journal& journal, SlotStore& store);

}  // namespace runbook::sched
