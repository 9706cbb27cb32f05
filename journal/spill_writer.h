// The writer thread's side of spill files (journal/spill.h): decides which
// output chunks go to a file, appends their bytes, and hands back the small
// output_chunks rows that say where the bytes are. Owned by WriteStatements;
// lives on the journal's writer thread only.
//
// Within a transaction, consecutive chunks of one stream are merged into one
// row of up to kMaxSpillRowBytes, whose bytes are written with one pwritev
// when the row is complete (at the latest before COMMIT), so that a 200 MB
// stream read in 3 KB pieces costs a few hundred rows and writes, not tens of
// thousands. A stream's rows are numbered on from the seq of its first
// spilled chunk, so seq stays consecutive within the stream.
//
// Durability: FinishAttempt fdatasyncs an attempt's files (and their
// directory) before the record that ends the attempt is applied, so a
// committed final record never points at bytes a power loss can take.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/status.h"
#include "journal/records.h"

namespace runbook::journal {

// One output_chunks row of spilled bytes.
struct SpillRow {
  std::string run_id;
  std::string step_id;
  int attempt = 1;
  Stream stream = Stream::kStdout;
  int64_t seq = 0;
  int64_t ts_us = 0;
  int64_t byte_offset = 0;  // within the stream
  std::string spill;        // "RUN_ID/FILE"
  int64_t spill_offset = 0; // within the file
  int64_t spill_bytes = 0;
};

class SpillWriter {
 public:
  using Insert = std::function<Status(const SpillRow&)>;

  // Disabled until Enable(): nothing spills.
  SpillWriter() = default;
  // Closes the files (without syncing: CloseAll syncs).
  ~SpillWriter();
  SpillWriter(SpillWriter&& other) noexcept;
  SpillWriter& operator=(SpillWriter&& other) noexcept;
  SpillWriter(const SpillWriter&) = delete;
  SpillWriter& operator=(const SpillWriter&) = delete;

  // Streams whose output ends past `threshold` bytes spill into files beside
  // `journal_path`; a negative threshold disables spilling.
  void Enable(std::string journal_path, int64_t threshold);

  // Whether `c` goes to a spill file: its stream spills already, or it ends
  // past the threshold (and the run and step ids are usable in a file name).
  bool Wants(const OutputChunk& c) const;
  // Adds `c` to the pending row (opening the stream's file on its first
  // chunk); a pending row that `c` does not continue is written and inserted
  // first. REQUIRES: Wants(c). c.data must stay alive until the next Flush,
  // FinishAttempt or DropPending (it is written from where it is).
  Status Add(const OutputChunk& c, const Insert& insert);
  // Writes the pending row's bytes and inserts the row.
  Status Flush(const Insert& insert);
  // Flush, then fdatasync and close the attempt's files (both streams).
  Status FinishAttempt(std::string_view run_id, std::string_view step_id, int attempt, const Insert& insert);
  // Forgets the pending row (after a rollback: its chunks are gone).
  void DropPending();
  // fdatasyncs and closes every open file (Journal::Close).
  Status CloseAll();

 private:
  struct File {
    std::string name;       // "RUN_ID/FILE"
    std::string path;       // for messages
    int fd = -1;
    int dir_fd = -1;        // the run's directory, fsynced with the file
    int64_t size = 0;       // bytes written so far
    int64_t next_seq = 0;   // of the stream's next row
    int64_t writeback_from = 0;  // bytes before this already handed to writeback
  };
  using Key = std::tuple<std::string, std::string, int, int>;  // run, step, attempt, stream
  struct Pending {
    File* file = nullptr;
    SpillRow row;
    std::vector<iovec> iov;
  };

  Result<File*> OpenFile(const OutputChunk& c);
  Status OpenBlobsDir();
  Status SyncAndClose(File& f);
  void CloseFds();

  std::string journal_path_, dir_;
  int64_t threshold_ = -1;
  int blobs_fd_ = -1;
  std::map<Key, File> files_;
  std::optional<Pending> pending_;
};

}  // namespace runbook::journal
