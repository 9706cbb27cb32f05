// The operator's commands on a run that exists (SPEC.md §2, §5):
//   runbook approve RUN STEP [--as NAME] [--input k=v...] [--reject] [--comment TEXT]
//   runbook resume RUN [--from STEP] [--allow-changed] [--yes]
//   runbook cancel RUN [--wait DURATION]
//   runbook note RUN TEXT [--as NAME]
// Each records who did it (user@host, and the --as name) in the journal.
#include <signal.h>

#include <fmt/ranges.h>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/cli.h"
#include "cli/pending.h"
#include "cli/prompter.h"
#include "cli/run_session.h"
#include "engine/duration.h"
#include "engine/json_text.h"
#include "engine/loader.h"
#include "engine/params.h"
#include "engine/secrets.h"
#include "journal/identity.h"
#include "journal/sha256.h"

namespace runbook::cli {
namespace {

// The run's own runbook, compiled from the source recorded in the journal.
std::optional<CompiledRunbook> CompileRecorded(CliEnv& env, const journal::RunRecord& run) {
  Diagnostics diags;
  auto spec = LoadRunbookText(run.source_text, run.source_path.empty() ? run.runbook : run.source_path, env.types,
                              diags);
  std::optional<CompiledRunbook> compiled;
  if (spec) compiled = Compile(std::move(*spec), env.types, diags);
  if (diags.has_errors()) {
    env.PrintDiagnostics(diags);
    return std::nullopt;
  }
  return compiled;
}

void AppendEvent(journal::Journal& j, const std::string& run, const std::string& step, const std::string& kind,
                 const std::string& message, boost::json::object data = {}) {
  journal::EventRecord e;
  e.run_id = run;
  e.step_id = step;
  e.kind = kind;
  e.actor = journal::LocalActor();
  e.message = message;
  e.data_json = JsonText(data);
  j.AppendEvent(std::move(e));
}

// ---------------------------------------------------------------- approve --
struct ApproveOptions {
  std::string run, step, as, comment;
  std::vector<std::string> inputs;
  bool reject = false;
};

int Approve(CliEnv& env, const ApproveOptions& opt) {
  auto j = env.OpenJournal();
  if (!j) return kExitFailed;
  auto id = j->ResolveRunRef(opt.run);
  if (!id.ok()) return env.Error(id.status().message()), kExitUsage;
  auto run = j->GetRun(*id);
  if (!run.ok()) return env.Error(run.status().message()), kExitFailed;
  if (run->status != journal::RunStatus::kWaiting && run->status != journal::RunStatus::kRunning) {
    env.Error("run " + *id + " is " + std::string(journal::ToString(run->status)) + "; only a waiting run takes approvals");
    return kExitUsage;
  }
  auto attempts = j->GetAttempts(*id);
  if (!attempts.ok()) return env.Error(attempts.status().message()), kExitFailed;
  const journal::AttemptRecord* last = nullptr;
  for (const auto& a : *attempts)
    if (a.step_id == opt.step && (!last || a.attempt > last->attempt)) last = &a;
  if (!last) {
    env.Error("run " + *id + " has no step '" + opt.step + "' that has started");
    return kExitUsage;
  }
  if (last->status == journal::AttemptStatus::kWaiting) {
    std::vector<PendingDecision> pending = PendingDecisions(*j, *id, opt.step);
    if (!pending.empty() && pending.front().run_id != *id) {
      env.Error("step '" + opt.step + "' of run " + *id + " waits for its child run " + pending.front().run_id +
                ", not for a decision of its own; decide there: " + DecideHint(pending, *id, opt.step));
      return kExitUsage;
    }
  }
  if (last->status != journal::AttemptStatus::kWaiting) {
    env.Error("step '" + opt.step + "' of run " + *id + " is not waiting for an approval (it is " +
              std::string(journal::ToString(last->status)) + ")");
    return kExitUsage;
  }
  auto rb = CompileRecorded(env, *run);
  if (!rb) return kExitFailed;
  const CompiledStep* cs = nullptr;
  for (const auto& s : rb->steps)
    if (s.id() == opt.step) cs = &s;
  std::optional<ApprovalSpec> spec;
  if (cs && cs->spec->type == "approval") {
    spec.emplace();
    Diagnostics ignored;
    ReadApprovalFields(cs->spec->fields, "", *spec, ignored);
  } else if (cs && cs->spec->approval) {
    spec = cs->spec->approval;
  }
  if (!spec) {
    env.Error("step '" + opt.step + "' of run " + *id +
              " does not ask for an approval (a `runbook` step waits for its child run: approve the child's step)");
    return kExitUsage;
  }
  const std::string name = opt.as.empty() ? journal::UserName() : opt.as;
  if (!spec->approvers.empty() &&
      std::find(spec->approvers.begin(), spec->approvers.end(), name) == spec->approvers.end()) {
    env.Error(fmt::format("'{}' may not decide step '{}' (approvers: {})", name, opt.step,
                          fmt::join(spec->approvers, ", ")));
    return kExitUsage;
  }
  // Decisions already made for this request.
  int64_t requested_at = 0;
  if (auto events = j->GetEvents(*id); events.ok())
    for (const auto& e : *events)
      if (e.kind == "approval_requested" && e.step_id == opt.step && e.attempt == last->attempt) requested_at = e.ts_us;
  if (auto decided = j->GetApprovals(*id); decided.ok()) {
    for (const auto& d : *decided)
      if (d.step_id == opt.step && d.ts_us >= requested_at && d.approver == name) {
        env.Error("'" + name + "' has already decided step '" + opt.step + "' of run " + *id + " (" +
                  std::string(journal::ToString(d.decision)) + ")");
        return kExitUsage;
      }
  }
  boost::json::object inputs;
  if (!opt.reject) {
    std::vector<std::pair<std::string, std::string>> given;
    for (const auto& kv : opt.inputs) {
      std::string k, v;
      if (!SplitAssignment(kv, k, v)) {
        env.Error("--input expects KEY=VALUE, got '" + kv + "'");
        return kExitUsage;
      }
      given.emplace_back(k, v);
    }
    std::string error;
    auto parsed = ParseApprovalInputs(spec->inputs, given, error);
    if (!parsed) {
      env.Error("step '" + opt.step + "': " + error);
      return kExitUsage;
    }
    inputs = std::move(*parsed);
  } else if (!opt.inputs.empty()) {
    env.Error("--input is for approving; a rejection takes only --comment");
    return kExitUsage;
  }
  journal::ApprovalRecord r;
  r.run_id = *id;
  r.step_id = opt.step;
  r.decision = opt.reject ? journal::Decision::kRejected : journal::Decision::kApproved;
  r.approver = name;
  r.os_user = journal::LocalActor();
  r.inputs_json = JsonText(inputs);
  r.comment = opt.comment;
  r.ts_us = journal::NowMicros();
  j->AddApproval(std::move(r));
  const std::string verb = opt.reject ? "rejected" : "approved";
  AppendEvent(*j, *id, opt.step, "approval_decided",
              verb + " by " + name + (opt.comment.empty() ? "" : ": " + opt.comment),
              {{"decision", verb}, {"approver", name}, {"inputs", inputs}});
  Status s = j->Close();
  if (!s.ok()) return env.Error(s.message()), kExitFailed;
  if (env.globals.json) {
    env.out << JsonText(boost::json::object{
                   {"run_id", *id}, {"step", opt.step}, {"decision", verb}, {"approver", name}, {"inputs", inputs}})
            << "\n";
  } else {
    env.out << verb << " step " << opt.step << " of run " << *id << " as " << name << "\n";
    // A child run is continued by resuming its parent (which resumes the same
    // child): name the outermost run that waits on it.
    std::string top = *id;
    journal::RunRecord at = *run;
    for (int depth = 0; depth < 8 && !at.parent_run.empty(); ++depth) {
      auto parent = j->GetRun(at.parent_run);
      if (!parent.ok() || parent->status != journal::RunStatus::kWaiting) break;
      top = parent->id;
      at = std::move(*parent);
    }
    env.err << "continue the run with: runbook resume " << top
            << (top == *id ? "" : " (the run that started run " + *id + ")") << "\n";
  }
  return kExitOk;
}

// ----------------------------------------------------------------- resume --
struct ResumeOptions {
  std::string run, from;
  bool allow_changed = false, yes = false, show_output = false;
  int max_parallel = 0;
};

int Resume(CliEnv& env, const ResumeOptions& opt) {
  auto j = env.OpenJournal();
  if (!j) return kExitFailed;
  auto id = j->ResolveRunRef(opt.run);
  if (!id.ok()) return env.Error(id.status().message()), kExitUsage;
  auto run = j->GetRun(*id);
  if (!run.ok()) return env.Error(run.status().message()), kExitFailed;
  if (run->status == journal::RunStatus::kRunning) {
    env.Error("run " + *id + " is still running (pid " + std::to_string(run->process.pid) + " on " +
              run->process.host + "); cancel it first or wait");
    return kExitUsage;
  }
  if (run->status == journal::RunStatus::kSucceeded && opt.from.empty()) {
    env.Error("run " + *id + " succeeded; nothing to resume (use --from STEP to run part of it again)");
    return kExitUsage;
  }
  // The runbook as it is now, compared with what the run started with.
  std::string note;
  std::optional<CompiledRunbook> rb;
  auto path = env.catalog().Resolve(run->runbook);
  std::string current_text;
  if (path.ok()) {
    std::ifstream f(*path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    current_text = ss.str();
  }
  if (!path.ok() || current_text.empty()) {
    note = "runbook file not found; resumed with the source recorded in the journal";
    env.err << "runbook: note: " << note << "\n";
    rb = CompileRecorded(env, *run);
  } else if (journal::Sha256Hex(current_text) != run->content_hash) {
    std::string now_hash = journal::Sha256Hex(current_text);
    if (!opt.allow_changed) {
      env.Error("runbook '" + run->runbook + "' changed since run " + *id + " started (" + *path + ": sha256 " +
                run->content_hash.substr(0, 12) + " -> " + now_hash.substr(0, 12) +
                "); review the change, then resume with --allow-changed");
      return kExitUsage;
    }
    note = "runbook changed since the run started (sha256 " + run->content_hash.substr(0, 12) + " -> " +
           now_hash.substr(0, 12) + "); resumed with --allow-changed";
    rb = env.LoadCompiled(*path);
  } else {
    rb = env.LoadCompiled(*path);
  }
  if (!rb) return kExitUsage;
  if (!opt.from.empty()) {
    const CompiledStep* from = nullptr;
    for (const auto& s : rb->steps)
      if (s.id() == opt.from) from = &s;
    if (!from || from->block != Block::kMain) {
      env.Error("--from: runbook '" + rb->spec.name + "' has no step '" + opt.from + "' in 'steps'");
      return kExitUsage;
    }
  }
  auto params = boost::json::parse(run->params_json);
  Diagnostics secret_diags;
  auto secrets = ResolveSecrets(rb->spec, secret_diags);
  env.PrintDiagnostics(secret_diags);
  if (secret_diags.has_errors()) return kExitUsage;
  RunRequest req;
  req.runbook = &*rb;
  req.params = params.is_object() ? params.as_object() : boost::json::object{};
  req.secrets = std::move(secrets.values);
  req.missing_secrets = std::move(secrets.missing);
  req.trigger = run->trigger;
  req.incident = run->incident;
  req.parent_run = run->parent_run;
  req.max_parallel = opt.max_parallel;
  req.resume_run_id = *id;
  req.resume_from = opt.from;
  req.resume_note = note;
  return ExecuteRun(env, *j, std::move(req), SessionOptions{opt.yes, opt.show_output});
}

// ----------------------------------------------------------------- cancel --
struct CancelOptions {
  std::string run;
  std::string wait = "30s";
};

int Cancel(CliEnv& env, const CancelOptions& opt) {
  auto limit = ParseDuration(opt.wait);
  if (!limit) return env.Error("--wait: invalid duration '" + opt.wait + "'"), kExitUsage;
  auto j = env.OpenJournal();
  if (!j) return kExitFailed;
  auto id = j->ResolveRunRef(opt.run);
  if (!id.ok()) return env.Error(id.status().message()), kExitUsage;
  auto run = j->GetRun(*id);
  if (!run.ok()) return env.Error(run.status().message()), kExitFailed;
  const std::string who = journal::LocalActor();
  if (journal::IsFinished(run->status)) {
    env.Error("run " + *id + " has already ended (" + std::string(journal::ToString(run->status)) + ")");
    return kExitFailed;
  }
  if (run->status == journal::RunStatus::kWaiting) {
    // Nobody executes it: cancel it here.
    const int64_t now = journal::NowMicros();
    AppendEvent(*j, *id, "", "cancel", "cancelled by " + who + " while waiting for an approval");
    auto attempts = j->GetAttempts(*id);
    if (attempts.ok()) {
      for (auto a : *attempts) {
        if (a.status != journal::AttemptStatus::kWaiting) continue;
        a.status = journal::AttemptStatus::kCancelled;
        a.finished_at_us = now;
        a.error = "cancelled while waiting, by " + who;
        journal::EventRecord e;  // as the engine records a step's end (journal verify compares them)
        e.run_id = *id;
        e.step_id = a.step_id;
        e.attempt = a.attempt;
        e.kind = "step_finished";
        e.actor = who;
        e.message = a.error;
        e.data_json = R"({"status":"cancelled"})";
        j->AppendEvent(std::move(e));
        j->PutAttempt(std::move(a));
      }
    }
    AppendEvent(*j, *id, "", "run_finished", "run cancelled", {{"status", "cancelled"}, {"finished_at", now}});
    j->FinishRun(*id, journal::RunStatus::kCancelled, now, std::nullopt, run->outputs_json, "cancelled by " + who);
    Status s = j->Close();
    if (!s.ok()) return env.Error(s.message()), kExitFailed;
    env.out << "run " << *id << " cancelled\n";
    return kExitOk;
  }
  // Running in an engine process: ask it to stop, as Ctrl-C would.
  if (run->process.host != journal::HostName()) {
    env.Error("run " + *id + " runs on host " + run->process.host + "; cancel it there");
    return kExitFailed;
  }
  if (!journal::ProcessIsAlive(run->process)) {
    env.Error("the process of run " + *id + " is gone; the run will be marked interrupted");
    return kExitFailed;
  }
  if (!run->parent_run.empty())
    env.err << "runbook: note: run " << *id << " is a child of run " << run->parent_run
            << ", which runs in the same process: the parent is cancelled too\n";
  AppendEvent(*j, *id, "", "cancel_requested", "cancel requested by " + who);
  Status s = j->SyncBlocking();
  if (!s.ok()) return env.Error(s.message()), kExitFailed;
  if (kill(static_cast<pid_t>(run->process.pid), SIGTERM) != 0) {
    env.Error("cannot signal process " + std::to_string(run->process.pid) + ": " + strerror(errno));
    return kExitFailed;
  }
  auto deadline = std::chrono::steady_clock::now() + *limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = j->GetRun(*id);
    if (now.ok() && journal::IsFinished(now->status)) {
      env.out << "run " << *id << " " << journal::ToString(now->status) << "\n";
      (void)j->Close();
      return kExitOk;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (void)j->Close();
  env.err << "runbook: run " << *id << " was asked to stop and is still finishing ('finally' steps may run)\n";
  env.out << "run " << *id << " cancelling\n";
  return kExitOk;
}

// ------------------------------------------------------------------- note --
int Note(CliEnv& env, const std::string& ref, const std::string& text, const std::string& as) {
  if (text.empty()) return env.Error("a note needs text"), kExitUsage;
  auto j = env.OpenJournal();
  if (!j) return kExitFailed;
  auto id = j->ResolveRunRef(ref);
  if (!id.ok()) return env.Error(id.status().message()), kExitUsage;
  const std::string author = as.empty() ? journal::UserName() : as;
  AppendEvent(*j, *id, "", "note", text, {{"author", author}});
  Status s = j->Close();
  if (!s.ok()) return env.Error(s.message()), kExitFailed;
  env.out << "noted on run " << *id << " by " << author << "\n";
  return kExitOk;
}

}  // namespace

void RegisterOperator(CLI::App& app, CliEnv& env) {
  {
    auto opt = std::make_shared<ApproveOptions>();
    auto* cmd = app.add_subcommand("approve", "Decide a pending approval; recorded in the journal");
    cmd->add_option("run", opt->run, "Run id, unique prefix, or 'last'")->required();
    cmd->add_option("step", opt->step, "The step waiting for approval")->required();
    cmd->add_option("--as", opt->as, "The approver's name (default: your user name); recorded with user@host");
    cmd->add_option("--input", opt->inputs, "Input value KEY=VALUE (repeatable)");
    cmd->add_flag("--reject", opt->reject, "Reject instead of approving");
    cmd->add_option("--comment", opt->comment, "Why; recorded with the decision");
    cmd->callback([&env, opt] { env.exit_code = Approve(env, *opt); });
  }
  {
    auto opt = std::make_shared<ResumeOptions>();
    auto* cmd = app.add_subcommand("resume", "Continue a failed, interrupted, cancelled or waiting run");
    cmd->add_option("run", opt->run, "Run id, unique prefix, or 'last'")->required();
    cmd->add_option("--from", opt->from, "Run this step and everything downstream of it again");
    cmd->add_flag("--allow-changed", opt->allow_changed, "Resume even though the runbook changed since the run started");
    cmd->add_flag("--yes", opt->yes, "Approve approvals this user may give, with their inputs' defaults, without asking");
    cmd->add_flag("--show-output", opt->show_output, "Echo step output as it arrives");
    cmd->add_option("--max-parallel", opt->max_parallel, "Steps running at once (default: number of CPUs)");
    cmd->callback([&env, opt] { env.exit_code = Resume(env, *opt); });
  }
  {
    auto opt = std::make_shared<CancelOptions>();
    auto* cmd = app.add_subcommand("cancel", "Cancel a run that another process executes, or a waiting run");
    cmd->add_option("run", opt->run, "Run id, unique prefix, or 'last'")->required();
    cmd->add_option("--wait", opt->wait, "How long to wait for the run to end (default 30s)");
    cmd->callback([&env, opt] { env.exit_code = Cancel(env, *opt); });
  }
  {
    auto run = std::make_shared<std::string>();
    auto text = std::make_shared<std::string>();
    auto as = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("note", "Add a human entry to a run's timeline");
    cmd->add_option("run", *run, "Run id, unique prefix, or 'last'")->required();
    cmd->add_option("text", *text, "The note")->required();
    cmd->add_option("--as", *as, "Author name (default: your user name); recorded with user@host");
    cmd->callback([&env, run, text, as] { env.exit_code = Note(env, *run, *text, *as); });
  }
}

}  // namespace runbook::cli
