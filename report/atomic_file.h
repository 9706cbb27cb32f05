// Writing the export to a file all at once or not at all: a temporary file
// created next to the target (mode 0600: an export is evidence and may hold
// internal details), filled through an std::ostream, flushed and fsync'ed,
// then renamed over the target. A failure at any point removes the temporary
// and leaves an existing target untouched. Stateless; any thread.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

#include "engine/status.h"

namespace runbook::report {

// `write` fills the stream; its non-ok Status aborts (and is returned).
// Errors: IoError "cannot write PATH: <strerror>".
Status WriteFileAtomically(const std::string& path, const std::function<Status(std::ostream&)>& write);

}  // namespace runbook::report
