// Internal to the journal: the start log (docs/journal.md, "The start log").
//
// A step's start must be in the journal before its process starts, and a
// SQLite commit per step was most of the journal's cost per step. So the
// engine's records go to the writer thread's group commits (the commit
// window, Journal), and the start of a step that waited for nothing still
// uncommitted (Journal::StartAttempt; the engine decides) is also appended,
// before the step's process starts, to a file of this process's own beside
// the journal: one line, one write(2). Once write(2) returns the line survives a crash of the
// process (it is in the page cache), as a commit with synchronous=NORMAL
// does; neither survives a power loss before the next sync. When the
// process dies, the next process that opens the journal marks its runs
// 'interrupted' (journal/stale.h) and first adds the starts the journal
// lacks from the dead process's start log; then it removes the file.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "journal/records.h"

namespace runbook::journal {

// JOURNAL-starts-BOOTID-PID-STARTTIME: named after the process that writes
// it, the identity the runs table records for a run's engine (so that the
// stale-run check finds the file of a run's dead engine without listing the
// directory). The boot id keeps a process of an earlier boot that had the
// same pid and start time apart (unknown: "JOURNAL-starts--PID-STARTTIME").
std::string StartLogPath(const std::string& journal_path, const ProcessIdentity& owner);

// What a line records: a step attempt's 'running' row and its step_started
// event (run, step, attempt, time, message, actor, data).
struct LoggedStart {
  AttemptRecord attempt;
  EventRecord event;
};

// One JSON object and a newline.
std::string StartLogLine(const AttemptRecord& running, const EventRecord& started);

// The starts in the file, in order; a missing file has none. A line that is
// not a complete start (the last one, cut short by a full disk) is skipped.
// Errors: the file cannot be opened or read.
Result<std::vector<LoggedStart>> ReadStartLog(const std::string& path);

// The writing end: the Journal's. Append and TruncateIfUnchanged may be
// called from different threads.
class StartLogWriter {
 public:
  explicit StartLogWriter(std::string journal_path) : journal_path_(std::move(journal_path)) {}
  ~StartLogWriter();
  StartLogWriter(const StartLogWriter&) = delete;
  StartLogWriter& operator=(const StartLogWriter&) = delete;

  // Creates the file at the first call (StartLogPath of the current process,
  // mode 0600, never through a symbolic link). A failed or short write is
  // cut off again, so that the next line starts on a line of its own.
  // Errors name the file.
  Status Append(std::string_view line);
  // Bytes in the file now.
  int64_t size() const;
  // Empties the file when it holds exactly `size` bytes and at least
  // `threshold`: everything in it is committed (the caller read size()
  // before it took the records it has just committed). Errors are ignored:
  // the file is then only longer than it needs to be.
  void TruncateIfUnchanged(int64_t size, int64_t threshold);
  // Closes and deletes the file, if it was created.
  void Remove();

 private:
  const std::string journal_path_;
  mutable std::mutex mu_;
  std::string path_;  // once created
  int fd_ = -1;
  int64_t size_ = 0;
};

}  // namespace runbook::journal
