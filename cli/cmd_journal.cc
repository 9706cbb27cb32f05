// Journal maintenance: `runbook journal verify` (the hash chain, integrity,
// source and output digests), `runbook journal prune` (retention, with an
// archive and a chain anchor) and `runbook journal backup` (a consistent
// copy, verified). `journal export` is registered from cmd_export.cc.
#include <boost/json.hpp>
#include <chrono>
#include <ostream>

#include "cli/cli.h"
#include "engine/json_text.h"
#include "engine/values.h"
#include "journal/backup.h"
#include "journal/chain.h"
#include "journal/identity.h"
#include "journal/path.h"
#include "journal/prune.h"
#include "journal/spill.h"
#include "journal/verify.h"

namespace runbook::cli {
namespace {

std::string JournalPath(const CliEnv& env) {
  return env.globals.journal.empty() ? journal::DefaultJournalPath() : env.globals.journal;
}

std::string Time(int64_t us) { return IsoUtcMicros(us); }

std::string Bytes(int64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// --- verify ---------------------------------------------------------------------
struct VerifyOptions {
  std::vector<std::string> runs;
  std::string expect_head;
};

boost::json::object VerifyJson(const std::string& path, const journal::VerifyReport& r) {
  boost::json::array problems;
  for (const auto& p : r.problems)
    problems.push_back({{"seq", p.seq}, {"run_id", p.run_id}, {"step_id", p.step_id}, {"message", p.message}});
  boost::json::array stray;
  for (const auto& d : r.stray_spill_dirs) stray.push_back(boost::json::value(d));
  return {{"journal", path},
          {"ok", r.ok},
          {"events_checked", r.events_checked},
          {"legacy_events", r.legacy_events},
          {"pruned_gaps", r.pruned_gaps},
          {"runs_checked", r.runs_checked},
          {"attempts_checked", r.attempts_checked},
          {"first_bad_seq", r.first_bad_seq},
          {"head", {{"seq", r.last_seq}, {"hash", r.head_hash}}},
          {"problems_found", r.problems_found},
          {"problems", std::move(problems)},
          {"stray_spill_dirs", std::move(stray)}};
}

int RunVerify(CliEnv& env, const VerifyOptions& opt) {
  std::string path = JournalPath(env);
  std::optional<std::vector<std::string>> runs;
  if (!opt.runs.empty()) runs = opt.runs;
  auto report = journal::VerifyJournal(path, runs, opt.expect_head);
  if (!report.ok()) {
    env.Error(report.status().message());
    return kExitFailed;
  }
  const journal::VerifyReport& r = *report;
  if (env.globals.json) {
    env.out << JsonText(VerifyJson(path, r)) << "\n";
    return r.ok ? kExitOk : kExitFailed;
  }
  if (r.ok) {
    env.out << "journal " << path << ": verified\n";
  } else {
    env.out << "journal " << path << ": BROKEN, " << r.problems_found << " problem(s)";
    if (r.first_bad_seq) env.out << "; first broken row: event seq " << r.first_bad_seq;
    env.out << "\n";
    for (const auto& p : r.problems) env.out << "  " << p.message << "\n";
    if (r.problems_found > static_cast<int64_t>(r.problems.size()))
      env.out << "  ... and " << (r.problems_found - static_cast<int64_t>(r.problems.size())) << " more\n";
  }
  env.out << "  events:  " << r.events_checked << " checked";
  if (r.pruned_gaps) env.out << ", " << r.pruned_gaps << " pruned gap(s) covered by anchors";
  if (r.legacy_events) env.out << ", " << r.legacy_events << " written before the hash chain (not verifiable)";
  env.out << "\n  runs:    " << r.runs_checked << " checked (source hashes, rows against their events)\n"
          << "  output:  " << r.attempts_checked << " attempt(s) re-hashed from output_chunks\n";
  if (r.last_seq) {
    env.out << "  head:    " << r.last_seq << ":" << r.head_hash << "\n"
            << "           keep it; `runbook journal verify --expect-head " << r.last_seq << ":" << r.head_hash
            << "` later detects removed last events\n";
  }
  for (const auto& d : r.stray_spill_dirs)
    env.out << "  note:    " << d << " holds spill files of a run that is not in this journal (left by an\n"
            << "           interrupted prune, or copied from elsewhere); not this journal's evidence: inspect it and\n"
            << "           remove it by hand\n";
  return r.ok ? kExitOk : kExitFailed;
}

// --- prune ----------------------------------------------------------------------
struct PruneCliOptions {
  std::string older_than;
  int keep_runs = 0;
  std::string archive;
  bool dry_run = false;
};

int RunPrune(CliEnv& env, const PruneCliOptions& opt) {
  auto cutoff = ParseTimeArg(opt.older_than);
  if (!cutoff.ok()) {
    env.Error("--older-than: " + cutoff.status().message());
    return kExitUsage;
  }
  if (opt.keep_runs < 0) {
    env.Error("--keep-runs must be 0 or more");
    return kExitUsage;
  }
  std::string path = JournalPath(env);
  {
    // Marks the runs of dead engines interrupted (and migrates) first.
    auto j = env.OpenJournal();
    if (!j) return kExitFailed;
  }
  journal::PruneOptions o;
  o.finished_before_us = *cutoff;
  o.keep_runs = opt.keep_runs;
  o.archive_path = opt.archive;
  o.dry_run = opt.dry_run;
  o.actor = journal::LocalActor();
  auto report = journal::PruneJournal(path, o);
  if (!report.ok()) {
    env.Error(report.status().message());
    return kExitFailed;
  }
  const journal::PruneReport& r = *report;
  for (const std::string& w : r.warnings) env.err << "runbook: warning: " << w << "\n";
  if (env.globals.json) {
    boost::json::object j = {{"journal", path},
                             {"dry_run", opt.dry_run},
                             {"finished_before", Time(*cutoff)},
                             {"runs", boost::json::array(r.run_ids.begin(), r.run_ids.end())},
                             {"events", r.events},
                             {"attempts", r.attempts},
                             {"output_chunks", r.output_chunks},
                             {"output_bytes", r.output_bytes},
                             {"spill_files", r.spill_files},
                             {"findings", r.findings},
                             {"approvals", r.approvals},
                             {"anchor_seq", r.anchor_seq},
                             {"archive", opt.dry_run || r.run_ids.empty() ? "" : opt.archive}};
    env.out << JsonText(j) << "\n";
    return kExitOk;
  }
  if (r.run_ids.empty()) {
    env.out << "nothing to prune: no finished run ended before " << Time(*cutoff)
            << (opt.keep_runs ? " beyond the " + std::to_string(opt.keep_runs) + " newest of each runbook" : "")
            << "\n";
    return kExitOk;
  }
  env.out << (opt.dry_run ? "would prune " : "pruned ") << r.run_ids.size() << " run(s) that finished before "
          << Time(*cutoff) << ": " << r.events << " events, " << r.attempts << " attempts, " << r.output_chunks
          << " output chunks (" << Bytes(r.output_bytes) << "), " << r.findings << " findings, " << r.approvals
          << " approvals\n";
  if (opt.dry_run) {
    for (const auto& id : r.run_ids) env.out << "  " << id << "\n";
    return kExitOk;
  }
  if (!opt.archive.empty()) env.out << "archived to " << opt.archive << "\n";
  env.out << "anchor: event seq " << r.anchor_seq << " (" << journal::kPrunedEventKind << ") records the "
          << r.gaps << " gap(s) in the hash chain\n";
  return kExitOk;
}

// --- backup ---------------------------------------------------------------------
int RunBackup(CliEnv& env, const std::string& dest) {
  std::string path = JournalPath(env);
  auto report = journal::BackupJournal(path, dest);
  if (!report.ok()) {
    env.Error("journal backup: " + report.status().message());
    return kExitFailed;
  }
  const journal::BackupReport& b = *report;
  for (const std::string& w : b.warnings) env.err << "runbook: warning: " << w << "\n";
  // The copy is checked as a reviewer would check it.
  auto verified = journal::VerifyJournal(dest);
  if (!verified.ok()) {
    env.Error("journal backup: " + dest + " was written but cannot be verified: " + verified.status().message());
    return kExitFailed;
  }
  const journal::VerifyReport& v = *verified;
  if (env.globals.json) {
    boost::json::object j = {{"journal", path},
                             {"backup", dest},
                             {"runs", b.runs},
                             {"events", b.events},
                             {"spill_files", b.spill_files},
                             {"warnings", boost::json::array(b.warnings.begin(), b.warnings.end())},
                             {"verify", VerifyJson(dest, v)}};
    env.out << JsonText(j) << "\n";
    return v.ok ? kExitOk : kExitFailed;
  }
  env.out << "backup of " << path << " written to " << dest << ": " << b.runs << " run(s), " << b.events
          << " events, " << b.spill_files << " spill file(s)"
          << (b.spill_files ? " in " + journal::SpillDirFor(dest) : "") << "\n";
  if (v.ok) {
    env.out << "  verified: " << v.events_checked << " events, " << v.attempts_checked
            << " attempt(s) of output re-hashed";
    if (v.last_seq) env.out << "; head " << v.last_seq << ":" << v.head_hash;
    env.out << "\n";
  } else {
    env.out << "  the copy is BROKEN as the journal was, " << v.problems_found
            << " problem(s): `runbook --journal " << dest << " journal verify` lists them\n";
  }
  return v.ok ? kExitOk : kExitFailed;
}

}  // namespace

void RegisterJournal(CLI::App& app, CliEnv& env) {
  auto* cmd = app.add_subcommand("journal", "Journal maintenance: verify, export, prune, backup");
  cmd->require_subcommand(1);

  auto vopt = std::make_shared<VerifyOptions>();
  auto* verify = cmd->add_subcommand(
      "verify", "Check the hash chain, PRAGMA integrity_check, runbook source hashes and output digests");
  verify->add_option("--run", vopt->runs, "Limit the per-run checks to these runs (the chain is always checked whole)");
  verify->add_option("--expect-head", vopt->expect_head,
                     "SEQ:HASH printed by an earlier verify; fails if that event is no longer in the chain");
  verify->callback([&env, vopt] { env.exit_code = RunVerify(env, *vopt); });

  auto popt = std::make_shared<PruneCliOptions>();
  auto* prune = cmd->add_subcommand("prune", "Remove finished runs older than a cutoff (archive first if asked)");
  prune->add_option("--older-than", popt->older_than, "Age (90d, 12h) or date: runs that finished before it")
      ->required();
  prune->add_option("--keep-runs", popt->keep_runs, "Always keep the N newest runs of each runbook");
  prune->add_option("--archive", popt->archive, "Copy the runs to this journal file (created 0600) first");
  prune->add_flag("--dry-run", popt->dry_run, "Show what would be removed; change nothing");
  prune->callback([&env, popt] { env.exit_code = RunPrune(env, *popt); });

  auto dest = std::make_shared<std::string>();
  auto* backup = cmd->add_subcommand(
      "backup", "Copy the journal and its spill files consistently while runs go on, then verify the copy");
  backup->add_option("DEST", *dest, "The copy's path (must not exist; its spill files go to DEST.blobs)")
      ->required();
  backup->callback([&env, dest] { env.exit_code = RunBackup(env, *dest); });

  RegisterJournalExport(*cmd, env);
}

}  // namespace runbook::cli
