// Shared plumbing of the `runbook` subcommands: global options, the output
// streams, the step-type registry, and loading a runbook by name. Each
// subcommand lives in its own cli/cmd_*.cc and registers itself on the
// CLI11 app through one Register* function; main.cc only wires them.
// Single-threaded; one CliEnv per process (or per test).
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>

#include "engine/catalog.h"
#include "engine/compiler.h"
#include "engine/diagnostics.h"
#include "engine/step_type.h"
#include "journal/journal.h"

namespace runbook::cli {

// Exit codes (SPEC.md §2).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitWaiting = 3;

struct Globals {
  std::string journal;   // --journal / RUNBOOK_JOURNAL
  std::string runbooks;  // --runbooks / RUNBOOK_PATH
  std::string site;      // --site / RUNBOOK_SITE
  bool json = false;
  bool verbose = false;
  bool no_color = false;
};

class CliEnv {
 public:
  CliEnv(std::ostream& out, std::ostream& err, const StepTypeRegistry& types, std::string share_dir)
      : out(out), err(err), types(types), share_dir(std::move(share_dir)) {}

  std::ostream& out;
  std::ostream& err;
  const StepTypeRegistry& types;
  std::string share_dir;
  Globals globals;
  int exit_code = kExitOk;

  Catalog catalog() const { return Catalog::FromEnvironment(globals.runbooks, share_dir); }
  // Colour on a terminal unless --no-color or NO_COLOR.
  bool color() const;
  // "runbook: error: <message>" on err.
  void Error(const std::string& message) const;
  void PrintDiagnostics(const Diagnostics& diags) const;

  // Resolves NAME (or a file), loads and compiles it; prints diagnostics and
  // returns nullopt on any error.
  std::optional<CompiledRunbook> LoadCompiled(const std::string& name_or_path);

  // Parameter values for `spec` from the site profile (--site, RUNBOOK_SITE,
  // or /etc/runbook/site.yaml when it exists), --param-file and -p k=v.
  // Prints every problem and returns nullopt if there was any.
  // Opens the journal (--journal, RUNBOOK_JOURNAL or the default path);
  // prints the error and returns null when it cannot.
  std::unique_ptr<journal::Journal> OpenJournal();

  // `given` (e.g. a `runbook` step's params) stands in for --param-file.
  std::optional<boost::json::object> ResolveParams(const RunbookSpec& spec, const std::vector<std::string>& assignments,
                                                   const std::string& param_file, const Node* given = nullptr);
};

void RegisterList(CLI::App& app, CliEnv& env);
void RegisterValidate(CLI::App& app, CliEnv& env);
void RegisterPlan(CLI::App& app, CliEnv& env);
void RegisterGraph(CLI::App& app, CliEnv& env);
void RegisterCron(CLI::App& app, CliEnv& env);
void RegisterRun(CLI::App& app, CliEnv& env);
void RegisterHistory(CLI::App& app, CliEnv& env);  // runs, show, logs
void RegisterOperator(CLI::App& app, CliEnv& env);  // approve, resume, cancel, note
void RegisterJournal(CLI::App& app, CliEnv& env);   // journal verify|prune (+ export below)
// Adds `export` under the `journal` subcommand.
void RegisterJournalExport(CLI::App& journal_cmd, CliEnv& env);
void RegisterStats(CLI::App& app, CliEnv& env);
void RegisterSchedule(CLI::App& app, CliEnv& env);  // the scheduler daemon

// "2h", "7d", "30m" before now, or an ISO-8601 date/time (UTC unless it has
// an offset) -> microseconds since the epoch.
Result<int64_t> ParseTimeArg(const std::string& text);

// Builds the command line on `app`: the global options and every
// subcommand, or, when `args` (argv without the program name) name any
// subcommand, only the subcommands named there (building all of them is a
// fifth of a one-step run's own instructions; a subcommand's options and help
// are the same either way). Exposed for tests.
void BuildApp(CLI::App& app, CliEnv& env, std::span<char* const> args = {});
// Parses argv and runs the chosen subcommand; returns the exit code.
int RunCli(int argc, char** argv, CliEnv& env);

}  // namespace runbook::cli
