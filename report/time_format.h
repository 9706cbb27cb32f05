// How the export writes instants: ISO-8601 in UTC ("2026-11-29T07:31:45.964Z")
// by default, or in an IANA zone given with --tz
// ("2026-11-29T08:31:45.964+01:00"). Owned by the report module; a
// TimeRenderer is an immutable value, usable from any thread. <date/tz.h>
// stays in the .cc file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/status.h"

namespace runbook::report {

enum class TimePrecision { kMillis, kMicros };

class TimeRenderer {
 public:
  // UTC.
  TimeRenderer() = default;
  // "" or "UTC" for UTC, else an IANA zone name ("Europe/Berlin").
  // Error: "unknown time zone 'X' (use an IANA name such as Europe/Berlin, or UTC)".
  static Result<TimeRenderer> ForZone(const std::string& name);

  // "UTC" or the zone's name.
  const std::string& zone_name() const { return name_; }
  bool is_utc() const { return zone_ == nullptr; }

  // `us`: microseconds since the Unix epoch.
  std::string Format(int64_t us, TimePrecision precision = TimePrecision::kMillis) const;
  // Format, or `none` when absent.
  std::string Format(std::optional<int64_t> us, const std::string& none,
                     TimePrecision precision = TimePrecision::kMillis) const;
  // Only the time of day with the offset or Z ("08:31:45+01:00"): axis labels.
  std::string TimeOfDay(int64_t us) const;

 private:
  std::string name_ = "UTC";
  const void* zone_ = nullptr;  // const date::time_zone*; null = UTC
};

// Compact human duration between two instants: "250ms", "4.2s", "5m 3s",
// "1h 30m", "2d 3h". Negative spans read as "0ms".
std::string FormatSpan(int64_t from_us, int64_t to_us);

}  // namespace runbook::report
