#include "engine/executor.h"

namespace runbook {

void ExecutorRegistry::Add(std::string type, std::unique_ptr<StepExecutor> executor) {
  executors_.emplace_back(std::move(type), std::move(executor));
}

StepExecutor* ExecutorRegistry::Find(std::string_view type) const {
  for (const auto& [t, e] : executors_)
    if (t == type) return e.get();
  return nullptr;
}

}  // namespace runbook
