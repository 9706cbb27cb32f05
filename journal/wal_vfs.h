// A SQLite VFS that writes each transaction's write-ahead-log frames with one
// system call instead of two per page.
//
// SQLite appends a WAL frame as two writes, its 24-byte header and then the
// page, so a journal commit of seven pages costs fourteen pwrite calls; on
// the engine's critical path (a step's `running` record is committed before
// its process starts) those were a tenth of the engine's CPU time
// (docs/performance.md). This VFS wraps the default one; for a WAL file it
// collects contiguous writes in a buffer and writes them at once:
//
//   - when a transaction's commit frame has been written (its header's
//     "database size after commit" field is not zero: the WAL file format),
//     so the frames are in the file before SQLite publishes them in the
//     WAL index, and a failed write fails the commit;
//   - before any other operation on the file (read, sync, truncate, size,
//     file control, lock, close) and before a write that does not continue
//     the buffered bytes or would overflow the buffer.
//
// Nothing else changes: every other file (the database, its shared-memory
// index) is the default VFS's own object, and what reaches the WAL file, in
// which order, is what SQLite wrote. A process that dies with bytes in the
// buffer had not committed them, exactly as if it had died between SQLite's
// writes.
#pragma once

struct sqlite3_vfs;

namespace runbook::journal::sqlite {

// The registered VFS's name, for sqlite3_open_v2. Registers it on the first
// call (thread-safe); nullptr when registration failed, which leaves SQLite's
// default VFS in use.
const char* CoalescingWalVfsName();

// Registers the same VFS over `base` under `name` (a string that outlives the
// process's use of SQLite) and returns `name`, or nullptr. For tests, which
// put a recording VFS underneath.
const char* RegisterCoalescingWalVfs(sqlite3_vfs* base, const char* name);

}  // namespace runbook::journal::sqlite
