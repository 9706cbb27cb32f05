// The runbook binary: wires the real implementations into the CLI.
#include <csignal>
#include <iostream>

#include "cli/cli.h"
#include "steps/registry.h"

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a journal write must fail as an error
  // the engine reports, not kill it with SIGXFSZ mid-run. Steps get default
  // signal dispositions back from the process launcher.
  std::signal(SIGXFSZ, SIG_IGN);
  runbook::cli::CliEnv env(std::cout, std::cerr, runbook::steps::BuiltinStepTypes(), RUNBOOK_SHARE_DIR);
  return runbook::cli::RunCli(argc, argv, env);
}
