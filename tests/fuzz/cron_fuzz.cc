// libFuzzer target for cron expressions (engine/cron.h).
//
// Parses the input as a cron expression; when it parses, computes a few next
// fire times in zones with and without DST (from instants just before a
// spring-forward and a fall-back), checks that they strictly increase, and
// renders them and the systemd OnCalendar lines. Must never crash, hit
// undefined behaviour, loop without bound, or return a fire not after its
// start.
//
//   build-fuzz/tests/fuzz/cron_fuzz -max_total_time=60 tests/fuzz/corpus/cron
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/cron.h"

namespace {

using std::chrono::sys_seconds;

const date::time_zone* Zone(std::string_view name) {
  auto z = runbook::cron::LocateZone(name);
  if (!z.ok()) std::abort();
  return *z;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const date::time_zone* const kZones[] = {Zone("UTC"), Zone("Europe/Berlin"),
                                                  Zone("Australia/Lord_Howe"), Zone("America/Santiago")};
  // 2026-03-28T23:00:00Z (the night Berlin springs forward), 2026-10-25T00:00:00Z
  // (the night it falls back), 2026-04-04T14:00:00Z (Lord Howe falls back).
  static const sys_seconds kStarts[] = {sys_seconds{std::chrono::seconds{1774738800}},
                                        sys_seconds{std::chrono::seconds{1792886400}},
                                        sys_seconds{std::chrono::seconds{1775311200}}};
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto e = runbook::cron::ParseCron(text);
  if (!e.ok()) {
    if (e.status().message().empty()) std::abort();
    return 0;
  }
  (void)runbook::cron::ToOnCalendar(*e, "Europe/Berlin");
  for (const date::time_zone* tz : kZones) {
    for (sys_seconds start : kStarts) {
      sys_seconds after = start;
      for (sys_seconds t : runbook::cron::NextFires(*e, tz, after, 4)) {
        if (t <= after) std::abort();
        (void)runbook::cron::FormatIso(t, tz);
        after = t;
      }
    }
  }
  return 0;
}
