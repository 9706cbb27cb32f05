// Internal to journal/spill*.cc: the directory and name helpers that the
// spill readers (spill.cc) and the writer (spill_writer.cc) share.
// Free functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace runbook::journal::spill_internal {

// strerror(errno).
std::string Errno();

// Opens directory `name` relative to `parent` (AT_FDCWD for a path) without
// following a symbolic link; with `create`, makes it (0700) when missing and
// sets *created. `shown` is its path for messages. Errors: NotFound
// "spill directory D is missing", FailedPrecondition "spill directory D is a
// symbolic link or not a directory", IoError.
Result<int> OpenDir(int parent, const std::string& name, const std::string& shown, bool create, bool* created);

// The directory part of `path` ("." when there is none).
std::string ParentDir(const std::string& path);

// Checks a stored spill name "RUN_ID/FILE" of run `run_id` and returns FILE:
// the run component must be the row's run, FILE a plain name the writer could
// have made. Corruption otherwise (the row was edited).
Status SplitName(std::string_view run_id, std::string_view name, std::string* file);

}  // namespace runbook::journal::spill_internal
