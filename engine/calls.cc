#include "engine/calls.h"

#include <filesystem>
#include <map>
#include <optional>

#include "engine/loader.h"

namespace runbook {
namespace {

struct Call {
  const StepSpec* step;
  std::string target;
  const Node* target_node;
};

std::vector<Call> CallsOf(const RunbookSpec& spec) {
  std::vector<Call> out;
  for (const auto* block : {&spec.steps, &spec.on_failure, &spec.finally_steps}) {
    for (const auto& s : *block) {
      if (s.type != "runbook") continue;
      const Node* n = s.fields.Find("runbook");
      if (n && n->IsScalar()) out.push_back({&s, n->scalar, n});
    }
  }
  return out;
}

class CallChecker {
 public:
  CallChecker(const Catalog& catalog, const StepTypeRegistry& types) : catalog_(catalog), types_(types) {}

  // The loaded spec of `name`, or null with `why` set.
  const RunbookSpec* Load(const std::string& name, std::string& why) {
    auto it = cache_.find(name);
    if (it == cache_.end()) {
      Entry e;
      auto path = catalog_.Resolve(name);
      if (!path.ok()) {
        e.why = path.status().message();
      } else {
        Diagnostics d;
        e.spec = LoadRunbookFile(*path, types_, d);
        if (!e.spec || d.has_errors()) {
          e.spec.reset();
          e.why = "runbook '" + name + "' has errors (runbook validate " + name + ")";
        }
      }
      it = cache_.emplace(name, std::move(e)).first;
    }
    why = it->second.why;
    return it->second.spec ? &*it->second.spec : nullptr;
  }

  // A cycle through `name` reachable from the chain `stack`, as "a -> b -> a".
  std::optional<std::string> FindCycle(const std::string& name, std::vector<std::string>& stack) {
    for (size_t i = 0; i < stack.size(); ++i) {
      if (stack[i] != name) continue;
      std::string path;
      for (size_t k = i; k < stack.size(); ++k) path += stack[k] + " -> ";
      return path + name;
    }
    if (done_.count(name)) return std::nullopt;
    std::string why;
    const RunbookSpec* spec = Load(name, why);
    if (!spec) return std::nullopt;  // reported where it is called from the root
    stack.push_back(name);
    for (const auto& c : CallsOf(*spec)) {
      if (auto cycle = FindCycle(c.target, stack)) {
        stack.pop_back();
        return cycle;
      }
    }
    stack.pop_back();
    done_.insert({name, true});
    return std::nullopt;
  }

 private:
  struct Entry {
    std::optional<RunbookSpec> spec;
    std::string why;
  };
  const Catalog& catalog_;
  const StepTypeRegistry& types_;
  std::map<std::string, Entry> cache_;
  std::map<std::string, bool> done_;  // names proven free of cycles
};

}  // namespace

Catalog CallCatalog(const Catalog& catalog, const std::string& caller_path) {
  std::vector<std::string> dirs;
  if (!caller_path.empty()) {
    std::string dir = std::filesystem::path(caller_path).parent_path().string();
    dirs.push_back(dir.empty() ? "." : dir);
  }
  for (const auto& d : catalog.dirs()) dirs.push_back(d);
  return Catalog(std::move(dirs));
}

void CheckRunbookCalls(const CompiledRunbook& rb, const Catalog& catalog, const StepTypeRegistry& types,
                       Diagnostics& diags) {
  // Nested calls resolve from the root's view; good enough for siblings.
  Catalog search = CallCatalog(catalog, rb.spec.source_path);
  CallChecker checker(search, types);
  for (const auto& c : CallsOf(rb.spec)) {
    const std::string ctx = "step '" + c.step->id + "': ";
    std::vector<std::string> stack = {rb.spec.name};
    if (auto cycle = checker.FindCycle(c.target, stack)) {
      diags.Error(c.target_node->loc, ctx + "runbook cycle: " + *cycle);
      continue;
    }
    std::string why;
    const RunbookSpec* child = checker.Load(c.target, why);
    if (!child) {
      diags.Error(c.target_node->loc, ctx + why);
      continue;
    }
    const Node* params = c.step->fields.Find("params");
    if (!params || !params->IsMapping()) continue;
    for (size_t i = 0; i < params->keys.size(); ++i) {
      bool declared = false;
      for (const auto& p : child->params) declared |= p.name == params->keys[i];
      if (!declared)
        diags.Error(params->key_locs[i], ctx + "runbook '" + c.target + "' has no parameter '" + params->keys[i] + "'");
    }
  }
}

}  // namespace runbook
