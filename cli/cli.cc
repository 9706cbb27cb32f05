#include "cli/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "engine/calls.h"
#include "engine/loader.h"
#include "engine/params.h"
#include "journal/path.h"

#include <ctime>

#include <filesystem>

namespace runbook::cli {

bool CliEnv::color() const {
  if (globals.no_color) return false;
  if (const char* nc = std::getenv("NO_COLOR"); nc && *nc) return false;
  return &err == &std::cerr && isatty(STDERR_FILENO);
}

void CliEnv::Error(const std::string& message) const {
  err << (color() ? "runbook: \033[1;31merror:\033[0m " : "runbook: error: ") << message << "\n";
}

void CliEnv::PrintDiagnostics(const Diagnostics& diags) const {
  for (const auto& d : diags.all()) {
    if (color()) {
      const char* c = d.severity == Severity::kError ? "\033[1;31merror:\033[0m " : "\033[1;33mwarning:\033[0m ";
      err << "\033[1m" << d.loc.ToString() << ":\033[0m " << c << d.message << "\n";
    } else {
      err << d.Format() << "\n";
    }
  }
}

std::optional<CompiledRunbook> CliEnv::LoadCompiled(const std::string& name_or_path) {
  auto path = catalog().Resolve(name_or_path);
  if (!path.ok()) {
    Error(path.status().message());
    return std::nullopt;
  }
  Diagnostics diags;
  auto spec = LoadRunbookFile(*path, types, diags);
  std::optional<CompiledRunbook> compiled;
  if (spec) compiled = Compile(std::move(*spec), types, diags);
  if (compiled) CheckRunbookCalls(*compiled, catalog(), types, diags);
  diags.SortByLocation();
  PrintDiagnostics(diags);
  if (diags.has_errors()) return std::nullopt;
  return compiled;
}

std::optional<boost::json::object> CliEnv::ResolveParams(const RunbookSpec& spec,
                                                        const std::vector<std::string>& assignments,
                                                        const std::string& param_file, const Node* given) {
  Diagnostics diags;
  ParamSources sources;
  std::optional<Node> site, file;
  std::string site_path = globals.site;
  std::error_code ec;
  if (site_path.empty() && std::filesystem::exists("/etc/runbook/site.yaml", ec)) site_path = "/etc/runbook/site.yaml";
  if (!site_path.empty()) {
    site = ReadParamFile(site_path, diags);
    if (site) sources.site = &*site;
  }
  if (!param_file.empty()) {
    file = ReadParamFile(param_file, diags);
    if (file) sources.param_file = &*file;
  }
  if (given) sources.param_file = given;
  for (const auto& a : assignments) {
    std::string k, v;
    if (!SplitAssignment(a, k, v)) {
      diags.Error(SourceLoc{std::make_shared<const std::string>("-p"), 0, 0},
                  "expected KEY=VALUE, got '" + a + "'");
      continue;
    }
    sources.cli.emplace_back(k, v);
  }
  boost::json::object values = runbook::ResolveParams(spec, sources, diags);
  PrintDiagnostics(diags);
  if (diags.has_errors()) return std::nullopt;
  return values;
}

std::unique_ptr<journal::Journal> CliEnv::OpenJournal() {
  std::string path = globals.journal.empty() ? journal::DefaultJournalPath() : globals.journal;
  auto j = journal::Journal::Open(path);
  if (!j.ok()) {
    Error(j.status().message());
    return nullptr;
  }
  for (const auto& id : (*j)->interrupted_on_open())
    err << "runbook: note: run " << id << " was left running by a process that is gone; marked interrupted\n";
  return std::move(j.value());
}

Result<int64_t> ParseTimeArg(const std::string& text) {
  using namespace std::chrono;
  if (auto d = ParseDuration(text); d && !text.empty() && !isdigit(static_cast<unsigned char>(text.back()))) {
    return duration_cast<microseconds>(system_clock::now().time_since_epoch() - *d).count();
  }
  int y, mo, da, h = 0, mi = 0, se = 0;
  char tail[16] = {0};
  int n = sscanf(text.c_str(), "%4d-%2d-%2d%*[T ]%2d:%2d:%2d%15s", &y, &mo, &da, &h, &mi, &se, tail);
  if (n < 3 || n == 4 || n == 5) {
    n = sscanf(text.c_str(), "%4d-%2d-%2d%*[T ]%2d:%2d%15s", &y, &mo, &da, &h, &mi, tail);
    if (n != 5 && n != 6 && n != 3) return Status::InvalidArgument("invalid time '" + text + "' (use e.g. 2h, 7d, 2026-11-29 or 2026-11-29T08:00:00Z)");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = da;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  int64_t secs = timegm(&tm);
  std::string t(tail);
  if (!t.empty() && t != "Z") {
    int oh = 0, om = 0;
    char sign = t[0];
    if ((sign != '+' && sign != '-') || sscanf(t.c_str() + 1, "%2d:%2d", &oh, &om) < 1)
      return Status::InvalidArgument("invalid time '" + text + "'");
    int64_t off = oh * 3600 + om * 60;
    secs += sign == '+' ? -off : off;
  }
  return secs * 1000000;
}

void BuildApp(CLI::App& app, CliEnv& env, std::span<char* const> args) {
  app.description("runbook — run operational procedures written as YAML, and keep the evidence.");
  app.require_subcommand(1);
  app.fallthrough();
  Globals& g = env.globals;
  app.add_option("--journal", g.journal, "Journal file (default $XDG_STATE_HOME/runbook/journal.db)")
      ->envname("RUNBOOK_JOURNAL");
  app.add_option("--runbooks", g.runbooks, "Runbook directories, colon-separated (default ./runbooks)")
      ->envname("RUNBOOK_PATH");
  app.add_option("--site", g.site, "Site profile: shared parameter values (default /etc/runbook/site.yaml)")
      ->envname("RUNBOOK_SITE");
  app.add_flag("--json", g.json, "Machine-readable output");
  app.add_flag("-v,--verbose", g.verbose, "Debug diagnostics of the engine on stderr");
  app.add_flag("--no-color", g.no_color, "No colours (also when NO_COLOR is set)");
  app.set_version_flag("--version", std::string("runbook ") + RUNBOOK_VERSION);
  // In the order of `runbook --help`; each with the subcommands it adds.
  struct Command {
    std::initializer_list<std::string_view> names;
    void (*add)(CLI::App&, CliEnv&);
  };
  static const Command kCommands[] = {
      {{"list"}, RegisterList},
      {{"validate"}, RegisterValidate},
      {{"plan"}, RegisterPlan},
      {{"graph"}, RegisterGraph},
      {{"cron"}, RegisterCron},
      {{"run"}, RegisterRun},
      {{"runs", "show", "logs"}, RegisterHistory},
      {{"approve", "resume", "cancel", "note"}, RegisterOperator},
      {{"journal"}, RegisterJournal},
      {{"stats"}, RegisterStats},
      {{"schedule"}, RegisterSchedule},
  };
  // Any argument equal to a name counts (it may also be an option's value:
  // building one command too many changes nothing).
  auto named = [&args](const Command& c) {
    for (const char* a : args)
      for (std::string_view n : c.names)
        if (a != nullptr && n == a) return true;
    return false;
  };
  // Help lists every command, wherever the flag is.
  bool any = false, help = false;
  for (const char* a : args) {
    std::string_view arg = a != nullptr ? a : "";
    help = help || arg == "-h" || arg == "--help" || arg == "--help-all";
  }
  for (const Command& c : kCommands) any = any || (!help && named(c));
  for (const Command& c : kCommands)
    if (!any || named(c)) c.add(app, env);
}

int RunCli(int argc, char** argv, CliEnv& env) {
  CLI::App app{"runbook", "runbook"};
  BuildApp(app, env, std::span<char* const>(argv + (argc > 0 ? 1 : 0), argc > 0 ? argc - 1 : 0));
  // The engine's own diagnostics go to stderr through spdlog, never into
  // step output; -v shows debug detail.
  app.parse_complete_callback([&env] {
    static auto logger = spdlog::stderr_color_mt("runbook");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ runbook %^%l%$: %v", spdlog::pattern_time_type::utc);
    spdlog::set_level(env.globals.verbose ? spdlog::level::debug : spdlog::level::warn);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e, env.out, env.err);
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e, env.out, env.err);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    app.exit(e, env.out, env.err);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    env.Error(e.what());
    env.err << "Run 'runbook --help' or 'runbook COMMAND --help' for usage.\n";
    return kExitUsage;
  }
  return env.exit_code;
}

}  // namespace runbook::cli
