// Output extraction for a finished attempt (SPEC.md §3 `outputs:`), kept off
// the event loop when the text is large; see run_execution.h.
//
// A rule's regex runs on a bounded matcher (engine/extract.h), but bounded is
// not free: a few regexes over a 16 MiB HTTP body can take a second, and on
// the run's io thread that second would stall every other step's output,
// timeouts and progress. Small texts (the common case: a line of `df`) are
// extracted inline; larger ones on one shared worker thread, the attempt's
// coroutine waiting for the answer while the loop serves the other steps.
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>

#include "engine/extract.h"
#include "engine/run_execution.h"

namespace runbook::internal {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// Below this many bytes of text in all, extracting costs less than the
// hand-over to the worker thread and back.
constexpr size_t kInlineExtractBytes = 64u << 10;

// Owns copies: a cancelled attempt stops waiting, and the worker may then
// finish after the run (and its compiled runbook) is gone.
struct ExtractJob {
  std::vector<OutputRule> rules;
  std::vector<std::string> texts;  // one per rule
};

Result<boost::json::object> RunJob(const ExtractJob& job) {
  boost::json::object out;
  for (size_t i = 0; i < job.rules.size(); ++i) {
    auto v = ExtractOutput(job.rules[i], job.texts[i]);
    if (!v.ok()) return v.status();
    out[job.rules[i].name] = std::move(*v);
  }
  return out;
}

// One worker for the whole process, shared by runs and child runs; joined
// at exit.
asio::thread_pool& ExtractionWorker() {
  static asio::thread_pool pool(1);
  return pool;
}

// Runs `job` on the worker and resumes the caller on its own executor with
// the answer, or with a cancellation as soon as `cancel` fires. Once
// cancelled, the worker finishes unobserved and must not touch the io_context
// any more (the run may end and destroy it): `open`, under `mu`, is that
// promise. Completions run on the io thread, so `done` needs no lock. The
// initiation is a named local: g++ 12 destroys some temporaries of a co_await
// expression twice.
awaitable<Result<boost::json::object>> OnWorker(std::shared_ptr<ExtractJob> job, CancelSignal& cancel) {
  auto ex = co_await asio::this_coro::executor;
  auto initiation = [job, ex, &cancel](auto handler) {
    using Handler = decltype(handler);
    struct Waiter {
      explicit Waiter(Handler h) : on_done(std::move(h)) {}
      Handler on_done;
      bool done = false;
      std::mutex mu;
      bool open = true;
      void Complete(Result<boost::json::object> r) {
        if (done) return;
        done = true;
        std::move(on_done)(std::move(r));
      }
    };
    auto w = std::make_shared<Waiter>(std::move(handler));
    cancel.Connect([w, ex] {
      {
        std::lock_guard lock(w->mu);
        w->open = false;
      }
      asio::post(ex, [w] { w->Complete(Status::Cancelled("cancelled while extracting outputs")); });
    });
    asio::post(ExtractionWorker(), [job, ex, w]() {
      auto r = RunJob(*job);
      std::lock_guard lock(w->mu);
      if (w->open) asio::post(ex, [w, r = std::move(r)]() mutable { w->Complete(std::move(r)); });
    });
  };
  auto result = co_await asio::async_initiate<decltype(use_awaitable), void(Result<boost::json::object>)>(
      initiation, use_awaitable);
  co_return result;
}

}  // namespace

awaitable<Status> RunExecution::Extract(const CompiledStep& cs, StepOutcome& outcome, const Capture& cap,
                                        CancelSignal& cancel) {
  const auto& rules = cs.spec->outputs;
  if (rules.empty()) co_return Status::Ok();
  auto job = std::make_shared<ExtractJob>();
  job->rules = rules;
  size_t total = 0;
  for (const auto& rule : rules) {
    std::string text;
    if (rule.from == "stdout") {
      text = cap.kept(OutputStream::kStdout);
    } else if (rule.from == "stderr") {
      text = cap.kept(OutputStream::kStderr);
    } else if (auto it = outcome.outputs.find(rule.from); it != outcome.outputs.end() && it->value().is_string()) {
      text = std::string(it->value().get_string());
    }
    total += text.size();
    job->texts.push_back(std::move(text));
  }
  Result<boost::json::object> extracted = boost::json::object{};
  if (total < kInlineExtractBytes) {
    extracted = RunJob(*job);
  } else {
    extracted = co_await OnWorker(job, cancel);
  }
  if (!extracted.ok()) co_return extracted.status();
  for (auto& [name, value] : *extracted) outcome.outputs[name] = std::move(value);
  co_return Status::Ok();
}

}  // namespace runbook::internal
