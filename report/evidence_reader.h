// EvidenceReader: the export's streaming reads of a journal, on its own
// read-only connection (query_only), for what the Journal read API returns
// only whole: the events of many runs merged into one timeline in time
// order, and one stream of one attempt's output chunk by chunk. Each call is
// one SQLite statement stepped row by row, so an incident of 100,000 events
// or gigabytes of output is never held in memory. Owned by the report
// module; one thread at a time (like the sqlite::Db it owns).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "journal/records.h"
#include "journal/sqlite.h"

namespace runbook::report {

struct EventStats {
  int64_t count = 0;
  std::optional<int64_t> first_ts_us;
  std::optional<int64_t> last_ts_us;
};

class EvidenceReader {
 public:
  // Opens `path`, which must be an existing journal (it is never created).
  static Result<std::unique_ptr<EvidenceReader>> Open(const std::string& path);

  // Calls `fn` for every event of `run_ids`, ordered by (ts, seq); `kinds`,
  // when not empty, keeps only those kinds. A non-ok Status from `fn` stops
  // the walk and is returned.
  Status ForEachEvent(const std::vector<std::string>& run_ids,
                      const std::function<Status(const journal::EventRecord&)>& fn,
                      const std::vector<std::string>& kinds = {});
  Result<EventStats> CountEvents(const std::vector<std::string>& run_ids);

  // Calls `fn` with the bytes of one stream of one attempt, in order, in
  // pieces of at most 1 MiB (inline chunks, or ranges of a spill file read
  // from beside the journal; a missing or short spill file is an error).
  Status ForEachChunk(const std::string& run_id, const std::string& step_id, int attempt, journal::Stream stream,
                      const std::function<Status(std::string_view data)>& fn);

 private:
  explicit EvidenceReader(std::unique_ptr<journal::sqlite::Db> db) : db_(std::move(db)) {}
  std::unique_ptr<journal::sqlite::Db> db_;
};

}  // namespace runbook::report
