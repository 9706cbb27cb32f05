#include "engine/values.h"

#include <date/date.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace runbook {

namespace {
Status Unknown(bool plan_mode, const std::string& what) {
  if (plan_mode) return Status::FailedPrecondition(what + " is known only at run time");
  return Status::NotFound(what + " has no value");
}

Result<boost::json::value> Walk(boost::json::value v, const std::vector<std::string>& path, size_t from) {
  for (size_t i = from; i < path.size(); ++i) {
    const auto* o = v.if_object();
    if (!o) return boost::json::value(nullptr);
    auto it = o->find(path[i]);
    if (it == o->end()) return boost::json::value(nullptr);
    boost::json::value next = it->value();
    v = std::move(next);
  }
  return v;
}
}  // namespace

Result<boost::json::value> ValueContext::Lookup(const std::vector<std::string>& path) const {
  const std::string& root = path[0];
  if (root == "params") {
    if (path.size() == 1) return boost::json::value(params);
    auto it = params.find(path[1]);
    if (it == params.end()) return boost::json::value(nullptr);
    return Walk(it->value(), path, 2);
  }
  if (root == "env") {
    if (path.size() == 1) {
      boost::json::object o;
      for (const auto& [k, v] : env) o[k] = v;
      if (step_env)
        for (const auto& [k, v] : *step_env) o[k] = v;
      return boost::json::value(std::move(o));
    }
    if (step_env) {
      auto it = step_env->find(path[1]);
      if (it != step_env->end()) return boost::json::value(boost::json::string(it->second));
    }
    auto it = env.find(path[1]);
    if (it == env.end()) return boost::json::value(nullptr);
    return boost::json::value(boost::json::string(it->second));
  }
  if (root == "secrets") {
    if (path.size() < 2) return Status::InvalidArgument("'secrets' must be followed by a secret name");
    auto it = secrets.find(path[1]);
    if (it == secrets.end()) {
      auto why = missing_secrets.find(path[1]);
      // Not NotFound: a missing secret must fail the step, not read as null.
      return Status::FailedPrecondition("secret '" + path[1] + "' is not available: " +
                                        (why == missing_secrets.end() ? "no value" : why->second));
    }
    return boost::json::value(boost::json::string(it->second));
  }
  if (root == "run") {
    if (run.empty()) return Unknown(plan_mode, "'run." + (path.size() > 1 ? path[1] : std::string()) + "'");
    return Walk(boost::json::value(run), path, 1);
  }
  if (root == "now") {
    if (!now) return Unknown(plan_mode, "'now'");
    return boost::json::value(boost::json::string(now()));
  }
  if (root == "steps") {
    if (path.size() < 2) return Status::InvalidArgument("'steps' must be followed by a step id");
    auto it = steps.find(path[1]);
    if (it == steps.end()) return Unknown(plan_mode, "the result of step '" + path[1] + "'");
    const StepResultValues& s = it->second;
    boost::json::object o;
    o["status"] = s.status;
    if (s.exit_code) o["exit_code"] = *s.exit_code;
    else o["exit_code"] = nullptr;
    o["error"] = s.error;
    o["outputs"] = s.outputs;
    return Walk(boost::json::value(std::move(o)), path, 2);
  }
  return Status::NotFound("unknown name '" + root + "'");
}

Result<bool> ValueContext::StatusFunction(std::string_view name) const {
  if (!status_function) return Unknown(true, std::string(name) + "()");
  return status_function(name);
}

std::string IsoUtc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  return IsoUtcMicros(duration_cast<microseconds>(t.time_since_epoch()).count());
}

std::string IsoUtcMicros(int64_t us) {
  // Floor division: a time before 1970 still prints its own second.
  int64_t ms = us / 1000 - (us % 1000 < 0 ? 1 : 0);
  // The civil calendar by arithmetic (date.h), not gmtime_r: glibc's reads
  // and parses /etc/localtime on its first call, even for UTC.
  const date::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds(ms)};
  const date::sys_days day = date::floor<date::days>(t);
  const date::year_month_day ymd(day);
  const date::hh_mm_ss<std::chrono::milliseconds> hms(t - day);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
           static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
           static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
           static_cast<int>(hms.subseconds().count()));
  return buf;
}

}  // namespace runbook
