#include "journal/spill.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "journal/spill_internal.h"

namespace runbook::journal {

namespace spill_internal {

std::string Errno() { return std::strerror(errno); }

Result<int> OpenDir(int parent, const std::string& name, const std::string& shown, bool create, bool* created) {
  if (created) *created = false;
  int fd = openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    if (mkdirat(parent, name.c_str(), 0700) == 0) {
      if (created) *created = true;
    } else if (errno != EEXIST) {
      return Status::IoError("cannot create spill directory " + shown + ": " + Errno());
    }
    fd = openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd >= 0) return fd;
  if (errno == ENOENT) return Status::NotFound("spill directory " + shown + " is missing");
  if (errno == ELOOP || errno == ENOTDIR)
    return Status::FailedPrecondition("spill directory " + shown + " is a symbolic link or not a directory");
  return Status::IoError("cannot open spill directory " + shown + ": " + Errno());
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status SplitName(std::string_view run_id, std::string_view name, std::string* file) {
  size_t slash = name.find('/');
  bool ok = slash != std::string_view::npos && name.substr(0, slash) == run_id && IsSafeSpillComponent(run_id);
  if (ok) {
    std::string_view rest = name.substr(slash + 1);
    // The writer's names: a safe step id, ".ATTEMPT.STREAM", maybe ".N".
    ok = !rest.empty() && rest.size() <= 128 && rest[0] != '.' &&
         std::all_of(rest.begin(), rest.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || c == '.';
         });
    if (ok) *file = std::string(rest);
  }
  if (ok) return Status::Ok();
  return Status::Corruption("output_chunks names '" + std::string(name) + "' as a spill file of run " +
                            std::string(run_id) + ", which it cannot be");
}

}  // namespace spill_internal

using spill_internal::Errno;
using spill_internal::OpenDir;
using spill_internal::SplitName;

std::string SpillDirFor(std::string_view journal_path) { return std::string(journal_path) + ".blobs"; }

bool IsSafeSpillComponent(std::string_view text) {
  return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-';
         });
}

Result<bool> HasSpillColumns(sqlite::Db& db) {
  Result<sqlite::Statement> st =
      db.Prepare("SELECT count(*) FROM pragma_table_info('output_chunks') WHERE name = 'spill'");
  if (!st.ok()) return st.status();
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  return *row && st->Int(0) > 0;
}

std::string_view SpillColumnsSql(bool present) {
  return present ? "spill, spill_offset, spill_bytes" : "NULL, NULL, NULL";
}

// --- SpillReader ---------------------------------------------------------------

SpillReader::SpillReader(std::string_view journal_path) : dir_(SpillDirFor(journal_path)) {}

SpillReader::~SpillReader() { CloseFile(); }

void SpillReader::CloseFile() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  open_name_.clear();
  size_ = 0;
}

Status SpillReader::Open(std::string_view run_id, std::string_view name) {
  if (fd_ >= 0 && open_name_ == name) return Status::Ok();
  CloseFile();
  std::string file;
  if (Status s = SplitName(run_id, name, &file); !s.ok()) return s;
  const std::string path = PathOf(name);
  Result<int> top = OpenDir(AT_FDCWD, dir_, dir_, /*create=*/false, nullptr);
  if (!top.ok()) {
    if (top.status().code() == Status::Code::kNotFound) return Status::NotFound("spill file " + path + " is missing");
    return top.status();
  }
  Result<int> run = OpenDir(*top, std::string(run_id), dir_ + "/" + std::string(run_id), false, nullptr);
  close(*top);
  if (!run.ok()) {
    if (run.status().code() == Status::Code::kNotFound) return Status::NotFound("spill file " + path + " is missing");
    return run.status();
  }
  int fd = openat(*run, file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  int open_errno = errno;
  close(*run);
  if (fd < 0) {
    if (open_errno == ENOENT) return Status::NotFound("spill file " + path + " is missing");
    if (open_errno == ELOOP) return Status::FailedPrecondition("spill file " + path + " is not a regular file");
    return Status::IoError("cannot read spill file " + path + ": " + std::strerror(open_errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Status::FailedPrecondition("spill file " + path + " is not a regular file");
  }
  fd_ = fd;
  open_name_ = std::string(name);
  size_ = st.st_size;
  return Status::Ok();
}

Result<int64_t> SpillReader::FileSize(std::string_view run_id, std::string_view name) {
  if (Status s = Open(run_id, name); !s.ok()) return s;
  struct stat st;
  if (fstat(fd_, &st) != 0) return Status::IoError("cannot read spill file " + PathOf(name) + ": " + Errno());
  size_ = st.st_size;
  return size_;
}

Status SpillReader::ForEachPiece(std::string_view run_id, const SpillRef& ref, size_t piece,
                                 const std::function<Status(std::string_view)>& fn) {
  if (Status s = Open(run_id, ref.name); !s.ok()) return s;
  const int64_t end = ref.offset + ref.bytes;
  if (ref.offset < 0 || ref.bytes < 0 || end > size_) {
    // The file may have grown since it was opened (logs --follow).
    struct stat st;
    if (fstat(fd_, &st) == 0) size_ = st.st_size;
    if (ref.offset < 0 || ref.bytes < 0 || end > size_)
      return Status::Corruption("spill file " + PathOf(ref.name) + " holds " + std::to_string(size_) +
                                " bytes, but the journal refers to bytes " + std::to_string(ref.offset) + " to " +
                                std::to_string(end));
  }
  std::string buf(std::min<int64_t>(static_cast<int64_t>(std::max<size_t>(piece, 1)), std::max<int64_t>(ref.bytes, 1)),
                  '\0');
  int64_t at = ref.offset;
  while (at < end) {
    size_t want = static_cast<size_t>(std::min<int64_t>(end - at, static_cast<int64_t>(buf.size())));
    ssize_t n = pread(fd_, buf.data(), want, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError("cannot read spill file " + PathOf(ref.name) + ": " + Errno());
    if (n == 0)
      return Status::Corruption("spill file " + PathOf(ref.name) + " holds " + std::to_string(at) +
                                " bytes, but the journal refers to bytes " + std::to_string(ref.offset) + " to " +
                                std::to_string(end));
    if (Status s = fn(std::string_view(buf.data(), static_cast<size_t>(n))); !s.ok()) return s;
    at += n;
  }
  return Status::Ok();
}

Status SpillReader::Read(std::string_view run_id, const SpillRef& ref, std::string* out) {
  out->reserve(out->size() + static_cast<size_t>(std::max<int64_t>(ref.bytes, 0)));
  return ForEachPiece(run_id, ref, static_cast<size_t>(kMaxSpillRowBytes), [out](std::string_view piece) {
    out->append(piece);
    return Status::Ok();
  });
}

// --- ReadStream ----------------------------------------------------------------

Status ReadStream(sqlite::Db& db, SpillReader& spills, std::string_view run_id, std::string_view step_id,
                  int attempt, Stream stream, size_t limit, const std::function<Status(std::string_view)>& fn,
                  int64_t from) {
  Result<bool> has_spill = HasSpillColumns(db);
  if (!has_spill.ok()) return has_spill.status();
  Result<sqlite::Statement> st = db.Prepare(
      "SELECT data, " + std::string(SpillColumnsSql(*has_spill)) +
      ", byte_offset FROM output_chunks WHERE run_id = ?1 AND step_id = ?2 AND attempt = ?3 AND stream = ?4 "
      "ORDER BY seq");
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  st->BindText(2, step_id);
  st->BindInt(3, attempt);
  st->BindText(4, ToString(stream));
  size_t left = limit == 0 ? SIZE_MAX : limit;
  const size_t kPiece = static_cast<size_t>(kMaxSpillRowBytes);
  while (left > 0) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const int64_t offset = st->Int(4);
    // Bytes of this row before `from`, skipped.
    const int64_t skip = std::max<int64_t>(0, from - offset);
    if (st->IsNull(1)) {
      std::string data = st->Blob(0);
      if (static_cast<uint64_t>(skip) >= data.size()) continue;
      std::string_view piece(data.data() + skip, std::min(left, data.size() - static_cast<size_t>(skip)));
      left -= piece.size();
      if (Status s = fn(piece); !s.ok()) return s;
      continue;
    }
    SpillRef ref{st->Text(1), st->Int(2), st->Int(3)};
    if (skip >= ref.bytes) continue;
    ref.offset += skip;
    ref.bytes -= skip;
    ref.bytes = std::min<int64_t>(ref.bytes, static_cast<int64_t>(std::min<size_t>(left, INT64_MAX)));
    Status s = spills.ForEachPiece(run_id, ref, kPiece, [&](std::string_view piece) {
      left -= piece.size();
      return fn(piece);
    });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// --- Prune -------------------------------------------------------------------------

namespace {

// Writes all of `data` at the end of fd.
Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Status::IoError("cannot write " + path + ": " + Errno());
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status CopyOne(SpillReader& from, int to_dir, const std::string& to_dir_shown, std::string_view run_id,
               const std::string& name, std::vector<std::string>* warnings) {
  Result<int64_t> size = from.FileSize(run_id, name);
  if (!size.ok()) {
    if (size.status().code() != Status::Code::kNotFound) return size.status();
    warnings->push_back(size.status().message() + "; the archive has its rows without the bytes");
    return Status::Ok();
  }
  std::string file = name.substr(name.find('/') + 1);
  std::string tmp = "." + file + ".tmp";
  std::string shown = to_dir_shown + "/" + file;
  (void)unlinkat(to_dir, tmp.c_str(), 0);
  int fd = openat(to_dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot create " + to_dir_shown + "/" + tmp + ": " + Errno());
  Status s = from.ForEachPiece(run_id, SpillRef{name, 0, *size}, static_cast<size_t>(kMaxSpillRowBytes),
                               [&](std::string_view piece) { return WriteAll(fd, piece.data(), piece.size(), shown); });
  if (s.ok() && fsync(fd) != 0) s = Status::IoError("cannot sync " + shown + ": " + Errno());
  close(fd);
  if (s.ok() && renameat(to_dir, tmp.c_str(), to_dir, file.c_str()) != 0)
    s = Status::IoError("cannot rename " + to_dir_shown + "/" + tmp + " to " + shown + ": " + Errno());
  if (!s.ok()) (void)unlinkat(to_dir, tmp.c_str(), 0);
  return s;
}

}  // namespace

Status CopyRunSpillFiles(const std::string& from_journal, const std::string& to_journal, std::string_view run_id,
                         const std::vector<std::string>& names, std::vector<std::string>* warnings) {
  if (names.empty()) return Status::Ok();
  if (!IsSafeSpillComponent(run_id))
    return Status::Corruption("run id '" + std::string(run_id) + "' cannot have spill files");
  const std::string to_dir = SpillDirFor(to_journal);
  bool created_top = false, created_run = false;
  Result<int> top = OpenDir(AT_FDCWD, to_dir, to_dir, /*create=*/true, &created_top);
  if (!top.ok()) return top.status();
  const std::string run_shown = to_dir + "/" + std::string(run_id);
  Result<int> run = OpenDir(*top, std::string(run_id), run_shown, /*create=*/true, &created_run);
  if (!run.ok()) {
    close(*top);
    return run.status();
  }
  SpillReader from(from_journal);
  Status s;
  for (const std::string& name : names) {
    std::string file;
    s = SplitName(run_id, name, &file);
    if (s.ok()) s = CopyOne(from, *run, run_shown, run_id, name, warnings);
    if (!s.ok()) break;
  }
  // The new names must survive a crash as well as the bytes.
  if (s.ok() && fsync(*run) != 0) s = Status::IoError("cannot sync " + run_shown + ": " + Errno());
  if (s.ok() && created_run && fsync(*top) != 0) s = Status::IoError("cannot sync " + to_dir + ": " + Errno());
  close(*run);
  close(*top);
  if (s.ok() && created_top) {
    int parent = open(spill_internal::ParentDir(to_dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent >= 0) {
      (void)fsync(parent);
      close(parent);
    }
  }
  return s;
}

Result<std::vector<std::string>> ListRunSpillDirs(const std::string& journal_path) {
  const std::string dir = SpillDirFor(journal_path);
  std::vector<std::string> out;
  Result<int> top = OpenDir(AT_FDCWD, dir, dir, /*create=*/false, nullptr);
  if (!top.ok()) {
    if (top.status().code() == Status::Code::kNotFound) return out;
    return top.status();
  }
  DIR* d = fdopendir(*top);  // owns *top from here
  if (!d) {
    close(*top);
    return Status::IoError("cannot read " + dir + ": " + Errno());
  }
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (!IsSafeSpillComponent(n)) continue;
    struct stat st;
    if (fstatat(dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) out.push_back(std::move(n));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status RemoveRunSpillDir(const std::string& journal_path, std::string_view run_id, int64_t* files) {
  if (!IsSafeSpillComponent(run_id)) return Status::Ok();  // such a run never spilled
  const std::string dir = SpillDirFor(journal_path);
  Result<int> top = OpenDir(AT_FDCWD, dir, dir, /*create=*/false, nullptr);
  if (!top.ok()) return top.status().code() == Status::Code::kNotFound ? Status::Ok() : top.status();
  const std::string run_shown = dir + "/" + std::string(run_id);
  Result<int> run = OpenDir(*top, std::string(run_id), run_shown, false, nullptr);
  if (!run.ok()) {
    close(*top);
    return run.status().code() == Status::Code::kNotFound ? Status::Ok() : run.status();
  }
  DIR* d = fdopendir(*run);  // owns *run from here
  if (!d) {
    close(*run);
    close(*top);
    return Status::IoError("cannot read " + run_shown + ": " + Errno());
  }
  Status s;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  for (const std::string& n : names) {
    if (unlinkat(dirfd(d), n.c_str(), 0) == 0) {
      ++*files;
    } else if (s.ok()) {
      s = Status::IoError("cannot remove " + run_shown + "/" + n + ": " + Errno());
    }
  }
  closedir(d);
  if (s.ok() && unlinkat(*top, std::string(run_id).c_str(), AT_REMOVEDIR) != 0)
    s = Status::IoError("cannot remove " + run_shown + ": " + Errno());
  close(*top);
  return s;
}

}  // namespace runbook::journal
