#include "engine/env.h"

#include <algorithm>

namespace runbook {
namespace {

std::string_view KeyOf(const std::string& entry) {
  return std::string_view(entry).substr(0, entry.find('='));
}

// The first entry whose key is not less than `key`.
std::vector<std::string>::const_iterator LowerBound(const std::vector<std::string>& env, std::string_view key) {
  return std::lower_bound(env.begin(), env.end(), key,
                          [](const std::string& entry, std::string_view k) { return KeyOf(entry) < k; });
}

}  // namespace

void SetEnv(std::vector<std::string>& env, std::string_view key, std::string_view value) {
  auto it = LowerBound(env, key);
  std::string entry;
  entry.reserve(key.size() + 1 + value.size());
  entry.append(key).append(1, '=').append(value);
  if (it != env.end() && KeyOf(*it) == key) {
    env[static_cast<size_t>(it - env.begin())] = std::move(entry);
  } else {
    env.insert(it, std::move(entry));
  }
}

const std::string* FindEnv(const std::vector<std::string>& env, std::string_view key) {
  auto it = LowerBound(env, key);
  return it != env.end() && KeyOf(*it) == key ? &*it : nullptr;
}

void SortEnv(std::vector<std::string>& env) {
  std::erase_if(env, [](const std::string& e) { return e.find('=') == std::string::npos; });
  std::stable_sort(env.begin(), env.end(),
                   [](const std::string& a, const std::string& b) { return KeyOf(a) < KeyOf(b); });
  // Of equal keys keep the first (the sort is stable).
  auto last = std::unique(env.begin(), env.end(),
                          [](const std::string& a, const std::string& b) { return KeyOf(a) == KeyOf(b); });
  env.erase(last, env.end());
}

}  // namespace runbook
