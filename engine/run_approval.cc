// Approvals and pausing (SPEC.md §5): the gate in front of a step that needs
// a human decision. Decisions live in the journal's approvals table (written
// by `runbook approve` or by the terminal prompt through this file); a step
// with no decision yet is asked on the terminal when the CLI gave the run a
// prompter, and otherwise parked: it stays `waiting`, other steps go on, and
// the run pauses (exit 3) once nothing else can run.
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/ranges.h>
#include <boost/json.hpp>
#include <set>

#include "engine/json_text.h"
#include "engine/loader.h"
#include "engine/run_execution.h"
#include "journal/identity.h"

namespace runbook::internal {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

}  // namespace

std::optional<ApprovalSpec> RunExecution::ApprovalOf(const CompiledStep& cs) const {
  std::optional<ApprovalSpec> a;
  if (cs.spec->type == "approval") {
    a.emplace();
    Diagnostics ignored;  // validated at compile time
    ReadApprovalFields(cs.spec->fields, "", *a, ignored);
    // An approval step's `timeout` is how long the decision may take.
    if (!a->timeout) a->timeout = cs.spec->timeout;
  } else if (cs.spec->approval) {
    a = cs.spec->approval;
  }
  if (a && a->prompt.empty())
    a->prompt = "Approve step '" + cs.id() + "'" + (cs.spec->title.empty() ? "" : " (" + cs.spec->title + ")") + "?";
  return a;
}

awaitable<RunExecution::Gate> RunExecution::ApprovalGate(int s, const ApprovalSpec& spec, int attempt,
                                                         CancelSignal& cancel, StepOutcome& outcome) {
  const CompiledStep& cs = rb_.steps[s];
  // The prompt as people read it: with its expressions rendered.
  std::string prompt = spec.prompt;
  if (auto rendered = Render(prompt); rendered.ok()) prompt = *rendered;
  // The request of this attempt, if an earlier process made it (resume).
  std::optional<int64_t> requested_at;
  if (auto events = journal_.GetEvents(run_id_); events.ok()) {
    for (const auto& e : *events)
      if (e.kind == "approval_requested" && e.step_id == cs.id() && e.attempt == attempt) requested_at = e.ts_us;
  }
  bool prompter_declined = false;
  while (true) {
    if (cancel.emitted()) co_return Gate::kCancelled;
    // Make our own decisions visible to the reading connection.
    Status st = co_await SyncJournal(journal_);
    if (!st.ok()) co_return Gate::kBroken;
    std::vector<journal::ApprovalRecord> decisions;
    if (requested_at) {
      auto all = journal_.GetApprovals(run_id_);
      if (!all.ok()) {
        outcome.error = "cannot read approvals: " + all.status().message();
        co_return Gate::kRejected;
      }
      for (auto& d : *all)
        if (d.step_id == cs.id() && d.ts_us >= *requested_at) decisions.push_back(std::move(d));
    }
    std::vector<std::string> approved_by;
    std::set<std::string> seen;
    boost::json::object inputs;
    for (const auto& in : spec.inputs)
      if (in.default_value) inputs[in.name] = *in.default_value;
    std::string comment;
    for (const auto& d : decisions) {
      if (d.decision == journal::Decision::kRejected) {
        outcome.error = "rejected by " + d.approver + (d.comment.empty() ? "" : ": " + d.comment);
        Event(cs.id(), "approval_rejected", outcome.error, attempt, {{"approver", d.approver}});
        co_return Gate::kRejected;
      }
      if (seen.insert(d.approver).second) approved_by.push_back(d.approver);
      auto given = boost::json::parse(d.inputs_json);
      if (given.is_object())
        for (const auto& [k, v] : given.as_object()) inputs[k] = v;
      if (!d.comment.empty()) comment = d.comment;
    }
    auto fill = [&](const std::string& by, const std::string& decision) {
      outcome.outputs = inputs;
      outcome.outputs["approved_by"] = by;
      outcome.outputs["decision"] = decision;
      outcome.outputs["comment"] = comment;
    };
    if (static_cast<int>(approved_by.size()) >= spec.min_approvals) {
      const std::string names = fmt::format("{}", fmt::join(approved_by, ", "));
      fill(names, "approved");
      Event(cs.id(), "approval_granted", "approved by " + names, attempt,
            {{"approved_by", boost::json::value_from(approved_by)}});
      co_return Gate::kProceed;
    }
    if (!requested_at) {
      requested_at = journal::NowMicros();
      RecordAttempt(s, attempt, StepStatus::kWaiting, std::nullopt, std::nullopt, std::nullopt, {}, "", nullptr);
      boost::json::array names;
      for (const auto& in : spec.inputs) names.push_back(boost::json::value(in.name));
      boost::json::object data = {{"prompt", prompt},
                                  {"approvers", boost::json::value_from(spec.approvers)},
                                  {"min_approvals", spec.min_approvals},
                                  {"inputs", names}};
      if (spec.timeout) data["timeout_ms"] = spec.timeout->count();
      Event(cs.id(), "approval_requested", prompt, attempt, data);
      if (progress_) progress_->Notice("step " + cs.id() + " needs approval: " + masker_.Mask(prompt));
      continue;  // make the request durable before asking anyone
    }
    std::optional<Millis> left;
    if (spec.timeout) {
      auto waited = std::chrono::microseconds(journal::NowMicros() - *requested_at);
      left = *spec.timeout - std::chrono::duration_cast<Millis>(waited);
      if (left->count() <= 0) {
        std::string what = "no decision within " + FormatDuration(*spec.timeout);
        if (spec.on_timeout == OnTimeout::kApprove) {
          fill("timeout", "approved");
          Event(cs.id(), "approval_timed_out", what + "; approved as 'on_timeout: approve' says", attempt);
          co_return Gate::kProceed;
        }
        outcome.error = "approval timed out: " + what;
        Event(cs.id(), "approval_timed_out", what + "; rejected as 'on_timeout: reject' says", attempt);
        co_return Gate::kRejected;
      }
    }
    if (req_.prompter && !prompter_declined) {
      ApprovalQuestion q;
      q.run_id = run_id_;
      q.step_id = cs.id();
      q.prompt = masker_.Mask(prompt);
      q.approvers = spec.approvers;
      q.inputs = spec.inputs;
      q.min_approvals = spec.min_approvals;
      q.approved_by = approved_by;
      auto answer = co_await Ask(q, left, cancel);
      if (!answer) continue;  // timed out or cancelled: the loop decides
      if (!answer->answered) {
        prompter_declined = true;
        if (!answer->why_not.empty()) Event(cs.id(), "notice", answer->why_not, attempt);
      } else {
        journal::ApprovalRecord r;
        r.run_id = run_id_;
        r.step_id = cs.id();
        r.decision = answer->approved ? journal::Decision::kApproved : journal::Decision::kRejected;
        r.approver = answer->approver;
        r.os_user = journal::LocalActor();
        r.inputs_json = masker_.Mask(JsonText(answer->inputs));
        r.comment = masker_.Mask(answer->comment);
        r.ts_us = journal::NowMicros();
        journal_.AddApproval(std::move(r));
        Event(cs.id(), "approval_decided",
              std::string(answer->approved ? "approved" : "rejected") + " by " + answer->approver + " at the terminal",
              attempt, {{"decision", answer->approved ? "approved" : "rejected"}, {"approver", answer->approver}});
        continue;
      }
    }
    Park(s, attempt, {}, "waiting for approval: " + prompt);
    co_return Gate::kParked;
  }
}

awaitable<std::optional<ApprovalAnswer>> RunExecution::Ask(const ApprovalQuestion& q, std::optional<Millis> limit,
                                                          CancelSignal& cancel) {
  if (cancel.emitted()) co_return std::nullopt;
  auto ex = io_.get_executor();
  auto timer = std::make_shared<asio::steady_timer>(io_);
  ApprovalPrompter* prompter = req_.prompter;
  co_return co_await asio::async_initiate<decltype(use_awaitable), void(std::optional<ApprovalAnswer>)>(
      [&](auto handler) {
        using Handler = decltype(handler);
        // Whichever comes first completes the wait: the answer, the timeout, a cancel.
        struct Once {
          std::optional<Handler> h;
          void Fire(std::optional<ApprovalAnswer> a) {
            if (!h) return;
            Handler done = std::move(*h);
            h.reset();
            std::move(done)(std::move(a));
          }
        };
        auto once = std::make_shared<Once>();
        once->h.emplace(std::move(handler));
        if (limit) {
          timer->expires_after(*limit);
          timer->async_wait([once](boost::system::error_code ec) {
            if (!ec) once->Fire(std::nullopt);
          });
        }
        cancel.Connect([once, timer, ex] {
          timer->cancel();
          asio::post(ex, [once] { once->Fire(std::nullopt); });
        });
        prompter->Ask(q, [once, timer, ex](ApprovalAnswer a) {
          asio::post(ex, [once, timer, a = std::move(a)]() mutable {
            timer->cancel();
            once->Fire(std::move(a));
          });
        });
      },
      use_awaitable);
}

void RunExecution::Park(int s, int attempt, const boost::json::object& outputs, const std::string& why) {
  const CompiledStep& cs = rb_.steps[s];
  RecordAttempt(s, attempt, StepStatus::kWaiting, std::nullopt, std::nullopt, std::nullopt, outputs, "", nullptr);
  Event(cs.id(), "step_waiting", why, attempt);
  running_.erase(s);
  plan_.SetWaiting(s);
  parked_[s] = attempt;
  Wake();
}

void RunExecution::CancelParked() {
  auto parked = std::move(parked_);
  parked_.clear();
  for (const auto& [s, attempt] : parked) {
    const CompiledStep& cs = rb_.steps[s];
    int64_t now = journal::NowMicros();
    const std::string why = "cancelled while waiting";
    RecordAttempt(s, attempt, StepStatus::kCancelled, std::nullopt, now, std::nullopt, {}, why, nullptr);
    Event(cs.id(), "step_finished", why, attempt, {{"status", "cancelled"}});
    attempts_used_[s] = std::max(attempts_used_[s], attempt);
    plan_.Finish(s, StepStatus::kCancelled);
    values_.steps[cs.id()] = StepResultValues{"cancelled", std::nullopt, {}, why};
  }
}

}  // namespace runbook::internal
