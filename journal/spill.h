// Spill files: where large output goes. Once one stream of one attempt has
// more than a threshold of output (1 MiB by default), its further bytes are
// not stored in output_chunks but appended to a file beside the journal,
// JOURNAL.blobs/RUN_ID/STEP.ATTEMPT.STREAM (directories 0700, files 0600,
// never through a symbolic link), and output_chunks gets a small row per
// range: `spill` (the file's name relative to JOURNAL.blobs), `spill_offset`
// and `spill_bytes`, with an empty `data`. SQLite would write every byte
// twice (WAL, then checkpoint); a spill file is written once
// (docs/journal.md, "Spill files").
//
// This header is the read side every reader of output uses (logs, verify,
// export, resume), plus the file operations of prune; the writer thread's
// side is journal/spill_writer.h. Readers are values owned by one thread at
// a time; the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "journal/records.h"
#include "journal/sqlite.h"

namespace runbook::journal {

// OpenOptions' default: a stream spills once its output ends past this byte.
inline constexpr int64_t kDefaultSpillThreshold = 1 << 20;
// A spilled row covers at most this many bytes (the writer merges the
// consecutive chunks of one transaction into rows up to this size).
inline constexpr int64_t kMaxSpillRowBytes = 1 << 20;

// JOURNAL_PATH + ".blobs".
std::string SpillDirFor(std::string_view journal_path);

// Whether `text` may be one component of a spill file's name: 1 to 64 of
// [A-Za-z0-9_-], so it can never be "..", hold a '/' or start with '.'.
bool IsSafeSpillComponent(std::string_view text);

// Whether output_chunks has the spill columns (schema version 3 and later).
// Readers of files they do not migrate (verify, export) need to know.
Result<bool> HasSpillColumns(sqlite::Db& db);
// The three spill columns for a SELECT list, or three NULLs without them.
std::string_view SpillColumnsSql(bool present);

// Where one row's bytes are when they are not in `data`.
struct SpillRef {
  std::string name;      // "RUN_ID/FILE", relative to the spill directory
  int64_t offset = 0;    // of the first byte in the file
  int64_t bytes = 0;
};

// Reads ranges of a journal's spill files. Keeps the last file open, so
// reading a stream row by row opens its file once.
class SpillReader {
 public:
  explicit SpillReader(std::string_view journal_path);
  ~SpillReader();
  SpillReader(const SpillReader&) = delete;
  SpillReader& operator=(const SpillReader&) = delete;

  // Calls `fn` with the bytes of `ref` (a row of run `run_id`) in pieces of
  // at most `piece` bytes. Errors, each naming the file's full path:
  //   NotFound    "spill file PATH is missing"
  //   Corruption  "spill file PATH holds N bytes, but the journal refers to
  //               bytes A to B" (the file was truncated)
  //   Corruption  "output_chunks names 'X' as a spill file of run R, which
  //               it cannot be" (the row was edited)
  //   FailedPrecondition  "spill directory D is a symbolic link or not a
  //               directory", "spill file PATH is not a regular file"
  //   IoError     "cannot read spill file PATH: <strerror>"
  // A non-ok Status from `fn` stops the read and is returned.
  Status ForEachPiece(std::string_view run_id, const SpillRef& ref, size_t piece,
                      const std::function<Status(std::string_view)>& fn);
  // Appends the bytes of `ref` to *out (errors as above).
  Status Read(std::string_view run_id, const SpillRef& ref, std::string* out);
  // The current size of spill file `name` of run `run_id` (errors as above).
  Result<int64_t> FileSize(std::string_view run_id, std::string_view name);

  // dir/name: how messages show a spill file.
  std::string PathOf(std::string_view name) const { return dir_ + "/" + std::string(name); }

 private:
  Status Open(std::string_view run_id, std::string_view name);
  void CloseFile();

  std::string dir_;
  std::string open_name_;  // the file fd_ reads
  int fd_ = -1;
  int64_t size_ = 0;
};

// Calls `fn` with the bytes of one stream of one attempt from byte `from`
// on, in order, wherever they are stored (output_chunks or a spill file), in
// pieces of at most 1 MiB, until `limit` bytes were handed over (0 = all).
// Spilled ranges before `from` are not read. Stops at the first error (of
// SQLite, of a spill file or of `fn`) and returns it.
Status ReadStream(sqlite::Db& db, SpillReader& spills, std::string_view run_id, std::string_view step_id,
                  int attempt, Stream stream, size_t limit, const std::function<Status(std::string_view)>& fn,
                  int64_t from = 0);

// --- Prune ----------------------------------------------------------------------

// Copies the spill files `names` of run `run_id` from beside `from_journal`
// to beside `to_journal` (same relative names; directories created 0700,
// files 0600 through a temporary name, fsynced). A missing source file is not
// an error (its bytes are gone already): it is added to *warnings.
Status CopyRunSpillFiles(const std::string& from_journal, const std::string& to_journal, std::string_view run_id,
                         const std::vector<std::string>& names, std::vector<std::string>* warnings);

// The names of the run directories in JOURNAL.blobs (entries that may be a
// run id and are directories, not followed if links), sorted; none when the
// spill directory does not exist.
Result<std::vector<std::string>> ListRunSpillDirs(const std::string& journal_path);

// Deletes JOURNAL.blobs/RUN_ID with its files; *files counts them. A missing
// directory is fine (the run never spilled).
Status RemoveRunSpillDir(const std::string& journal_path, std::string_view run_id, int64_t* files);

}  // namespace runbook::journal
