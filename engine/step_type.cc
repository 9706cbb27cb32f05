#include "engine/step_type.h"

namespace runbook {

void StepTypeRegistry::Add(std::unique_ptr<StepType> type) { types_.push_back(std::move(type)); }

const StepType* StepTypeRegistry::Find(std::string_view name) const {
  for (const auto& t : types_)
    if (t->name() == name) return t.get();
  return nullptr;
}

std::vector<std::string> StepTypeRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& t : types_) out.emplace_back(t->name());
  return out;
}

}  // namespace runbook
