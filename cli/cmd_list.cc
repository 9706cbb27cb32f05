// `runbook list`: the runbooks found on the search path.
#include <boost/json.hpp>
#include <iomanip>
#include <ostream>

#include "cli/cli.h"
#include "engine/json_text.h"
#include "engine/loader.h"

namespace runbook::cli {
namespace {

int RunList(CliEnv& env) {
  auto files = env.catalog().List();
  boost::json::array rows;
  for (const auto& f : files) {
    Diagnostics diags;
    auto spec = LoadRunbookFile(f.path, env.types, diags);
    boost::json::object row;
    row["name"] = spec ? spec->name : f.name;
    row["file"] = f.path;
    row["category"] = spec ? spec->category : "";
    row["title"] = spec ? spec->title : "";
    boost::json::array sched;
    if (spec)
      for (const auto& s : spec->schedule) sched.push_back(boost::json::string(s.cron + (s.timezone.empty() ? "" : " " + s.timezone)));
    row["schedule"] = sched;
    row["valid"] = !diags.has_errors();
    rows.push_back(row);
  }
  if (env.globals.json) {
    env.out << JsonText(rows) << "\n";
    return kExitOk;
  }
  if (rows.empty()) {
    std::string where;
    for (const auto& d : env.catalog().dirs()) where += (where.empty() ? "" : ":") + d;
    env.err << "no runbooks found in " << where << " (set --runbooks or RUNBOOK_PATH)\n";
    return kExitOk;
  }
  env.out << std::left << std::setw(28) << "NAME" << std::setw(10) << "CATEGORY" << std::setw(22) << "SCHEDULE"
          << "TITLE\n";
  for (const auto& v : rows) {
    const auto& r = v.as_object();
    std::string sched;
    for (const auto& s : r.at("schedule").as_array()) sched += (sched.empty() ? "" : "; ") + std::string(s.as_string());
    std::string title(r.at("title").as_string());
    if (!r.at("valid").as_bool()) title += " (invalid: run 'runbook validate " + std::string(r.at("name").as_string()) + "')";
    env.out << std::left << std::setw(28) << std::string(r.at("name").as_string()) << std::setw(10)
            << std::string(r.at("category").as_string()) << std::setw(22) << (sched.empty() ? "-" : sched) << title
            << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterList(CLI::App& app, CliEnv& env) {
  auto* cmd = app.add_subcommand("list", "List the runbooks found: name, category, schedule, title");
  cmd->callback([&env] { env.exit_code = RunList(env); });
}

}  // namespace runbook::cli
