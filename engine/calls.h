// Checks of `runbook` steps that need the other runbooks (SPEC.md §3): the
// called runbook exists in the catalog and loads, the parameters a step
// passes are declared by it, and no chain of calls comes back to a runbook
// already on it (a cycle would start child runs forever). Run after
// Compile() by everything that loads a runbook to run or validate it.
//
// A called name is looked up first in the directory of the calling file,
// then in the catalog (CallCatalog).
#pragma once

#include "engine/catalog.h"
#include "engine/compiler.h"
#include "engine/diagnostics.h"
#include "engine/step_type.h"

namespace runbook {

// The catalog a runbook at `caller_path` resolves called names in.
Catalog CallCatalog(const Catalog& catalog, const std::string& caller_path);

void CheckRunbookCalls(const CompiledRunbook& rb, const Catalog& catalog, const StepTypeRegistry& types,
                       Diagnostics& diags);

}  // namespace runbook
