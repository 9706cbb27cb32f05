// Helpers for the evidence tests (hash chain, verify, prune, stats): a run
// written through the Journal as the engine writes one (run_started, steps
// with output and digests, a finding, run_finished), and raw SQL on the file
// behind the Journal's back. Single-threaded test code.
#pragma once

#include <string>
#include <vector>

#include "journal/chain.h"
#include "journal/verify.h"
#include "journal_test_util.h"

namespace runbook::journal {

struct SampleRunOptions {
  int64_t started_at_us = 1'000'000;
  int64_t duration_us = 5'000'000;
  RunStatus status = RunStatus::kSucceeded;
  Trigger trigger = Trigger::kManual;
  std::string runbook = "daily-health-check";
  std::string incident;
  std::string parent;
  bool finished = true;  // false: the run is left 'running'
  int steps = 2;

  // Builders, for one-line call sites.
  static SampleRunOptions At(int64_t started_at_us, int64_t duration_us = 5'000'000) {
    SampleRunOptions o;
    o.started_at_us = started_at_us;
    o.duration_us = duration_us;
    return o;
  }
  SampleRunOptions& Status(RunStatus s) { status = s; return *this; }
  SampleRunOptions& Via(Trigger t) { trigger = t; return *this; }
  SampleRunOptions& Of(std::string name) { runbook = std::move(name); return *this; }
  SampleRunOptions& Incident(std::string id) { incident = std::move(id); return *this; }
  SampleRunOptions& Parent(std::string id) { parent = std::move(id); return *this; }
  SampleRunOptions& Unfinished() { finished = false; return *this; }
  SampleRunOptions& Steps(int n) { steps = n; return *this; }
};

// Writes one complete run with id `id` (not synced).
inline void WriteSampleRun(Journal& j, const std::string& id, const SampleRunOptions& o = {}) {
  RunRecord r = JournalTest::MakeRun(id, o.started_at_us);
  r.runbook = o.runbook;
  r.trigger = o.trigger;
  r.incident = o.incident;
  r.parent_run = o.parent;
  j.CreateRun(r);
  EventRecord started = JournalTest::MakeEvent(id, "run_started", "run of " + o.runbook + " started");
  started.ts_us = o.started_at_us;
  started.data_json = std::string(R"({"trigger":")") + std::string(ToString(o.trigger)) + R"("})";
  j.AppendEvent(started);
  for (int s = 0; s < o.steps; ++s) {
    std::string step = "step-" + std::to_string(s);
    EventRecord e = JournalTest::MakeEvent(id, "step_started", "attempt 1 of 1");
    e.step_id = step;
    e.attempt = 1;
    e.ts_us = o.started_at_us + 10;
    j.AppendEvent(e);
    {
      // As the engine does: the attempt's row exists (and is synced) before
      // any of its output, so no reader ever sees output without its row.
      AttemptRecord running;
      running.run_id = id;
      running.step_id = step;
      running.status = AttemptStatus::kRunning;
      running.started_at_us = o.started_at_us + 10;
      j.PutAttempt(running);
      (void)j.SyncBlocking();
    }
    Sha256 out, err;
    int64_t offset = 0;
    for (int c = 0; c < 3; ++c) {
      OutputChunk chunk;
      chunk.run_id = id;
      chunk.step_id = step;
      chunk.seq = c;
      chunk.offset = offset;
      chunk.ts_us = o.started_at_us + 20 + c;
      chunk.data = "line " + std::to_string(c) + " of " + step + "\n";
      out.Update(chunk.data);
      offset += static_cast<int64_t>(chunk.data.size());
      j.AppendOutput(chunk);
    }
    OutputChunk warn;
    warn.run_id = id;
    warn.step_id = step;
    warn.stream = Stream::kStderr;
    warn.ts_us = o.started_at_us + 30;
    warn.data = std::string("warn\0ing\n", 9);
    err.Update(warn.data);
    j.AppendOutput(warn);
    AttemptRecord a;
    a.run_id = id;
    a.step_id = step;
    a.status = AttemptStatus::kSucceeded;
    a.started_at_us = o.started_at_us + 10;
    a.finished_at_us = o.started_at_us + 40;
    a.exit_code = 0;
    a.stdout_digest = {offset, out.HexDigest()};
    a.stderr_digest = {9, err.HexDigest()};
    j.PutAttempt(a);
    EventRecord f = JournalTest::MakeEvent(id, "step_finished", "succeeded");
    f.step_id = step;
    f.attempt = 1;
    f.ts_us = o.started_at_us + 40;
    f.data_json = R"({"status":"succeeded","duration_ms":0,"exit_code":0})";
    j.AppendEvent(f);
  }
  FindingRecord finding;
  finding.run_id = id;
  finding.step_id = "step-0";
  finding.level = FindingLevel::kWarning;
  finding.message = "disk 91% full";
  finding.value = "91";
  finding.threshold = "> 90";
  finding.ts_us = o.started_at_us + 41;
  j.AddFinding(finding);
  EventRecord fe = JournalTest::MakeEvent(id, "finding", "warning: disk 91% full");
  fe.step_id = "step-0";
  fe.attempt = 1;
  fe.ts_us = o.started_at_us + 41;
  fe.data_json = R"({"level":"warning","value":"91","threshold":"> 90"})";
  j.AppendEvent(fe);
  if (!o.finished) return;
  int exit_code = o.status == RunStatus::kSucceeded ? 0 : 1;
  EventRecord done = JournalTest::MakeEvent(id, "run_finished", "run " + std::string(ToString(o.status)));
  done.ts_us = o.started_at_us + o.duration_us;
  done.data_json = std::string(R"({"status":")") + std::string(ToString(o.status)) +
                   R"(","exit_code":)" + std::to_string(exit_code) + "}";
  j.AppendEvent(done);
  j.FinishRun(id, o.status, o.started_at_us + o.duration_us, exit_code, "{}", "");
}

// Problems' messages, one per line, for failure output.
inline std::string Problems(const VerifyReport& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.message + "\n";
  return out;
}

}  // namespace runbook::journal
