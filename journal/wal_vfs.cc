#include "journal/wal_vfs.h"

#include <sqlite3.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace runbook::journal::sqlite {

namespace {

constexpr const char* kVfsName = "runbook-coalescing-wal";

// A WAL frame header: 24 bytes; bytes 4..7 (big-endian) are the database's
// size in pages after a commit frame, zero in every other frame
// (https://www.sqlite.org/fileformat2.html#walformat).
constexpr int kFrameHeaderSize = 24;
// Enough for a commit of about 30 pages of 4 KiB; a bigger transaction is
// written in pieces of this size.
constexpr int kBufferSize = 128 * 1024;

sqlite3_vfs* Base(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// Our part of the file object SQLite allocates (szOsFile bytes): the wrapper,
// then the default VFS's own file object at kRealOffset.
struct WalFile {
  sqlite3_file base;         // base.pMethods = &kWalMethods
  sqlite3_file* real;        // the default VFS's file object, inside this allocation
  unsigned char* buffer;     // kBufferSize bytes, allocated on the first write
  sqlite3_int64 buffer_at;   // file offset of buffer[0]
  int buffered;              // bytes in the buffer
  bool commit_header;        // the last write was a commit frame's header
};
constexpr size_t kRealOffset = (sizeof(WalFile) + 15) / 16 * 16;

WalFile* Wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }

// Writes the buffered bytes. On failure they are dropped: SQLite fails the
// transaction, and frames it did not commit are never read.
int Flush(WalFile* w) {
  if (w->buffered == 0) return SQLITE_OK;
  const int n = w->buffered;
  w->buffered = 0;
  return w->real->pMethods->xWrite(w->real, w->buffer, n, w->buffer_at);
}

int WalClose(sqlite3_file* f) {
  WalFile* w = Wal(f);
  int flushed = Flush(w);
  int closed = w->real->pMethods->xClose(w->real);
  std::free(w->buffer);
  w->buffer = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int WalRead(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xRead(w->real, out, amount, offset);
}

int WalWrite(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  const bool completes_commit = w->commit_header;
  w->commit_header = false;
  if (amount == kFrameHeaderSize) {
    const auto* h = static_cast<const unsigned char*>(data);
    w->commit_header = (h[4] | h[5] | h[6] | h[7]) != 0;
  }
  if (w->buffered > 0 &&
      (offset != w->buffer_at + w->buffered || w->buffered + amount > kBufferSize)) {
    if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  }
  if (amount > kBufferSize) return w->real->pMethods->xWrite(w->real, data, amount, offset);
  if (w->buffer == nullptr) {
    w->buffer = static_cast<unsigned char*>(std::malloc(kBufferSize));
    if (w->buffer == nullptr) return w->real->pMethods->xWrite(w->real, data, amount, offset);
  }
  if (w->buffered == 0) w->buffer_at = offset;
  std::memcpy(w->buffer + w->buffered, data, static_cast<size_t>(amount));
  w->buffered += amount;
  // The commit frame's page: the transaction's last frame. Its bytes must be
  // in the file before SQLite makes the frames visible in the WAL index.
  if (completes_commit) return Flush(w);
  return SQLITE_OK;
}

int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xTruncate(w->real, size);
}

int WalSync(sqlite3_file* f, int flags) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xSync(w->real, flags);
}

int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileSize(w->real, size);
}

int WalLock(sqlite3_file* f, int level) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xLock(w->real, level);
}

int WalUnlock(sqlite3_file* f, int level) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xUnlock(w->real, level);
}

int WalCheckReservedLock(sqlite3_file* f, int* out) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xCheckReservedLock(w->real, out);
}

int WalFileControl(sqlite3_file* f, int op, void* arg) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileControl(w->real, op, arg);
}

int WalSectorSize(sqlite3_file* f) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xSectorSize(w->real);
}

int WalDeviceCharacteristics(sqlite3_file* f) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xDeviceCharacteristics(w->real);
}

// SQLite maps shared memory and pages of the database file, never of its
// WAL; these only forward, for completeness.
int WalShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xShmMap(w->real, region, size, extend, out);
}

int WalShmLock(sqlite3_file* f, int offset, int n, int flags) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xShmLock(w->real, offset, n, flags);
}

void WalShmBarrier(sqlite3_file* f) {
  WalFile* w = Wal(f);
  w->real->pMethods->xShmBarrier(w->real);
}

int WalShmUnmap(sqlite3_file* f, int delete_flag) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xShmUnmap(w->real, delete_flag);
}

int WalFetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFetch(w->real, offset, amount, out);
}

int WalUnfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xUnfetch(w->real, offset, p);
}

const sqlite3_io_methods kWalMethods = {
    3,
    WalClose,
    WalRead,
    WalWrite,
    WalTruncate,
    WalSync,
    WalFileSize,
    WalLock,
    WalUnlock,
    WalCheckReservedLock,
    WalFileControl,
    WalSectorSize,
    WalDeviceCharacteristics,
    WalShmMap,
    WalShmLock,
    WalShmBarrier,
    WalShmUnmap,
    WalFetch,
    WalUnfetch,
};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* base = Base(vfs);
  // Every other file is the default VFS's own object, in place: SQLite calls
  // its methods directly.
  if ((flags & SQLITE_OPEN_WAL) == 0) return base->xOpen(base, name, file, flags, out_flags);
  WalFile* w = Wal(file);
  w->base.pMethods = nullptr;
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  w->buffer = nullptr;
  w->buffer_at = 0;
  w->buffered = 0;
  w->commit_header = false;
  int rc = base->xOpen(base, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite calls xClose only when pMethods is set; the default VFS cleans
    // up after its own failed open.
    return rc;
  }
  w->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// The rest is the default VFS's, called with its own object.
int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Base(vfs)->xDelete(Base(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Base(vfs)->xAccess(Base(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Base(vfs)->xFullPathname(Base(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) { return Base(vfs)->xDlOpen(Base(vfs), name); }
void DlError(sqlite3_vfs* vfs, int n, char* out) { Base(vfs)->xDlError(Base(vfs), n, out); }
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Base(vfs)->xDlSym(Base(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { Base(vfs)->xDlClose(Base(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int n, char* out) { return Base(vfs)->xRandomness(Base(vfs), n, out); }
int Sleep(sqlite3_vfs* vfs, int micros) { return Base(vfs)->xSleep(Base(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) { return Base(vfs)->xCurrentTime(Base(vfs), out); }
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return Base(vfs)->xGetLastError(Base(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Base(vfs)->xCurrentTimeInt64(Base(vfs), out);
}
int SetSystemCall(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr p) {
  return Base(vfs)->xSetSystemCall(Base(vfs), name, p);
}
sqlite3_syscall_ptr GetSystemCall(sqlite3_vfs* vfs, const char* name) {
  return Base(vfs)->xGetSystemCall(Base(vfs), name);
}
const char* NextSystemCall(sqlite3_vfs* vfs, const char* name) {
  return Base(vfs)->xNextSystemCall(Base(vfs), name);
}

}  // namespace

const char* RegisterCoalescingWalVfs(sqlite3_vfs* base, const char* name) {
  if (base == nullptr || base->iVersion < 3) return nullptr;
  // Registered for the rest of the process, as SQLite requires.
  auto* vfs = new sqlite3_vfs{};
  vfs->iVersion = 3;
  vfs->szOsFile = static_cast<int>(kRealOffset) + base->szOsFile;
  vfs->mxPathname = base->mxPathname;
  vfs->zName = name;
  vfs->pAppData = base;
  vfs->xOpen = Open;
  vfs->xDelete = Delete;
  vfs->xAccess = Access;
  vfs->xFullPathname = FullPathname;
  vfs->xDlOpen = DlOpen;
  vfs->xDlError = DlError;
  vfs->xDlSym = DlSym;
  vfs->xDlClose = DlClose;
  vfs->xRandomness = Randomness;
  vfs->xSleep = Sleep;
  vfs->xCurrentTime = CurrentTime;
  vfs->xGetLastError = GetLastError;
  vfs->xCurrentTimeInt64 = CurrentTimeInt64;
  vfs->xSetSystemCall = SetSystemCall;
  vfs->xGetSystemCall = GetSystemCall;
  vfs->xNextSystemCall = NextSystemCall;
  if (sqlite3_vfs_register(vfs, /*makeDflt=*/0) != SQLITE_OK) {
    delete vfs;
    return nullptr;
  }
  return name;
}

const char* CoalescingWalVfsName() {
  static const char* const name = RegisterCoalescingWalVfs(sqlite3_vfs_find(nullptr), kVfsName);
  return name;
}

}  // namespace runbook::journal::sqlite
