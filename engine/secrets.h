// Reading a runbook's declared secrets from the environment or from files.
// A secret file readable by anyone but its owner is refused (an error). A
// secret that is simply not there (variable unset, file missing) is not an
// error before the run: like GitHub Actions, the run starts, and a step that
// uses it fails with the reason (so a health check can still report what it
// can). Stateless.
#pragma once

#include <map>
#include <string>

#include "engine/diagnostics.h"
#include "engine/model.h"

namespace runbook {

struct ResolvedSecrets {
  std::map<std::string, std::string> values;   // name -> value
  std::map<std::string, std::string> missing;  // name -> why it has no value
};

// Refusals go to `diags` at the secret's declaration.
ResolvedSecrets ResolveSecrets(const RunbookSpec& spec, Diagnostics& diags);

}  // namespace runbook
