// The output side of an attempt (Capture) and the journal's durability
// barrier as an awaitable; see run_execution.h.
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/run_execution.h"
#include "journal/identity.h"
#include "journal/sha256.h"

namespace runbook::internal {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// Bytes of a stream kept in memory for outputs (stdout, stderr, body).
constexpr size_t kCaptureLimit = 4u << 20;
// Above this many queued output bytes, a step's reader waits for the journal.
// With large output spilled to files (journal/spill.h) the writer drains
// fast, so a small queue costs no throughput and keeps the engine's peak RSS
// well under the 64 MB budget (docs/performance.md, bigout).
constexpr size_t kJournalHighWater = 8u << 20;

}  // namespace

awaitable<Status> SyncJournal(journal::Journal& j, std::optional<journal::Journal::Hold>* hold) {
  // Through the event loop first, as with the writer's answer: callers rely
  // on the barrier being a suspension point. And the handlers already ready
  // run meanwhile: when two barriers are reached in one loop pass, both
  // sets of records are queued before the first barrier resumes and commits
  // them in one transaction; the second then finds nothing left to commit.
  auto ex = co_await asio::this_coro::executor;
  co_await asio::post(ex, use_awaitable);
  std::optional<Status> here = j.SyncHere();
  if (hold) hold->reset();
  if (!here) {
    Status s = co_await WaitForJournalWriter(j);
    co_return s;
  }
  co_return std::move(*here);
}

awaitable<Status> WaitForJournalWriter(journal::Journal& j) {
  auto ex = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(use_awaitable), void(Status)>(
      [&j, ex](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        j.Sync([ex, h](Status s) { asio::post(ex, [h, s]() mutable { (*h)(std::move(s)); }); });
      },
      use_awaitable);
}

struct StreamCapture {
  explicit StreamCapture(const Masker& m) : masker(m) {}
  StreamMasker masker;
  journal::Sha256 sha;
  int64_t bytes = 0;
  int64_t seq = 0;
  std::string kept;
  bool truncated = false;
};

Capture::Capture(journal::Journal& j, const Masker& masker, std::string run_id, const CompiledStep& step,
                 int attempt, ProgressSink* progress)
    : journal_(j), run_id_(std::move(run_id)), step_(step), attempt_(attempt), progress_(progress),
      out_(std::make_unique<StreamCapture>(masker)), err_(std::make_unique<StreamCapture>(masker)) {}

Capture::~Capture() = default;

awaitable<void> Capture::Write(OutputStream stream, std::string_view data) {
  StreamCapture& c = stream == OutputStream::kStdout ? *out_ : *err_;
  Emit(stream, c, c.masker.Push(data));
  if (journal_.pending_bytes() > kJournalHighWater) {
    Status s = co_await WaitForJournalWriter(journal_);
    (void)s;  // a failed journal is reported by the runner's own barrier
  }
}

void Capture::Finish() {
  Emit(OutputStream::kStdout, *out_, out_->masker.Finish());
  Emit(OutputStream::kStderr, *err_, err_->masker.Finish());
}

const std::string& Capture::kept(OutputStream s) const { return (s == OutputStream::kStdout ? out_ : err_)->kept; }
int64_t Capture::bytes(OutputStream s) const { return (s == OutputStream::kStdout ? out_ : err_)->bytes; }
std::string Capture::sha256(OutputStream s) const {
  return (s == OutputStream::kStdout ? out_ : err_)->sha.HexDigest();
}

void Capture::Emit(OutputStream stream, StreamCapture& c, std::string text) {
  if (text.empty()) return;
  c.sha.Update(text);
  if (c.kept.size() < kCaptureLimit) {
    size_t room = kCaptureLimit - c.kept.size();
    c.kept.append(text, 0, std::min(room, text.size()));
    if (text.size() > room) c.truncated = true;
  } else {
    c.truncated = true;
  }
  if (progress_) progress_->StepOutput(step_, stream, text);
  journal::OutputChunk chunk;
  chunk.run_id = run_id_;
  chunk.step_id = step_.id();
  chunk.attempt = attempt_;
  chunk.stream = stream == OutputStream::kStdout ? journal::Stream::kStdout : journal::Stream::kStderr;
  chunk.seq = c.seq++;
  chunk.ts_us = journal::NowMicros();
  chunk.offset = c.bytes;
  c.bytes += static_cast<int64_t>(text.size());
  chunk.data = std::move(text);
  journal_.AppendOutput(std::move(chunk));
}

}  // namespace runbook::internal
