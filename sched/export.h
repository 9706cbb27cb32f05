// `runbook cron export`: the scheduled runbooks as crontab lines or as
// systemd .service/.timer pairs, for teams that let the system's scheduler
// start the runs (docs/scheduling.md, "Exporting to cron or systemd"). Each
// job runs `runbook [globals] run NAME --trigger cron -p K=V...` directly;
// comments say where cron or systemd cannot do what `runbook schedule` does
// (catch-up, daylight saving in a zone other than the system's). Pure
// functions of the triggers, the command and `now` (which only decides
// whether a zone observes daylight saving).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sched/child.h"
#include "sched/planner.h"
#include "sched/triggers.h"

namespace runbook::sched {

struct ExportOptions {
  ChildBase command;  // binary (absolute), --journal, --runbooks, --site
  sys_seconds now;
};

struct UnitFile {
  std::string name;  // "runbook-daily-health-check.timer"
  std::string text;
};

// A whole crontab (header comment, then one block per trigger; triggers
// without a zone first, because CRON_TZ applies to every line after it).
std::string CrontabText(const std::vector<ScheduledTrigger>& triggers, const ExportOptions& options);
// For each trigger a .service and a .timer, in trigger order.
std::vector<UnitFile> SystemdUnits(const std::vector<ScheduledTrigger>& triggers, const ExportOptions& options);
// "runbook-NAME", or "runbook-NAME-K" (K 1-based) when the runbook has
// several triggers.
std::string UnitBaseName(const ScheduledTrigger& t);

// One word for /bin/sh: as is when it is only [A-Za-z0-9_@%+=:,./-], else in
// single quotes. (Crontab's own `%` escaping is applied by CrontabText.)
std::string ShellQuote(std::string_view word);
// One word of a systemd command line: `%` -> `%%`, `$` -> `$$`, and in
// double quotes with C escapes when it has blanks, quotes or backslashes.
std::string SystemdQuote(std::string_view word);

// Whether a fire time of `expr` (hour and minute) falls into a local time
// that a UTC-offset change of `tz` within a year after `now` skips or
// repeats: the triggers cron and systemd treat differently from us.
bool TouchesOffsetChange(const cron::CronExpr& expr, const date::time_zone* tz, sys_seconds now);

}  // namespace runbook::sched
