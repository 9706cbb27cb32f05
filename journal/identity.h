// Who and where: the facts about the current process that the journal records
// with a run (host, pid, process start time, boot id, "user@host"), the
// liveness test used for stale-run detection, run ids, and the clock.
// Free functions over the OS (/proc, gethostname, getpwuid_r, getrandom);
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "journal/records.h"

namespace runbook::journal {

// Microseconds since the Unix epoch (UTC), from the system clock.
int64_t NowMicros();

// 12 lowercase hex characters (48 bits) from getrandom(2).
std::string NewRunId();

// gethostname(), or "localhost" when it fails.
std::string HostName();
// The effective user's login name (passwd entry), else $USER, else the uid.
std::string UserName();
// "user@host": the default actor of everything a person does.
std::string LocalActor();

// Field 22 of /proc/PID/stat (start time in clock ticks after boot), or
// nullopt when the process does not exist (or /proc is unavailable).
std::optional<int64_t> ProcessStartTime(int64_t pid);
// The kernel's boot id (changes at every boot), or "" when unavailable.
// Read once per process.
std::string BootId();
// host, pid, start time and boot id of the calling process.
ProcessIdentity CurrentProcess();

// True when `recorded` (a process on this host) still runs: the pid exists,
// is not a zombie, its start time is the recorded one, and the machine has not rebooted since
// (when both boot ids are known). Pid reuse is detected by the start time.
bool ProcessIsAlive(const ProcessIdentity& recorded);

}  // namespace runbook::journal
