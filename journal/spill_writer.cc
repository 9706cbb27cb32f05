#include "journal/spill_writer.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "journal/spill.h"
#include "journal/spill_internal.h"

namespace runbook::journal {

namespace {

using spill_internal::Errno;

// Dirty bytes of one file after which the writer asks the kernel to start
// writing them out (without waiting), so that the fdatasync at the end of
// the attempt has little left to wait for.
constexpr int64_t kWritebackBytes = 8 << 20;

// The step id as one file-name component: [A-Za-z0-9_-], at most 64 bytes.
std::string FileStem(std::string_view step_id) {
  std::string out;
  for (char c : step_id.substr(0, 64)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  return out.empty() ? "step" : out;
}

// pwritev of all of `iov` at `offset`, however many calls it takes.
Status WriteAll(int fd, std::vector<iovec>& iov, int64_t offset, const std::string& path) {
  size_t i = 0;
  while (i < iov.size()) {
    if (iov[i].iov_len == 0) {
      ++i;
      continue;
    }
    int count = static_cast<int>(std::min<size_t>(iov.size() - i, IOV_MAX));
    ssize_t n = pwritev(fd, &iov[i], count, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError("cannot write spill file " + path + ": " + Errno());
    if (n == 0) return Status::IoError("cannot write spill file " + path + ": no progress");
    offset += n;
    size_t left = static_cast<size_t>(n);
    while (left > 0 && i < iov.size()) {
      if (left >= iov[i].iov_len) {
        left -= iov[i].iov_len;
        ++i;
      } else {
        iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
        iov[i].iov_len -= left;
        left = 0;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

SpillWriter::~SpillWriter() { CloseFds(); }

SpillWriter::SpillWriter(SpillWriter&& other) noexcept { *this = std::move(other); }

SpillWriter& SpillWriter::operator=(SpillWriter&& other) noexcept {
  if (this == &other) return *this;
  CloseFds();
  journal_path_ = std::move(other.journal_path_);
  dir_ = std::move(other.dir_);
  threshold_ = other.threshold_;
  blobs_fd_ = std::exchange(other.blobs_fd_, -1);
  files_ = std::move(other.files_);  // nodes move: File pointers stay valid
  other.files_.clear();
  pending_ = std::move(other.pending_);
  other.pending_.reset();
  return *this;
}

void SpillWriter::CloseFds() {
  for (auto& [key, f] : files_) {
    if (f.fd >= 0) close(f.fd);
    if (f.dir_fd >= 0) close(f.dir_fd);
  }
  files_.clear();
  pending_.reset();
  if (blobs_fd_ >= 0) close(blobs_fd_);
  blobs_fd_ = -1;
}

void SpillWriter::Enable(std::string journal_path, int64_t threshold) {
  journal_path_ = std::move(journal_path);
  dir_ = SpillDirFor(journal_path_);
  threshold_ = threshold;
}

bool SpillWriter::Wants(const OutputChunk& c) const {
  if (threshold_ < 0 || c.data.empty()) return false;
  if (pending_ && pending_->row.attempt == c.attempt && pending_->row.stream == c.stream &&
      pending_->row.run_id == c.run_id && pending_->row.step_id == c.step_id)
    return true;
  if (c.offset + static_cast<int64_t>(c.data.size()) > threshold_)
    return IsSafeSpillComponent(c.run_id);
  return files_.count(Key{c.run_id, c.step_id, c.attempt, static_cast<int>(c.stream)}) > 0;
}

Status SpillWriter::OpenBlobsDir() {
  if (blobs_fd_ >= 0) return Status::Ok();
  bool created = false;
  Result<int> fd = spill_internal::OpenDir(AT_FDCWD, dir_, dir_, /*create=*/true, &created);
  if (!fd.ok()) return fd.status();
  blobs_fd_ = *fd;
  if (created) {
    // The new directory's name must survive a crash like its files.
    int parent = open(spill_internal::ParentDir(dir_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent >= 0) {
      (void)fsync(parent);
      close(parent);
    }
  }
  return Status::Ok();
}

Result<SpillWriter::File*> SpillWriter::OpenFile(const OutputChunk& c) {
  if (Status s = OpenBlobsDir(); !s.ok()) return s;
  bool created_run = false;
  const std::string run_shown = dir_ + "/" + c.run_id;
  Result<int> run = spill_internal::OpenDir(blobs_fd_, c.run_id, run_shown, /*create=*/true, &created_run);
  if (!run.ok()) return run.status();
  if (created_run && fsync(blobs_fd_) != 0) {
    close(*run);
    return Status::IoError("cannot sync spill directory " + dir_ + ": " + Errno());
  }
  // A file of the same name (an earlier engine's, for the same attempt) is
  // never reused or truncated: the next free ".N" is taken instead.
  const std::string base = FileStem(c.step_id) + "." + std::to_string(c.attempt) + "." + std::string(ToString(c.stream));
  for (int n = 1; n <= 100; ++n) {
    std::string file = n == 1 ? base : base + "." + std::to_string(n);
    int fd = openat(*run, file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      Status s = Status::IoError("cannot create spill file " + run_shown + "/" + file + ": " + Errno());
      close(*run);
      return s;
    }
    File f;
    f.name = c.run_id + "/" + file;
    f.path = run_shown + "/" + file;
    f.fd = fd;
    f.dir_fd = *run;
    f.next_seq = c.seq;
    auto [it, inserted] = files_.emplace(Key{c.run_id, c.step_id, c.attempt, static_cast<int>(c.stream)}, std::move(f));
    (void)inserted;
    return &it->second;
  }
  close(*run);
  return Status::IoError("cannot create spill file " + run_shown + "/" + base + ": 100 files of that name exist");
}

Status SpillWriter::Add(const OutputChunk& c, const Insert& insert) {
  const int64_t n = static_cast<int64_t>(c.data.size());
  if (pending_) {
    SpillRow& row = pending_->row;
    if (row.attempt == c.attempt && row.stream == c.stream && row.run_id == c.run_id && row.step_id == c.step_id &&
        c.offset == row.byte_offset + row.spill_bytes && row.spill_bytes + n <= kMaxSpillRowBytes) {
      pending_->iov.push_back(iovec{const_cast<char*>(c.data.data()), c.data.size()});
      row.spill_bytes += n;
      return Status::Ok();
    }
    if (Status s = Flush(insert); !s.ok()) return s;
  }
  File* f = nullptr;
  auto it = files_.find(Key{c.run_id, c.step_id, c.attempt, static_cast<int>(c.stream)});
  if (it != files_.end()) {
    f = &it->second;
  } else {
    Result<File*> opened = OpenFile(c);
    if (!opened.ok()) return opened.status();
    f = *opened;
  }
  Pending p;
  p.file = f;
  p.row = SpillRow{c.run_id, c.step_id, c.attempt, c.stream, f->next_seq++, c.ts_us, c.offset, f->name, f->size, n};
  p.iov.push_back(iovec{const_cast<char*>(c.data.data()), c.data.size()});
  pending_ = std::move(p);
  return Status::Ok();
}

Status SpillWriter::Flush(const Insert& insert) {
  if (!pending_) return Status::Ok();
  Pending p = std::move(*pending_);
  pending_.reset();
  File& f = *p.file;
  if (Status s = WriteAll(f.fd, p.iov, p.row.spill_offset, f.path); !s.ok()) return s;
  f.size = p.row.spill_offset + p.row.spill_bytes;
  if (f.size - f.writeback_from >= kWritebackBytes) {
    // Start writing back what is dirty; FinishAttempt's fdatasync then finds
    // most of it on disk already. Advisory: a failure here changes nothing.
    (void)sync_file_range(f.fd, f.writeback_from, f.size - f.writeback_from, SYNC_FILE_RANGE_WRITE);
    f.writeback_from = f.size;
  }
  return insert(p.row);
}

Status SpillWriter::SyncAndClose(File& f) {
  Status s;
  if (fdatasync(f.fd) != 0) s = Status::IoError("cannot sync spill file " + f.path + ": " + Errno());
  if (s.ok() && fsync(f.dir_fd) != 0)
    s = Status::IoError("cannot sync spill directory " + spill_internal::ParentDir(f.path) + ": " + Errno());
  close(f.fd);
  close(f.dir_fd);
  f.fd = f.dir_fd = -1;
  return s;
}

Status SpillWriter::FinishAttempt(std::string_view run_id, std::string_view step_id, int attempt,
                                  const Insert& insert) {
  if (files_.empty()) return Status::Ok();
  if (Status s = Flush(insert); !s.ok()) return s;
  Status result;
  for (Stream stream : {Stream::kStdout, Stream::kStderr}) {
    auto it = files_.find(Key{std::string(run_id), std::string(step_id), attempt, static_cast<int>(stream)});
    if (it == files_.end()) continue;
    Status s = SyncAndClose(it->second);
    files_.erase(it);
    if (result.ok()) result = s;
  }
  return result;
}

void SpillWriter::DropPending() { pending_.reset(); }

Status SpillWriter::CloseAll() {
  pending_.reset();
  Status result;
  for (auto& [key, f] : files_) {
    Status s = SyncAndClose(f);
    if (result.ok()) result = s;
  }
  files_.clear();
  return result;
}

}  // namespace runbook::journal
