#include "report/export_model.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>

namespace runbook::report {

namespace {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int Severity(journal::FindingLevel l) {
  switch (l) {
    case journal::FindingLevel::kCritical: return 0;
    case journal::FindingLevel::kWarning: return 1;
    case journal::FindingLevel::kInfo: return 2;
  }
  return 3;
}

// Lower is worse: the precedence of outcome().
int Badness(journal::RunStatus s) {
  switch (s) {
    case journal::RunStatus::kFailed: return 0;
    case journal::RunStatus::kCancelled: return 1;
    case journal::RunStatus::kInterrupted: return 2;
    case journal::RunStatus::kWaiting: return 3;
    case journal::RunStatus::kRunning: return 4;
    case journal::RunStatus::kSucceeded: return 5;
  }
  return 6;
}

std::string Title(const Selection& sel, const std::vector<journal::RunRecord>& runs, const TimeRenderer& times) {
  if (!sel.incident.empty()) return "Incident " + sel.incident;
  if (sel.since_us) {
    return "Runs from " + times.Format(*sel.since_us) + (sel.until_us ? " to " + times.Format(*sel.until_us) : "");
  }
  std::set<std::string> incidents;
  for (const auto& r : runs) incidents.insert(r.incident);
  if (incidents.size() == 1 && !runs.empty() && !runs.front().incident.empty() &&
      runs.front().incident != runs.front().id)
    return "Incident " + runs.front().incident;
  if (runs.size() == 1) return "Run " + runs.front().id + " (" + runs.front().runbook + ")";
  return std::to_string(runs.size()) + " runs";
}

std::string SelectionText(const Selection& sel, const TimeRenderer& times) {
  std::string s;
  if (!sel.incident.empty()) {
    s = "every run of incident " + sel.incident;
  } else if (sel.since_us) {
    s = "runs started at or after " + times.Format(*sel.since_us);
    if (sel.until_us) s += " and before " + times.Format(*sel.until_us);
  } else {
    s = "runs";
    for (size_t i = 0; i < sel.runs.size(); ++i) s += (i ? ", " : " ") + sel.runs[i];
  }
  if (sel.with_children) s += ", with their child runs";
  return s;
}

// The output of one attempt, excerpted stream by stream.
Result<std::vector<OutputExcerpt>> Excerpts(EvidenceReader& reader, const journal::AttemptRecord& a, int lines) {
  std::vector<OutputExcerpt> out;
  for (journal::Stream stream : {journal::Stream::kStdout, journal::Stream::kStderr}) {
    ExcerptBuilder b(stream, lines);
    Status s = reader.ForEachChunk(a.run_id, a.step_id, a.attempt, stream, [&b](std::string_view data) {
      b.Feed(data);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    OutputExcerpt x = b.Finish();
    if (x.bytes == 0) continue;
    x.sha256 = stream == journal::Stream::kStdout ? a.stdout_digest.sha256 : a.stderr_digest.sha256;
    out.push_back(std::move(x));
  }
  return out;
}

Result<std::vector<Action>> Actions(const journal::Journal& journal, EvidenceReader& reader,
                                    const journal::RunRecord& run, const BuildOptions& options) {
  auto attempts = journal.GetAttempts(run.id);
  if (!attempts.ok()) return attempts.status();
  std::vector<StepDefinition> defs;
  if (options.describe) defs = options.describe(run);
  std::map<std::string, const StepDefinition*> def_by_id;
  for (const auto& d : defs) def_by_id[d.id] = &d;

  std::vector<Action> actions;
  std::map<std::string, size_t> index;  // step id -> actions[i]
  for (auto& a : *attempts) {
    auto [it, added] = index.try_emplace(a.step_id, actions.size());
    if (added) {
      Action act;
      act.run_id = run.id;
      act.step_id = a.step_id;
      act.block = a.block;
      if (auto d = def_by_id.find(a.step_id); d != def_by_id.end()) {
        act.title = d->second->title;
        act.type = d->second->type;
        act.command = d->second->command;
        act.definition_json = d->second->definition_json;
      }
      actions.push_back(std::move(act));
    }
    Action& act = actions[it->second];
    auto excerpts = Excerpts(reader, a, options.excerpt_lines);
    if (!excerpts.ok()) return excerpts.status();
    if (a.started_at_us && (!act.started_at_us || *a.started_at_us < *act.started_at_us))
      act.started_at_us = a.started_at_us;
    if (a.finished_at_us && (!act.finished_at_us || *a.finished_at_us > *act.finished_at_us))
      act.finished_at_us = a.finished_at_us;
    act.attempts.push_back({std::move(a), std::move(*excerpts)});
  }
  for (auto& act : actions) {
    std::stable_sort(act.attempts.begin(), act.attempts.end(),
                     [](const AttemptView& x, const AttemptView& y) { return x.record.attempt < y.record.attempt; });
    act.status = std::string(journal::ToString(act.attempts.back().record.status));
  }
  std::stable_sort(actions.begin(), actions.end(), [](const Action& x, const Action& y) {
    return x.started_at_us.value_or(INT64_MAX) < y.started_at_us.value_or(INT64_MAX);
  });
  // Steps the run never reached, in the runbook's order.
  for (const auto& d : defs) {
    if (index.count(d.id)) continue;
    Action act;
    act.run_id = run.id;
    act.step_id = d.id;
    act.block = d.block;
    act.title = d.title;
    act.type = d.type;
    act.command = d.command;
    act.definition_json = d.definition_json;
    act.status = journal::IsFinished(run.status) ? "not_run" : "pending";
    actions.push_back(std::move(act));
  }
  return actions;
}

// The "author" of a note event's data, else the user part of its actor.
std::string NoteAuthor(const journal::EventRecord& e) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(e.data_json, ec);
  if (!ec && v.is_object())
    if (const auto* a = v.as_object().if_contains("author"); a && a->is_string() && !a->as_string().empty())
      return std::string(a->as_string());
  return e.actor.substr(0, e.actor.find('@'));
}

}  // namespace

std::vector<std::string> ExportModel::run_ids() const {
  std::vector<std::string> ids;
  for (const auto& r : runs) ids.push_back(r.run.id);
  return ids;
}

const RunView* ExportModel::FindRun(const std::string& id) const {
  for (const auto& r : runs)
    if (r.run.id == id) return &r;
  return nullptr;
}

std::vector<std::string> ExportModel::incidents() const {
  std::vector<std::string> out;
  for (const auto& r : runs)
    if (!r.run.incident.empty() && std::find(out.begin(), out.end(), r.run.incident) == out.end())
      out.push_back(r.run.incident);
  return out;
}

journal::RunStatus ExportModel::outcome() const {
  journal::RunStatus worst = journal::RunStatus::kSucceeded;
  for (const auto& r : runs)
    if (Badness(r.run.status) < Badness(worst)) worst = r.run.status;
  return worst;
}

Result<std::vector<journal::RunRecord>> SelectRuns(const journal::Journal& journal, const Selection& sel,
                                                   const TimeRenderer& times) {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  auto add = [&](const std::string& id) {
    if (seen.insert(id).second) ids.push_back(id);
  };
  if (!sel.runs.empty()) {
    for (const auto& ref : sel.runs) {
      auto id = journal.ResolveRunRef(ref);
      if (!id.ok()) return Status::InvalidArgument(id.status().message());
      add(*id);
    }
  } else if (!sel.incident.empty() || sel.since_us) {
    journal::RunFilter f;
    f.incident = sel.incident;
    if (sel.incident.empty()) {
      f.since_us = sel.since_us;
      f.until_us = sel.until_us;
    }
    auto runs = journal.ListRuns(f);
    if (!runs.ok()) return runs.status();
    if (runs->empty()) {
      if (!sel.incident.empty()) return Status::NotFound("no runs of incident '" + sel.incident + "' in the journal");
      return Status::NotFound("no runs started " +
                              (sel.until_us ? "between " + times.Format(*sel.since_us) + " and " +
                                                  times.Format(*sel.until_us)
                                            : "since " + times.Format(*sel.since_us)));
    }
    for (const auto& r : *runs) add(r.id);
  } else {
    return Status::InvalidArgument("nothing to export: give run ids, --incident ID or --since TIME");
  }
  if (sel.with_children) {
    std::deque<std::string> todo(ids.begin(), ids.end());
    while (!todo.empty()) {
      journal::RunFilter f;
      f.parent_run = todo.front();
      todo.pop_front();
      auto children = journal.ListRuns(f);
      if (!children.ok()) return children.status();
      for (const auto& c : *children) {
        if (seen.count(c.id)) continue;
        add(c.id);
        todo.push_back(c.id);
      }
    }
  }
  std::vector<journal::RunRecord> out;
  for (const auto& id : ids) {
    auto r = journal.GetRun(id);
    if (!r.ok()) return r.status();
    out.push_back(std::move(*r));
  }
  std::stable_sort(out.begin(), out.end(), [](const journal::RunRecord& a, const journal::RunRecord& b) {
    return a.started_at_us < b.started_at_us;
  });
  return out;
}

Result<ExportModel> BuildExportModel(const journal::Journal& journal, EvidenceReader& reader,
                                     const BuildOptions& options) {
  auto runs = SelectRuns(journal, options.selection, options.times);
  if (!runs.ok()) return runs.status();

  ExportModel m;
  m.title = Title(options.selection, *runs, options.times);
  m.selection_text = SelectionText(options.selection, options.times);
  m.journal_path = journal.path();
  m.generator = options.generator;
  m.generated_at_us = options.now_us ? options.now_us : NowMicros();
  m.times = options.times;
  m.excerpt_lines = options.excerpt_lines;

  std::map<std::string, int> depth;
  bool all_finished = true;
  for (auto& r : *runs) {
    RunView v;
    auto parent = depth.find(r.parent_run);
    v.depth = parent == depth.end() ? 0 : parent->second + 1;
    depth[r.id] = v.depth;
    auto stats = reader.CountEvents({r.id});
    if (!stats.ok()) return stats.status();
    v.events = *stats;
    auto actions = Actions(journal, reader, r, options);
    if (!actions.ok()) return actions.status();
    v.actions = std::move(*actions);
    auto findings = journal.GetFindings(r.id);
    if (!findings.ok()) return findings.status();
    m.findings.insert(m.findings.end(), findings->begin(), findings->end());
    auto approvals = journal.GetApprovals(r.id);
    if (!approvals.ok()) return approvals.status();
    m.approvals.insert(m.approvals.end(), approvals->begin(), approvals->end());

    if (!m.started_at_us || r.started_at_us < *m.started_at_us) m.started_at_us = r.started_at_us;
    if (!r.finished_at_us || !journal::IsFinished(r.status)) all_finished = false;
    if (r.finished_at_us && (!m.finished_at_us || *r.finished_at_us > *m.finished_at_us))
      m.finished_at_us = r.finished_at_us;
    v.run = std::move(r);
    m.runs.push_back(std::move(v));
  }
  if (!all_finished) m.finished_at_us.reset();

  std::stable_sort(m.findings.begin(), m.findings.end(),
                   [](const journal::FindingRecord& a, const journal::FindingRecord& b) {
                     if (Severity(a.level) != Severity(b.level)) return Severity(a.level) < Severity(b.level);
                     return a.ts_us < b.ts_us;
                   });
  std::stable_sort(m.approvals.begin(), m.approvals.end(),
                   [](const journal::ApprovalRecord& a, const journal::ApprovalRecord& b) { return a.ts_us < b.ts_us; });

  std::vector<std::string> ids = m.run_ids();
  auto stats = reader.CountEvents(ids);
  if (!stats.ok()) return stats.status();
  m.events = *stats;
  Status s = reader.ForEachEvent(
      ids,
      [&m](const journal::EventRecord& e) {
        m.notes.push_back({e.seq, e.ts_us, e.run_id, e.step_id, NoteAuthor(e), e.actor, e.message});
        return Status::Ok();
      },
      {"note"});
  if (!s.ok()) return s;

  if (options.verify) {
    std::vector<journal::RunRecord> records;
    for (const auto& v : m.runs) records.push_back(v.run);
    m.integrity = CheckIntegrity(m.journal_path, records);
  }
  return m;
}

}  // namespace runbook::report
