// Run history from the journal: `runbook runs`, `runbook show RUN`,
// `runbook logs RUN [STEP] [--follow]`.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <thread>
#include <utility>

#include "cli/cli.h"
#include "cli/pending.h"
#include "cli/tail_lines.h"
#include "engine/json_text.h"
#include "engine/values.h"

namespace runbook::cli {
namespace {

constexpr size_t kShowTailLines = 3;  // of a failed step's output, under its row

std::string Time(int64_t us) { return IsoUtcMicros(us); }

std::string Duration(int64_t from_us, std::optional<int64_t> to_us) {
  if (!to_us) return "-";
  return FormatDuration(Millis((*to_us - from_us) / 1000));
}

boost::json::value ParseOr(const std::string& json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  return ec ? boost::json::value(json) : v;
}

// --- runs ---------------------------------------------------------------------
struct RunsOptions {
  std::string runbook, status, since, incident;
  size_t limit = 20;
};

int RunRuns(CliEnv& env, const RunsOptions& opt) {
  auto j = env.OpenJournal();
  if (!j) return kExitFailed;
  journal::RunFilter f;
  f.runbook = opt.runbook;
  f.incident = opt.incident;
  f.limit = opt.limit;
  if (!opt.status.empty()) {
    f.status = journal::ParseRunStatus(opt.status);
    if (!f.status) {
      env.Error("unknown status '" + opt.status + "' (running, waiting, succeeded, failed, cancelled, interrupted)");
      return kExitUsage;
    }
  }
  if (!opt.since.empty()) {
    auto t = ParseTimeArg(opt.since);
    if (!t.ok()) {
      env.Error(t.status().message());
      return kExitUsage;
    }
    f.since_us = *t;
  }
  auto runs = j->ListRuns(f);
  if (!runs.ok()) {
    env.Error(runs.status().message());
    return kExitFailed;
  }
  if (env.globals.json) {
    boost::json::array a;
    for (const auto& r : *runs)
      a.push_back({{"id", r.id}, {"runbook", r.runbook}, {"status", std::string(journal::ToString(r.status))},
                   {"trigger", std::string(journal::ToString(r.trigger))}, {"actor", r.actor},
                   {"incident", r.incident}, {"parent_run", r.parent_run}, {"started_at", Time(r.started_at_us)},
                   {"finished_at", r.finished_at_us ? boost::json::value(Time(*r.finished_at_us)) : nullptr},
                   {"exit_code", r.exit_code ? boost::json::value(*r.exit_code) : nullptr}});
    env.out << JsonText(a) << "\n";
    return kExitOk;
  }
  if (runs->empty()) {
    env.err << "no runs recorded in " << j->path() << "\n";
    return kExitOk;
  }
  env.out << std::left << std::setw(14) << "RUN" << std::setw(26) << "RUNBOOK" << std::setw(12) << "STATUS"
          << std::setw(9) << "TRIGGER" << std::setw(26) << "STARTED" << std::setw(10) << "DURATION" << "ACTOR\n";
  for (const auto& r : *runs)
    env.out << std::left << std::setw(14) << r.id << std::setw(26) << r.runbook << std::setw(12)
            << journal::ToString(r.status) << std::setw(9) << journal::ToString(r.trigger) << std::setw(26)
            << Time(r.started_at_us) << std::setw(10) << Duration(r.started_at_us, r.finished_at_us) << r.actor
            << "\n";
  return kExitOk;
}

// --- show ---------------------------------------------------------------------
int RunShow(CliEnv& env, const std::string& ref) {
  auto j = env.OpenJournal();
  if (!j) return kExitFailed;
  auto id = j->ResolveRunRef(ref);
  if (!id.ok()) {
    env.Error(id.status().message());
    return kExitUsage;
  }
  auto run = j->GetRun(*id);
  auto attempts = j->GetAttempts(*id);
  auto findings = j->GetFindings(*id);
  auto approvals = j->GetApprovals(*id);
  auto events = j->GetEvents(*id);
  if (!run.ok() || !attempts.ok() || !findings.ok() || !approvals.ok() || !events.ok()) {
    env.Error(!run.ok()         ? run.status().message()
              : !attempts.ok()  ? attempts.status().message()
              : !findings.ok()  ? findings.status().message()
              : !approvals.ok() ? approvals.status().message()
                                : events.status().message());
    return kExitFailed;
  }
  std::vector<const journal::EventRecord*> notes;
  for (const auto& e : *events)
    if (e.kind == "note") notes.push_back(&e);
  auto note_author = [](const journal::EventRecord& e) {
    auto v = ParseOr(e.data_json);
    if (v.is_object())
      if (auto it = v.as_object().find("author"); it != v.as_object().end() && it->value().is_string())
        return std::string(it->value().get_string());
    return e.actor;
  };
  // The last attempt of each step, in the order steps first appeared.
  std::vector<std::string> order;
  std::map<std::string, const journal::AttemptRecord*> last;
  std::map<std::string, int> attempt_count;
  for (const auto& a : *attempts) {
    if (!last.count(a.step_id)) order.push_back(a.step_id);
    last[a.step_id] = &a;
    attempt_count[a.step_id] = std::max(attempt_count[a.step_id], a.attempt);
  }
  const auto& r = *run;
  // A failed or timed-out attempt's last lines: of its stderr, of its stdout
  // when stderr has none; as `runbook run` showed them.
  struct Tail {
    journal::Stream stream = journal::Stream::kStderr;
    std::vector<std::string> lines;
  };
  auto failed_tail = [&](const journal::AttemptRecord& a) -> std::optional<Tail> {
    if (a.status != journal::AttemptStatus::kFailed && a.status != journal::AttemptStatus::kTimedOut)
      return std::nullopt;
    for (auto [stream, digest] : {std::pair{journal::Stream::kStderr, &a.stderr_digest},
                                  std::pair{journal::Stream::kStdout, &a.stdout_digest}}) {
      if (digest->bytes == 0) continue;
      const int64_t from = std::max<int64_t>(0, digest->bytes - static_cast<int64_t>(kTailBytes));
      auto text = j->ReadStream(r.id, a.step_id, a.attempt, stream, kTailBytes, from);
      if (!text.ok()) return std::nullopt;  // `journal verify` names what is wrong with it
      bool more = false;
      std::vector<std::string> lines = LastLines(*text, from > 0, kShowTailLines, &more);
      if (!lines.empty()) return Tail{stream, std::move(lines)};
    }
    return std::nullopt;
  };
  if (env.globals.json) {
    boost::json::array steps;
    for (const auto& s : order) {
      const auto& a = *last[s];
      boost::json::value last_lines = nullptr;
      if (std::optional<Tail> tail = failed_tail(a)) {
        boost::json::array lines;
        for (auto& line : tail->lines) lines.emplace_back(std::move(line));
        last_lines = {{"stream", std::string(journal::ToString(tail->stream))}, {"lines", std::move(lines)}};
      }
      steps.push_back({{"id", s}, {"block", std::string(journal::ToString(a.block))},
                       {"status", std::string(journal::ToString(a.status))}, {"attempts", attempt_count[s]},
                       {"started_at", a.started_at_us ? boost::json::value(Time(*a.started_at_us)) : nullptr},
                       {"finished_at", a.finished_at_us ? boost::json::value(Time(*a.finished_at_us)) : nullptr},
                       {"exit_code", a.exit_code ? boost::json::value(*a.exit_code) : nullptr},
                       {"outputs", ParseOr(a.outputs_json)}, {"error", a.error},
                       {"stdout_bytes", a.stdout_digest.bytes}, {"stdout_sha256", a.stdout_digest.sha256},
                       {"stderr_bytes", a.stderr_digest.bytes}, {"stderr_sha256", a.stderr_digest.sha256},
                       {"last_lines", std::move(last_lines)}});
    }
    boost::json::array fs;
    for (const auto& f : *findings)
      fs.push_back({{"step", f.step_id}, {"level", std::string(journal::ToString(f.level))}, {"message", f.message},
                    {"value", f.value}, {"threshold", f.threshold}, {"at", Time(f.ts_us)}});
    boost::json::object o = {
        {"id", r.id}, {"runbook", r.runbook}, {"title", r.title}, {"status", std::string(journal::ToString(r.status))},
        {"trigger", std::string(journal::ToString(r.trigger))}, {"actor", r.actor}, {"incident", r.incident},
        {"parent_run", r.parent_run}, {"started_at", Time(r.started_at_us)},
        {"finished_at", r.finished_at_us ? boost::json::value(Time(*r.finished_at_us)) : nullptr},
        {"exit_code", r.exit_code ? boost::json::value(*r.exit_code) : nullptr}, {"error", r.error},
        {"params", ParseOr(r.params_json)}, {"outputs", ParseOr(r.outputs_json)}, {"content_hash", r.content_hash},
        {"source_path", r.source_path}, {"steps", steps}, {"findings", fs}};
    boost::json::array as;
    for (const auto& a : *approvals)
      as.push_back({{"step", a.step_id}, {"decision", std::string(journal::ToString(a.decision))},
                    {"approver", a.approver}, {"os_user", a.os_user}, {"inputs", ParseOr(a.inputs_json)},
                    {"comment", a.comment}, {"at", Time(a.ts_us)}});
    o["approvals"] = std::move(as);
    boost::json::array ns;
    for (const auto* e : notes)
      ns.push_back({{"author", note_author(*e)}, {"actor", e->actor}, {"text", e->message}, {"at", Time(e->ts_us)}});
    o["notes"] = std::move(ns);
    env.out << JsonText(o) << "\n";
    return kExitOk;
  }
  env.out << "run " << r.id << "  " << r.runbook << (r.title.empty() ? "" : " — " + r.title) << "\n"
          << "  status:   " << journal::ToString(r.status) << (r.exit_code ? " (exit " + std::to_string(*r.exit_code) + ")" : "")
          << "\n"
          << "  trigger:  " << journal::ToString(r.trigger) << " by " << r.actor << "\n"
          << "  incident: " << r.incident << (r.parent_run.empty() ? "" : "   parent run: " + r.parent_run) << "\n"
          << "  started:  " << Time(r.started_at_us) << "   duration: " << Duration(r.started_at_us, r.finished_at_us)
          << "\n"
          << "  source:   " << r.source_path << " (sha256 " << r.content_hash.substr(0, 12) << ")\n";
  if (!r.error.empty()) env.out << "  error:    " << r.error << "\n";
  if (r.params_json != "{}") env.out << "  params:   " << r.params_json << "\n";
  env.out << "steps:\n";
  env.out << "  " << std::left << std::setw(28) << "STEP" << std::setw(11) << "STATUS" << std::setw(9) << "ATTEMPTS"
          << std::setw(10) << "DURATION" << std::setw(6) << "EXIT" << "DETAIL\n";
  for (const auto& s : order) {
    const auto& a = *last[s];
    std::string name = a.block == journal::Block::kMain ? s : s + " (" + std::string(journal::ToString(a.block)) + ")";
    env.out << "  " << std::left << std::setw(28) << name << std::setw(11) << journal::ToString(a.status)
            << std::setw(9) << attempt_count[s] << std::setw(10)
            << (a.started_at_us ? Duration(*a.started_at_us, a.finished_at_us) : "-") << std::setw(6)
            << (a.exit_code ? std::to_string(*a.exit_code) : "-") << a.error << "\n";
    // Under a step that failed, the last lines it wrote (stderr, else
    // stdout), as `runbook run` showed them.
    if (std::optional<Tail> tail = failed_tail(a)) {
      const char* mark = tail->stream == journal::Stream::kStderr ? "! " : "| ";
      for (const auto& line : tail->lines) env.out << std::string(30, ' ') << mark << line << "\n";
    }
  }
  if (!findings->empty()) {
    env.out << "findings:\n";
    for (const auto& f : *findings)
      env.out << "  " << std::left << std::setw(9) << journal::ToString(f.level) << f.step_id << ": " << f.message
              << (f.value.empty() ? "" : " (value " + f.value + (f.threshold.empty() ? "" : ", threshold " + f.threshold) + ")")
              << "\n";
  }
  if (!approvals->empty()) {
    env.out << "approvals:\n";
    for (const auto& a : *approvals)
      env.out << "  " << Time(a.ts_us) << "  " << a.step_id << ": " << journal::ToString(a.decision) << " by "
              << a.approver << " (" << a.os_user << ")" << (a.inputs_json == "{}" ? "" : " " + a.inputs_json)
              << (a.comment.empty() ? "" : " — " + a.comment) << "\n";
  }
  if (r.status == journal::RunStatus::kWaiting) {
    for (const auto& s : order)
      if (last[s]->status == journal::AttemptStatus::kWaiting)
        env.out << "waiting:  " << s << "  (" << DecideHint(PendingDecisions(*j, r.id, s), r.id, s) << ")\n";
  }
  if (!notes.empty()) {
    env.out << "notes:\n";
    for (const auto* e : notes) env.out << "  " << Time(e->ts_us) << "  " << note_author(*e) << ": " << e->message << "\n";
  }
  if (r.outputs_json != "{}") {
    env.out << "outputs:\n";
    auto v = ParseOr(r.outputs_json);
    if (v.is_object())
      for (const auto& [k, val] : v.as_object())
        env.out << "  " << std::string(k) << " = " << JsonText(val) << "\n";
  }
  return kExitOk;
}

// --- logs ---------------------------------------------------------------------
struct LogsOptions {
  std::string run, step;
  bool follow = false;
  bool raw = false;
};

int RunLogs(CliEnv& env, const LogsOptions& opt) {
  auto j = env.OpenJournal();
  if (!j) return kExitFailed;
  auto id = j->ResolveRunRef(opt.run);
  if (!id.ok()) {
    env.Error(id.status().message());
    return kExitUsage;
  }
  std::optional<std::string> step;
  if (!opt.step.empty()) step = opt.step;
  int64_t cursor = 0;
  std::map<std::string, std::string> partial;  // per step+stream
  std::map<std::string, std::string> partial_ts;
  auto print = [&](const journal::OutputChunk& c) {
    if (opt.raw) {
      env.out.write(c.data.data(), static_cast<std::streamsize>(c.data.size()));
      return;
    }
    std::string key = c.step_id + (c.stream == journal::Stream::kStderr ? " ! " : " | ");
    std::string& buf = partial[key];
    buf += c.data;
    // One erase per chunk, not per line (that is quadratic in the chunk size).
    const std::string ts = Time(c.ts_us);
    size_t start = 0, nl;
    while ((nl = buf.find('\n', start)) != std::string::npos) {
      env.out << ts << " " << key;
      env.out.write(buf.data() + start, static_cast<std::streamsize>(nl - start));
      env.out << "\n";
      start = nl + 1;
    }
    buf.erase(0, start);
    if (!buf.empty()) partial_ts[key] = ts;
  };
  // Chunks are up to 64 KiB: a small batch keeps `logs` of a huge output in
  // a few MB of memory (1000 chunks at once peaked above 64 MB).
  constexpr size_t kChunksPerQuery = 64;
  bool run_over = false;
  while (true) {
    auto chunks = j->GetOutput(*id, step, cursor, kChunksPerQuery);
    if (!chunks.ok()) {
      env.Error(chunks.status().message());
      return kExitFailed;
    }
    for (const auto& c : *chunks) {
      print(c);
      cursor = c.rowid;
    }
    env.out.flush();
    if (!chunks->empty()) continue;
    if (!opt.follow || run_over) break;
    auto run = j->GetRun(*id);
    if (!run.ok() || journal::IsFinished(run->status) || run->status == journal::RunStatus::kWaiting) {
      // One last pass (in batches) for chunks committed together with the
      // end of the run.
      run_over = true;
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!opt.raw)
    for (const auto& [key, rest] : partial)
      if (!rest.empty()) env.out << partial_ts[key] << " " << key << rest << "\n";  // no final newline
  return kExitOk;
}

}  // namespace

void RegisterHistory(CLI::App& app, CliEnv& env) {
  auto ro = std::make_shared<RunsOptions>();
  auto* runs = app.add_subcommand("runs", "Run history, newest first");
  runs->add_option("--runbook", ro->runbook, "Only runs of this runbook");
  runs->add_option("--status", ro->status, "Only runs with this status");
  runs->add_option("--since", ro->since, "Only runs started since (2h, 7d, or ISO-8601)");
  runs->add_option("--incident", ro->incident, "Only runs of this incident");
  runs->add_option("--limit", ro->limit, "At most this many runs (default 20; 0 = all)");
  runs->callback([&env, ro] { env.exit_code = RunRuns(env, *ro); });

  auto ref = std::make_shared<std::string>();
  auto* show = app.add_subcommand("show", "One run: steps, statuses, durations, exit codes, findings, approvals, notes, outputs");
  show->add_option("run", *ref, "Run id, unique prefix, or 'last'")->required();
  show->callback([&env, ref] { env.exit_code = RunShow(env, *ref); });

  auto lo = std::make_shared<LogsOptions>();
  auto* logs = app.add_subcommand("logs", "Captured output of a run (or one step), with timestamps");
  logs->add_option("run", lo->run, "Run id, unique prefix, or 'last'")->required();
  logs->add_option("step", lo->step, "Only this step");
  logs->add_flag("-f,--follow", lo->follow, "Keep printing new output until the run ends");
  logs->add_flag("--raw", lo->raw, "Byte-exact output, no timestamps");
  logs->callback([&env, lo] { env.exit_code = RunLogs(env, *lo); });
}

}  // namespace runbook::cli
