// Concurrency groups (SPEC.md §5): one run per `concurrency.group` at a time
// on this machine, across processes. The lock is an flock(2) on a file in a
// directory beside the journal (JOURNAL.locks/GROUP.lock), held by the
// `runbook run`/`resume` process for as long as it executes the run, and
// released by the kernel when that process ends in any way (no stale locks
// after kill -9). The file names the holder for the message others get.
// A run paused for an approval (exit 3) holds no lock until it is resumed.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/model.h"
#include "engine/status.h"

namespace runbook::cli {

class GroupLock {
 public:
  enum class Outcome { kAcquired, kBusy };
  ~GroupLock();
  GroupLock(const GroupLock&) = delete;
  GroupLock& operator=(const GroupLock&) = delete;

  // Takes the group's lock. kQueue waits for it (calling `on_wait` with the
  // holder once, first); kSkip and kFail return kBusy with `holder` filled.
  // Errors: the lock directory or file cannot be created or opened.
  // `me` describes the run taking the lock, for the others' messages.
  static Result<std::unique_ptr<GroupLock>> Acquire(const std::string& journal_path, const ConcurrencySpec& spec,
                                                    const std::string& me,
                                                    const std::function<void(const std::string&)>& on_wait,
                                                    std::string& holder);

 private:
  explicit GroupLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace runbook::cli
