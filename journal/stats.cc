#include "journal/stats.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "journal/path.h"
#include "journal/sqlite.h"

namespace runbook::journal {

namespace {

// The WHERE clause selecting the window's runs (alias r), parameters ?1..?3.
constexpr std::string_view kWindow =
    " WHERE (?1 IS NULL OR r.started_at >= ?1) AND (?2 IS NULL OR r.started_at < ?2) "
    "AND (?3 = '' OR r.runbook = ?3) ";

Result<sqlite::Statement> Query(sqlite::Db& db, const std::string& sql, const StatsOptions& o) {
  Result<sqlite::Statement> st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  st->BindOptInt(1, o.since_us);
  st->BindOptInt(2, o.until_us);
  st->BindText(3, o.runbook);
  return st;
}

// Runs `sql` (first column: runbook) and hands each row to `f`.
template <class F>
Status ForEach(sqlite::Db& db, const std::string& sql, const StatsOptions& o, F f) {
  Result<sqlite::Statement> st = Query(db, sql, o);
  if (!st.ok()) return st.status();
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    f(*st);
  }
}

DurationStats Summarize(std::vector<int64_t>& d) {
  DurationStats s;
  if (d.empty()) return s;
  std::sort(d.begin(), d.end());
  s.count = static_cast<int64_t>(d.size());
  __int128 sum = 0;
  for (int64_t v : d) sum += v;
  s.avg_us = static_cast<int64_t>((2 * sum + s.count) / (2 * s.count));  // round half up
  s.p50_us = NearestRank(d, 50);
  s.p95_us = NearestRank(d, 95);
  s.min_us = d.front();
  s.max_us = d.back();
  return s;
}

Status Compute(sqlite::Db& db, const StatsOptions& o, StatsReport* report) {
  std::map<std::string, RunbookStats> books;
  auto book = [&](const std::string& name) -> RunbookStats& {
    RunbookStats& b = books[name];
    if (b.runbook.empty()) {
      b.runbook = name;
      b.findings = {{"info", 0}, {"warning", 0}, {"critical", 0}};
    }
    return b;
  };
  const std::string window(kWindow);
  Status s = ForEach(db, "SELECT r.runbook, r.status, r.trigger_kind, count(*) FROM runs r" + window +
                             "GROUP BY 1, 2, 3",
                     o, [&](sqlite::Statement& st) {
                       RunbookStats& b = book(st.Text(0));
                       int64_t n = st.Int(3);
                       b.runs += n;
                       b.by_status[st.Text(1)] += n;
                       b.by_trigger[st.Text(2)] += n;
                     });
  if (!s.ok()) return s;

  std::map<std::string, std::vector<int64_t>> durations;
  std::vector<int64_t> all;
  s = ForEach(db, "SELECT r.runbook, r.finished_at - r.started_at FROM runs r" + window +
                      "AND r.finished_at IS NOT NULL AND r.status NOT IN ('running', 'waiting')",
              o, [&](sqlite::Statement& st) {
                durations[st.Text(0)].push_back(st.Int(1));
                all.push_back(st.Int(1));
              });
  if (!s.ok()) return s;
  for (auto& [name, d] : durations) book(name).duration = Summarize(d);

  s = ForEach(db, "SELECT r.runbook, f.level, count(*) FROM findings f JOIN runs r ON r.id = f.run_id" +
                      window + "GROUP BY 1, 2",
              o, [&](sqlite::Statement& st) { book(st.Text(0)).findings[st.Text(1)] += st.Int(2); });
  if (!s.ok()) return s;
  s = ForEach(db, "SELECT r.runbook, a.decision, count(*) FROM approvals a JOIN runs r ON r.id = a.run_id" +
                      window + "GROUP BY 1, 2",
              o, [&](sqlite::Statement& st) {
                RunbookStats& b = book(st.Text(0));
                (st.Text(1) == "approved" ? b.approved : b.rejected) += st.Int(2);
              });
  if (!s.ok()) return s;

  RunbookStats& total = report->total;
  total.findings = {{"info", 0}, {"warning", 0}, {"critical", 0}};
  for (auto& [name, b] : books) {
    total.runs += b.runs;
    for (const auto& [k, n] : b.by_status) total.by_status[k] += n;
    for (const auto& [k, n] : b.by_trigger) total.by_trigger[k] += n;
    for (const auto& [k, n] : b.findings) total.findings[k] += n;
    total.approved += b.approved;
    total.rejected += b.rejected;
    report->runbooks.push_back(std::move(b));
  }
  total.duration = Summarize(all);

  // Incidents named explicitly: not the own id of any run.
  IncidentStats& inc = report->incidents;
  __int128 recovery_sum = 0;
  s = ForEach(db,
              "SELECT r.incident_id, min(r.started_at), max(r.finished_at), "
              "sum(r.finished_at IS NULL OR r.status IN ('running', 'waiting')) FROM runs r" +
                  window + "AND r.incident_id IS NOT NULL AND r.incident_id NOT IN (SELECT id FROM runs) "
                  "GROUP BY r.incident_id",
              o, [&](sqlite::Statement& st) {
                ++inc.count;
                if (st.Int(3) != 0 || st.IsNull(2)) return;
                ++inc.resolved;
                recovery_sum += st.Int(2) - st.Int(1);
              });
  if (!s.ok()) return s;
  if (inc.resolved > 0)
    inc.mttr_us = static_cast<int64_t>((2 * recovery_sum + inc.resolved) / (2 * inc.resolved));
  return Status::Ok();
}

}  // namespace

int64_t NearestRank(const std::vector<int64_t>& sorted, int percent) {
  size_t n = sorted.size();
  size_t rank = (static_cast<size_t>(percent) * n + 99) / 100;  // ceil(percent * n / 100)
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

Result<StatsReport> ComputeStats(const std::string& path, const StatsOptions& options) {
  if (Status s = CheckExistingJournalFile(path); !s.ok()) return s;
  Result<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::Open(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW);
  if (!db.ok()) return db.status();
  (*db)->SetBusyTimeout(10000);
  StatsReport report;
  if (Status s = (*db)->Exec("BEGIN"); !s.ok()) return s;  // one snapshot
  Status s = Compute(**db, options, &report);
  (void)(*db)->Exec("ROLLBACK");
  if (!s.ok()) return s;
  return report;
}

}  // namespace runbook::journal
