#include "sched/child.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace runbook::sched {

namespace {

std::vector<std::string> BaseArgv(const ChildBase& base, bool json) {
  std::vector<std::string> argv = {base.binary, "--journal", base.journal, "--runbooks", base.runbooks};
  if (!base.site.empty()) {
    argv.push_back("--site");
    argv.push_back(base.site);
  }
  if (json) argv.push_back("--json");
  return argv;
}

std::string StringField(const boost::json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return "";
  return std::string(it->value().get_string());
}

}  // namespace

std::vector<std::string> RunArgv(const ChildBase& base, const ScheduledTrigger& t, bool json) {
  std::vector<std::string> argv = BaseArgv(base, json);
  argv.push_back("run");
  argv.push_back(t.invoke_as);
  argv.push_back("--trigger");
  argv.push_back("cron");
  for (const auto& [k, v] : t.params) {
    argv.push_back("-p");
    argv.push_back(k + "=" + v);
  }
  return argv;
}

std::vector<std::string> ResumeArgv(const ChildBase& base, const std::string& run_id) {
  std::vector<std::string> argv = BaseArgv(base, true);
  argv.push_back("resume");
  argv.push_back(run_id);
  return argv;
}

ChildReport InterpretChild(std::string_view out) {
  ChildReport report;
  // The last non-empty line.
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.remove_suffix(1);
  size_t nl = out.rfind('\n');
  std::string_view line = nl == std::string_view::npos ? out : out.substr(nl + 1);
  if (line.empty() || line.front() != '{') return report;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return report;
  const auto& o = v.get_object();
  report.run_id = StringField(o, "run_id");
  report.status = StringField(o, "status");
  report.error = StringField(o, "error");
  report.skipped = report.status == "skipped";
  return report;
}

}  // namespace runbook::sched
