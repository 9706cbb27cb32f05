// The checks of the rows the chain does not cover directly: each run's
// source hash, each attempt's output recomputed from output_chunks and its
// spill files (journal/spill.h), and the
// run, attempt and finding rows compared with what the (chained) events say
// about them; plus rows whose run is gone.
#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "journal/records.h"
#include "journal/sha256.h"
#include "journal/spill.h"
#include "journal/spill_internal.h"
#include "journal/verify_internal.h"

namespace runbook::journal::verify_internal {

namespace {

struct RunRow {
  std::string content_hash, source_text, runbook, trigger, actor, incident, parent, status;
  int64_t started_at = 0;
  std::optional<int64_t> finished_at, exit_code;
};

struct AttemptRow {
  std::string status;
  std::optional<int64_t> exit_code;
  int64_t bytes[2] = {0, 0};
  std::string sha256[2];
  bool output_seen[2] = {false, false};
};

using AttemptKey = std::pair<std::string, int64_t>;  // (step, attempt)

std::string AttemptPlace(const std::string& run, const std::string& step, int64_t attempt) {
  return "run " + run + ", step " + step + ", attempt " + std::to_string(attempt);
}

boost::json::object ParseObject(const std::string& json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

// The claim `key` of an event's data about a text column: nullopt when the
// event does not say, or says something that is not text.
std::optional<std::string> TextClaim(const boost::json::object& data, std::string_view key) {
  const boost::json::value* v = data.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// An integer claim: absent -> nullopt; JSON null -> a present NULL.
std::optional<std::optional<int64_t>> IntClaim(const boost::json::object& data, std::string_view key) {
  const boost::json::value* v = data.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_null()) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64()) return std::optional<int64_t>(static_cast<int64_t>(v->get_uint64()));
  return std::nullopt;
}

std::string Show(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "NULL"; }

// What " — ..." a spill file's read error means for the evidence.
std::string SpillVerdict(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound: return " — output was deleted";
    case Status::Code::kCorruption: return " — the file was truncated";
    default: return "";
  }
}

// Each stream of each attempt of the run, recomputed from its rows in seq
// order (inline data, or ranges of spill files) and compared with the
// attempt's recorded byte count and SHA-256.
Status CheckOutput(Verifier& v, sqlite::Db& db, const std::string& run_id,
                   std::map<AttemptKey, AttemptRow>& attempts) {
  Result<bool> has_spill = HasSpillColumns(db);
  if (!has_spill.ok()) return has_spill.status();
  Result<sqlite::Statement> st = db.Prepare(
      "SELECT step_id, attempt, stream, seq, byte_offset, data, " + std::string(SpillColumnsSql(*has_spill)) +
      " FROM output_chunks WHERE run_id = ?1 ORDER BY step_id, attempt, stream, seq");
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  SpillReader spills(db.path());
  // The group being hashed: (step, attempt, stream).
  std::optional<std::tuple<std::string, int64_t, std::string>> group;
  Sha256 sha;
  int64_t bytes = 0, next_seq = 0;
  bool broken = false, has_digest = false;
  std::map<std::string, int64_t> spill_ends;  // spill file -> end of the last range the rows name
  auto finish = [&] {
    if (!group) return;
    const auto& [step, attempt, stream] = *group;
    std::string place = AttemptPlace(run_id, step, attempt) + ": " + stream;
    auto it = attempts.find({step, attempt});
    if (it == attempts.end()) {
      v.Problem(0, run_id, step, place + " output exists but the attempt's row is missing — the row was deleted");
      return;
    }
    int i = stream == "stdout" ? 0 : 1;
    it->second.output_seen[i] = true;
    if (broken || it->second.sha256[i].empty()) return;  // reported / no digest recorded
    std::string where = "output_chunks";
    for (const auto& [name, end] : spill_ends) where += " and spill file " + spills.PathOf(name);
    if (bytes != it->second.bytes[i]) {
      v.Problem(0, run_id, step, place + " is " + std::to_string(bytes) + " bytes in " + where + " but " +
                                     std::to_string(it->second.bytes[i]) +
                                     " were recorded — output was edited or deleted");
    } else if (sha.HexDigest() != it->second.sha256[i]) {
      v.Problem(0, run_id, step, place + ": SHA-256 of " + where + " differs from the recorded digest — output was edited");
    }
    for (const auto& [name, end] : spill_ends) {
      Result<int64_t> size = spills.FileSize(run_id, name);
      if (size.ok() && *size > end)
        v.Problem(0, run_id, step, place + ": spill file " + spills.PathOf(name) + " holds " + std::to_string(*size) +
                                       " bytes, " + std::to_string(*size - end) +
                                       " more than output_chunks refers to — the file was appended to");
    }
  };
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::tuple<std::string, int64_t, std::string> key{st->Text(0), st->Int(1), st->Text(2)};
    const auto& [step, attempt, stream] = key;
    if (!group || *group != key) {
      finish();
      group = key;
      sha = Sha256();
      bytes = next_seq = 0;
      broken = false;
      spill_ends.clear();
      auto it = attempts.find({step, attempt});
      has_digest = it != attempts.end() && !it->second.sha256[stream == "stdout" ? 0 : 1].empty();
    }
    int64_t seq = st->Int(3), offset = st->Int(4);
    if (!broken && (seq != next_seq || offset != bytes)) {
      v.Problem(0, run_id, step,
                AttemptPlace(run_id, step, attempt) + ": " + stream + " chunk seq " + std::to_string(seq) +
                    (seq != next_seq ? " follows seq " + std::to_string(next_seq - 1) + " — a chunk was deleted"
                                     : " starts at byte " + std::to_string(offset) + " but the chunks before it hold " +
                                           std::to_string(bytes) + " bytes — a chunk was edited or deleted"));
      broken = true;
    }
    next_seq = seq + 1;
    if (st->IsNull(6)) {
      std::string data = st->Blob(5);
      sha.Update(data);
      bytes += static_cast<int64_t>(data.size());
      continue;
    }
    SpillRef ref{st->Text(6), st->Int(7), st->Int(8)};
    bytes += ref.bytes;
    // Without a recorded digest (an attempt in progress) there is nothing
    // to compare the bytes with.
    if (broken || !has_digest) continue;
    std::string place = AttemptPlace(run_id, step, attempt) + ": " + stream + " chunk seq " + std::to_string(seq);
    std::string file;
    if (Status s = spill_internal::SplitName(run_id, ref.name, &file); !s.ok()) {
      v.Problem(0, run_id, step, place + ": " + s.message() + " — the row was edited");
      broken = true;
      continue;
    }
    Status s = spills.ForEachPiece(run_id, ref, static_cast<size_t>(kMaxSpillRowBytes), [&](std::string_view piece) {
      sha.Update(piece);
      return Status::Ok();
    });
    if (!s.ok()) {
      v.Problem(0, run_id, step, place + ": " + s.message() + SpillVerdict(s));
      broken = true;
      continue;
    }
    int64_t& end = spill_ends[ref.name];
    end = std::max(end, ref.offset + ref.bytes);
  }
  finish();
  return Status::Ok();
}

}  // namespace

Status Verifier::Run(const std::string& expected_head) {
  if (Status s = CheckIntegrity(); !s.ok()) return s;
  if (Status s = LoadAnchors(); !s.ok()) return s;
  if (Status s = WalkChain(expected_head); !s.ok()) return s;
  if (Status s = CheckRuns(); !s.ok()) return s;
  return CheckOrphans();
}

Status Verifier::CheckRuns() {
  std::vector<std::string> ids;
  {
    Result<sqlite::Statement> st = db_.Prepare("SELECT id FROM runs ORDER BY started_at, id");
    if (!st.ok()) return st.status();
    for (;;) {
      Result<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      if (Checked(st->Text(0))) ids.push_back(st->Text(0));
    }
  }
  if (filter_) {
    std::set<std::string> present(ids.begin(), ids.end());
    for (const std::string& id : *filter_)
      if (!present.count(id)) Problem(0, id, "", "run " + id + ": not in the journal");
  }
  for (const std::string& id : ids) {
    if (Status s = CheckRun(id); !s.ok()) return s;
    ++report_.runs_checked;
  }
  return Status::Ok();
}

// One run, on its own, so memory stays bounded by the largest run.
Status Verifier::CheckRun(const std::string& run_id) {
  RunRow run;
  {
    Result<sqlite::Statement> st = db_.Prepare(
        "SELECT content_hash, source_text, runbook, trigger_kind, actor, incident_id, parent_run_id, "
        "status, started_at, finished_at, exit_code FROM runs WHERE id = ?1");
    if (!st.ok()) return st.status();
    st->BindText(1, run_id);
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    run = {st->Text(0), st->Text(1), st->Text(2), st->Text(3), st->Text(4), st->Text(5), st->Text(6),
           st->Text(7), st->Int(8), st->OptInt(9), st->OptInt(10)};
  }
  const std::string here = "run " + run_id;
  if (Sha256Hex(run.source_text) != run.content_hash)
    Problem(0, run_id, "", here + ": content_hash does not match source_text — the recorded runbook source was edited");

  // Attempts, then their output recomputed chunk by chunk.
  std::map<AttemptKey, AttemptRow> attempts;
  {
    Result<sqlite::Statement> st = db_.Prepare(
        "SELECT step_id, attempt, status, exit_code, stdout_bytes, stdout_sha256, stderr_bytes, "
        "stderr_sha256 FROM step_attempts WHERE run_id = ?1");
    if (!st.ok()) return st.status();
    st->BindText(1, run_id);
    for (;;) {
      Result<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      AttemptRow a;
      a.status = st->Text(2);
      a.exit_code = st->OptInt(3);
      a.bytes[0] = st->Int(4);
      a.sha256[0] = st->Text(5);
      a.bytes[1] = st->Int(6);
      a.sha256[1] = st->Text(7);
      attempts[{st->Text(0), st->Int(1)}] = std::move(a);
    }
  }
  if (Status s = CheckOutput(*this, db_, run_id, attempts); !s.ok()) return s;
  for (const auto& [key, a] : attempts) {
    if (!a.sha256[0].empty() || !a.sha256[1].empty()) ++report_.attempts_checked;
    for (int i = 0; i < 2; ++i) {
      if (a.output_seen[i] || a.sha256[i].empty()) continue;
      if (a.bytes[i] != 0 || a.sha256[i] != Sha256Hex(""))
        Problem(0, run_id, key.first,
                AttemptPlace(run_id, key.first, key.second) + ": " + (i == 0 ? "stdout" : "stderr") +
                    " recorded " + std::to_string(a.bytes[i]) +
                    " bytes but output_chunks has none — output was deleted");
    }
  }

  // What the chained events say about the rows. Only for finished runs: a
  // run in progress may be seen between a row and the event that tells it.
  if (!IsFinished(ParseRunStatus(run.status).value_or(RunStatus::kRunning))) return Status::Ok();
  Result<sqlite::Statement> st = db_.Prepare(
      "SELECT seq, step_id, attempt, kind, message, data_json FROM events WHERE run_id = ?1 AND kind IN "
      "('run_started', 'run_finished', 'interrupted', 'step_started', 'step_finished', 'step_skipped', "
      "'finding') ORDER BY seq");
  if (!st.ok()) return st.status();
  st->BindText(1, run_id);
  bool first_start = true;
  std::optional<std::pair<int64_t, std::string>> final_event;  // (seq, kind)
  boost::json::object final_data;
  std::vector<std::tuple<int64_t, std::string, std::string, boost::json::object>> finding_events;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    int64_t seq = st->Int(0);
    std::string step = st->Text(1), kind = st->Text(3);
    std::optional<int64_t> attempt = st->OptInt(2);
    boost::json::object data = ParseObject(st->Text(5));
    std::string place = EventPlace(seq, run_id, step);
    auto mismatch = [&](std::string_view what, const std::string& claimed, const std::string& stored) {
      Problem(seq, run_id, step,
              here + ": " + std::string(what) + " is '" + stored + "' but " + place + " recorded '" + claimed +
                  "' — the row was edited");
    };
    if (kind == "run_started" && first_start) {
      first_start = false;
      const std::pair<std::string_view, const std::string*> texts[] = {
          {"trigger", &run.trigger},   {"runbook", &run.runbook},   {"content_hash", &run.content_hash},
          {"actor", &run.actor},       {"incident", &run.incident}, {"parent_run", &run.parent}};
      for (const auto& [key, stored] : texts)
        if (auto c = TextClaim(data, key); c && *c != *stored) mismatch(key, *c, *stored);
      if (auto c = IntClaim(data, "started_at"); c && *c != std::optional<int64_t>(run.started_at))
        mismatch("started_at", Show(*c), std::to_string(run.started_at));
    } else if (kind == "run_finished" || kind == "interrupted") {
      final_event = {seq, kind};
      final_data = std::move(data);
    } else if (kind == "finding") {
      finding_events.emplace_back(seq, step, st->Text(4), std::move(data));
    } else if (!step.empty()) {
      int64_t n = attempt.value_or(1);
      auto it = attempts.find({step, n});
      if (it == attempts.end()) {
        Problem(seq, run_id, step,
                AttemptPlace(run_id, step, n) + ": missing, but " + place + " records it — the attempt's row was deleted");
        continue;
      }
      if (kind != "step_finished") continue;
      const AttemptRow& a = it->second;
      std::string at = "attempt " + std::to_string(n) + " of step " + step + ": ";
      if (auto c = TextClaim(data, "status"); c && *c != a.status) mismatch(at + "status", *c, a.status);
      if (TextClaim(data, "status")) {
        std::optional<int64_t> claimed;
        if (auto c = IntClaim(data, "exit_code")) claimed = *c;
        if (claimed != a.exit_code) mismatch(at + "exit_code", Show(claimed), Show(a.exit_code));
      }
      for (int i = 0; i < 2; ++i) {
        std::string stream = i == 0 ? "stdout" : "stderr";
        if (auto c = IntClaim(data, stream + "_bytes"); c && *c != std::optional<int64_t>(a.bytes[i]))
          mismatch(at + stream + "_bytes", Show(*c), std::to_string(a.bytes[i]));
        if (auto c = TextClaim(data, stream + "_sha256"); c && *c != a.sha256[i])
          mismatch(at + stream + "_sha256", *c, a.sha256[i]);
      }
    }
  }
  st->Reset();
  if (final_event) {
    auto [seq, kind] = *final_event;
    std::string place = EventPlace(seq, run_id, "");
    std::string claimed = kind == "interrupted" ? "interrupted" : TextClaim(final_data, "status").value_or(run.status);
    if (claimed != run.status)
      Problem(seq, run_id, "", here + ": status is '" + run.status + "' but " + place + " recorded '" + claimed + "' — the row was edited");
    if (kind == "run_finished") {
      if (auto c = IntClaim(final_data, "exit_code"); c && *c != run.exit_code)
        Problem(seq, run_id, "", here + ": exit_code is " + Show(run.exit_code) + " but " + place + " recorded " + Show(*c) + " — the row was edited");
      if (auto c = IntClaim(final_data, "finished_at"); c && *c != run.finished_at)
        Problem(seq, run_id, "", here + ": finished_at is " + Show(run.finished_at) + " but " + place + " recorded " + Show(*c) + " — the row was edited");
    }
  }

  // Findings, paired in order with their `finding` events.
  Result<sqlite::Statement> fs = db_.Prepare(
      "SELECT step_id, level, message, value, threshold FROM findings WHERE run_id = ?1 ORDER BY id");
  if (!fs.ok()) return fs.status();
  fs->BindText(1, run_id);
  size_t i = 0;
  for (;; ++i) {
    Result<bool> row = fs->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string step = fs->Text(0), level = fs->Text(1), message = fs->Text(2);
    if (i >= finding_events.size()) {
      Problem(0, run_id, step, here + ", step " + step + ": finding '" + message + "' has no finding event — the row was inserted");
      continue;
    }
    const auto& [seq, ev_step, ev_message, data] = finding_events[i];
    bool same = ev_step == step && ev_message == level + ": " + message;
    if (auto c = TextClaim(data, "level"); c && *c != level) same = false;
    if (auto c = TextClaim(data, "value"); c && *c != fs->Text(3)) same = false;
    if (auto c = TextClaim(data, "threshold"); c && *c != fs->Text(4)) same = false;
    if (!same)
      Problem(std::get<0>(finding_events[i]), run_id, step,
              here + ", step " + step + ": finding " + std::to_string(i + 1) + " ('" + message +
                  "') differs from " + EventPlace(seq, run_id, ev_step) + " — the finding was edited");
  }
  for (; i < finding_events.size(); ++i) {
    const auto& [seq, step, message, data] = finding_events[i];
    Problem(seq, run_id, step,
            EventPlace(seq, run_id, step) + ": records a finding that is not in the findings table — the row was deleted");
  }
  return Status::Ok();
}

Status Verifier::CheckOrphans() {
  for (std::string_view table : {"events", "step_attempts", "output_chunks", "findings", "approvals"}) {
    Result<sqlite::Statement> st = db_.Prepare(
        "SELECT run_id, count(*) FROM " + std::string(table) +
        " WHERE run_id IS NOT NULL AND run_id NOT IN (SELECT id FROM runs) GROUP BY run_id ORDER BY run_id");
    if (!st.ok()) return st.status();
    for (;;) {
      Result<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      std::string id = st->Text(0);
      if (!Checked(id)) continue;
      Problem(0, id, "", "run " + id + ": the run's row is missing but " + std::to_string(st->Int(1)) + " " +
                             std::string(table) + " rows refer to it — the row was deleted");
    }
  }
  return Status::Ok();
}

}  // namespace runbook::journal::verify_internal
