// libFuzzer target for the runbook loader and compiler (engine/loader.h,
// engine/compiler.h) with the built-in step types (steps/registry.h).
//
// Loads the input as a runbook file, compiles whatever the loader returns,
// and checks what must hold for any input: every diagnostic has a message; a
// compiled runbook came with no errors, and each block's order lists each of
// its steps exactly once, after every step it needs. Must never crash, hit
// undefined behaviour, leak, or loop without bound.
//
//   tests/fuzz/smoke.sh build-fuzz 60      (or by hand:)
//   mkdir work && build-fuzz/tests/fuzz/loader_fuzz -max_total_time=60 \
//       -max_len=65536 -dict=tests/fuzz/loader.dict work tests/fuzz/corpus/loader
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "engine/compiler.h"
#include "engine/loader.h"
#include "steps/registry.h"

namespace {

void CheckOrder(const runbook::CompiledRunbook& rb, runbook::Block b) {
  std::vector<int> position(rb.steps.size(), -1);
  const std::vector<int>& order = rb.Order(b);
  for (size_t i = 0; i < order.size(); ++i) {
    int s = order[i];
    if (s < 0 || static_cast<size_t>(s) >= rb.steps.size()) std::abort();
    if (rb.steps[s].block != b || position[s] >= 0) std::abort();
    position[s] = static_cast<int>(i);
  }
  for (const auto& st : rb.steps) {
    if (st.block != b) continue;
    if (position[st.index] < 0) std::abort();  // left out of the order
    for (int n : st.needs)
      if (position[n] < 0 || position[n] >= position[st.index]) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const runbook::StepTypeRegistry& types = runbook::steps::BuiltinStepTypes();
  std::string_view text(reinterpret_cast<const char*>(data), size);

  runbook::Diagnostics diags;
  auto spec = runbook::LoadRunbookText(text, "fuzz.yaml", types, diags);
  if (!spec) {
    if (!diags.has_errors()) std::abort();  // no spec and no reason
  } else {
    auto compiled = runbook::Compile(std::move(*spec), types, diags);
    if (compiled) {
      if (diags.has_errors()) std::abort();
      for (auto b : {runbook::Block::kMain, runbook::Block::kOnFailure, runbook::Block::kFinally})
        CheckOrder(*compiled, b);
      if (compiled->ExecutionOrder().size() != compiled->steps.size()) std::abort();
      for (const auto& st : compiled->steps)
        if (compiled->Find(st.id()) != st.index) std::abort();
    } else if (!diags.has_errors()) {
      std::abort();  // refused without saying why
    }
  }
  for (const auto& d : diags.all())
    if (d.message.empty()) std::abort();
  diags.SortByLocation();
  (void)diags.FormatAll();
  return 0;
}
