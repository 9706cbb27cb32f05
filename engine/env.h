// Process environments as the exec family wants them: "KEY=VALUE" strings,
// one per key, kept sorted by KEY so that a variable is found or replaced by
// binary search. The runner builds the part every step shares once per run and
// copies it per step (StepContext::env); the process steps add their own
// variables with SetEnv. Plain functions, no state; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace runbook {

// Sets KEY to VALUE in `env`, replacing an existing entry for KEY or
// inserting one in order. REQUIRES: `env` sorted by key (SortEnv and SetEnv
// keep it so).
void SetEnv(std::vector<std::string>& env, std::string_view key, std::string_view value);

// The entry for `key`, or nullptr. REQUIRES: `env` sorted by key.
const std::string* FindEnv(const std::vector<std::string>& env, std::string_view key);

// Sorts "KEY=VALUE" entries by key; of entries with the same key the first
// wins, as for getenv(). Entries without '=' are dropped.
void SortEnv(std::vector<std::string>& env);

}  // namespace runbook
