// The runbook binary: wires the real implementations into the CLI.
#include <iostream>

#include "cli/cli.h"
#include "steps/registry.h"

int main(int argc, char** argv) {
  runbook::cli::CliEnv env(std::cout, std::cerr, runbook::steps::BuiltinStepTypes(), RUNBOOK_SHARE_DIR);
  return runbook::cli::RunCli(argc, argv, env);
}
