#include "report/time_format.h"

#include <date/tz.h>

#include <chrono>
#include <cstdio>

namespace runbook::report {

namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

const date::time_zone* Zone(const void* z) { return static_cast<const date::time_zone*>(z); }

template <class Duration>
std::string FormatIn(const void* zone, date::sys_time<Duration> t, const char* local_fmt, const char* utc_fmt) {
  if (zone == nullptr) return date::format(utc_fmt, t);
  return date::format(local_fmt, date::make_zoned(Zone(zone), t));
}

}  // namespace

Result<TimeRenderer> TimeRenderer::ForZone(const std::string& name) {
  TimeRenderer r;
  if (name.empty() || name == "UTC" || name == "Z") return r;
  try {
    r.zone_ = date::locate_zone(name);
    r.name_ = name;
  } catch (const std::exception&) {
    return Status::InvalidArgument("unknown time zone '" + name +
                                   "' (use an IANA name such as Europe/Berlin, or UTC)");
  }
  return r;
}

std::string TimeRenderer::Format(int64_t us, TimePrecision precision) const {
  date::sys_time<microseconds> t{microseconds(us)};
  if (precision == TimePrecision::kMicros) return FormatIn(zone_, t, "%FT%T%Ez", "%FT%TZ");
  return FormatIn(zone_, date::floor<milliseconds>(t), "%FT%T%Ez", "%FT%TZ");
}

std::string TimeRenderer::Format(std::optional<int64_t> us, const std::string& none, TimePrecision precision) const {
  return us ? Format(*us, precision) : none;
}

std::string TimeRenderer::TimeOfDay(int64_t us) const {
  date::sys_time<seconds> t = date::floor<seconds>(date::sys_time<microseconds>{microseconds(us)});
  return FormatIn(zone_, t, "%T%Ez", "%TZ");
}

std::string FormatSpan(int64_t from_us, int64_t to_us) {
  int64_t us = to_us - from_us;
  if (us < 0) us = 0;
  int64_t ms = us / 1000;
  char buf[64];
  if (ms < 1000) {
    snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3'600'000) {
    snprintf(buf, sizeof buf, "%lldm %llds", static_cast<long long>(ms / 60'000),
             static_cast<long long>(ms / 1000 % 60));
  } else if (ms < 86'400'000) {
    snprintf(buf, sizeof buf, "%lldh %lldm", static_cast<long long>(ms / 3'600'000),
             static_cast<long long>(ms / 60'000 % 60));
  } else {
    snprintf(buf, sizeof buf, "%lldd %lldh", static_cast<long long>(ms / 86'400'000),
             static_cast<long long>(ms / 3'600'000 % 24));
  }
  return buf;
}

}  // namespace runbook::report
