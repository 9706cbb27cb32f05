// VerifyJournal: opening the file read-only, the snapshot, PRAGMA
// integrity_check and the hash chain of the events table. The checks of the
// other tables against the chain are in verify_rows.cc.
#include "journal/verify.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <boost/json.hpp>
#include <map>
#include <utility>

#include "journal/chain.h"
#include "journal/migrations.h"
#include "journal/path.h"
#include "journal/spill.h"
#include "journal/verify_internal.h"

namespace runbook::journal {

namespace verify_internal {

std::string EventPlace(int64_t seq, const std::string& run_id, const std::string& step_id) {
  std::string out = "event seq " + std::to_string(seq) + " (";
  if (run_id.empty()) {
    out += "journal-level";
  } else {
    out += "run " + run_id;
    if (!step_id.empty()) out += ", step " + step_id;
  }
  return out + ")";
}

void Verifier::Problem(int64_t seq, std::string run_id, std::string step_id, std::string message) {
  report_.ok = false;
  if (seq > 0 && (report_.first_bad_seq == 0 || seq < report_.first_bad_seq))
    report_.first_bad_seq = seq;
  if (report_.problems.size() >= kMaxProblems) {
    ++dropped_;
    return;
  }
  report_.problems.push_back({seq, std::move(run_id), std::move(step_id), std::move(message)});
}

bool Verifier::Checked(const std::string& run_id) const {
  return !filter_ || filter_->count(run_id) > 0;
}

}  // namespace verify_internal

namespace {

using verify_internal::EventPlace;
using verify_internal::Verifier;

// A damaged database surfaces as SQLITE_CORRUPT or SQLITE_NOTADB on some
// statement; say so in words.
Status Damaged(const std::string& path, const Status& s) {
  if (s.code() != Status::Code::kCorruption) return s;
  return Status::Corruption(path + " is damaged or truncated (" + s.message() +
                            "); restore it from a backup or the archive");
}

}  // namespace

namespace verify_internal {

Status Verifier::CheckIntegrity() {
  Result<sqlite::Statement> st = db_.Prepare("PRAGMA integrity_check(20)");
  if (!st.ok()) return st.status();
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string line = st->Text(0);
    if (line != "ok") Problem(0, "", "", "PRAGMA integrity_check: " + line);
  }
  return Status::Ok();
}

// Prune anchors, keyed by the two hashes a pruned gap joins: the hash of the
// row before the gap (or the genesis hash) and the hash of its last row.
Status Verifier::LoadAnchors() {
  Result<sqlite::Statement> st = db_.Prepare(
      "SELECT seq, data_json FROM events WHERE kind = ?1 AND run_id IS NULL ORDER BY seq");
  if (!st.ok()) return st.status();
  st->BindText(1, kPrunedEventKind);
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    int64_t seq = st->Int(0);
    boost::system::error_code ec;
    boost::json::value data = boost::json::parse(st->Text(1), ec);
    const boost::json::object* obj = ec ? nullptr : data.if_object();
    const boost::json::value* ranges = obj ? obj->if_contains("ranges") : nullptr;
    if (!ranges || !ranges->is_array()) {
      Problem(seq, "", "", EventPlace(seq, "", "") + ": a journal_pruned anchor without its ranges");
      continue;
    }
    for (const boost::json::value& r : ranges->get_array()) {
      const boost::json::object* o = r.if_object();
      const boost::json::value* before = o ? o->if_contains("before") : nullptr;
      const boost::json::value* after = o ? o->if_contains("after") : nullptr;
      const boost::json::value* first = o ? o->if_contains("first_seq") : nullptr;
      const boost::json::value* last = o ? o->if_contains("last_seq") : nullptr;
      if (!before || !after || !first || !last || !before->is_string() || !after->is_string() ||
          !first->is_int64() || !last->is_int64()) {
        Problem(seq, "", "", EventPlace(seq, "", "") + ": a malformed range in a journal_pruned anchor");
        continue;
      }
      anchors_[{std::string(before->get_string()), std::string(after->get_string())}] =
          AnchorRange{seq, first->get_int64(), last->get_int64()};
    }
  }
  return Status::Ok();
}

Status Verifier::WalkChain(const std::string& expected_head) {
  std::string want_hash = expected_head;
  int64_t want_seq = 0;
  if (size_t colon = expected_head.find(':'); colon != std::string::npos) {
    want_seq = std::atoll(expected_head.substr(0, colon).c_str());
    want_hash = expected_head.substr(colon + 1);
  }
  bool want_found = false;

  Result<sqlite::Statement> st = db_.Prepare(
      "SELECT seq, run_id, step_id, attempt, ts, kind, actor, message, data_json, prev_hash, hash "
      "FROM events ORDER BY seq");
  if (!st.ok()) return st.status();
  bool chained = false;       // a hashed row was seen
  bool link_known = true;     // prev_stored is a hash the next row must link to
  int64_t prev_seq = 0;
  std::string prev_stored(kGenesisHash);
  std::string prev_run, prev_step;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ++report_.events_checked;
    int64_t seq = st->Int(0);
    std::string run_id = st->Text(1), step_id = st->Text(2);
    std::string place = EventPlace(seq, run_id, step_id);
    if (st->IsNull(10)) {
      if (!chained && st->IsNull(9)) {
        ++report_.legacy_events;  // written before the chain existed
      } else {
        Problem(seq, run_id, step_id,
                place + ": hash missing — the row was inserted or edited outside runbook");
        link_known = false;
      }
      prev_seq = seq;
      continue;
    }
    chained = true;
    std::string kind = st->Text(5), actor = st->Text(6), message = st->Text(7), data = st->Text(8);
    std::string prev_hash = st->Text(9), hash = st->Text(10);
    ChainFields f;
    f.seq = seq;
    if (!st->IsNull(1)) f.run_id = run_id;
    if (!st->IsNull(2)) f.step_id = step_id;
    f.attempt = st->OptInt(3);
    f.ts = st->Int(4);
    f.kind = kind;
    f.actor = actor;
    f.message = message;
    f.data_json = data;
    f.prev_hash = prev_hash;
    bool edited = EventHash(f) != hash;
    if (edited) Problem(seq, run_id, step_id, place + ": hash mismatch — the row was edited");

    // Rows are never renumbered, so a hole in seq is a deletion: allowed only
    // where a prune anchor vouches for the rows the hole had.
    bool gap = seq > prev_seq + 1;
    bool linked = !link_known || prev_hash == prev_stored;
    if (!linked || gap) {
      auto anchor = anchors_.find({prev_stored, prev_hash});
      if (!linked && anchor != anchors_.end() && anchor->second.first_seq > prev_seq &&
          anchor->second.last_seq < seq && anchor->second.anchor_seq > anchor->second.last_seq) {
        ++report_.pruned_gaps;
      } else if (gap) {
        std::string missing = seq == prev_seq + 2 ? "seq " + std::to_string(prev_seq + 1)
                                                  : "seqs " + std::to_string(prev_seq + 1) + ".." +
                                                        std::to_string(seq - 1);
        Problem(seq, run_id, step_id,
                place + ": event " + missing + " before it " + (seq == prev_seq + 2 ? "is" : "are") +
                    " missing — deleted without a prune anchor");
      } else if (!edited) {
        if (prev_seq == 0) {
          Problem(seq, run_id, step_id, place + ": links to a row that is gone — earlier events were deleted");
        } else {
          Problem(prev_seq, prev_run, prev_step,
                  EventPlace(prev_seq, prev_run, prev_step) + ": does not match the hash recorded by the next row (seq " +
                      std::to_string(seq) + ") — the row was edited and its hash recomputed");
        }
      }
    }
    if (!want_hash.empty() && hash == want_hash && (want_seq == 0 || want_seq == seq))
      want_found = true;
    link_known = true;
    prev_seq = seq;
    prev_stored = hash;
    prev_run = std::move(run_id);
    prev_step = std::move(step_id);
    report_.last_seq = seq;
    report_.head_hash = hash;
  }
  st->Reset();

  // A deleted tail leaves nothing to link to it; AUTOINCREMENT's counter
  // still remembers how far the table went.
  Result<sqlite::Statement> counter =
      db_.Prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
  if (!counter.ok()) return counter.status();
  Result<bool> row = counter->Step();
  if (!row.ok()) return row.status();
  if (*row && counter->Int(0) > prev_seq) {
    int64_t top = counter->Int(0);
    Problem(prev_seq + 1, "", "",
            "event seq " + std::to_string(prev_seq + 1) +
                (top > prev_seq + 1 ? ".." + std::to_string(top) : "") +
                ": missing — the last events were deleted (the sequence counter is at " +
                std::to_string(top) + ")");
  }
  if (!want_hash.empty() && !want_found) {
    bool pruned = false;
    for (const auto& [key, range] : anchors_)
      pruned = pruned || (want_seq >= range.first_seq && want_seq <= range.last_seq) || key.second == want_hash;
    if (!pruned)
      Problem(want_seq, "", "",
              "the recorded head " + expected_head +
                  " is not in the chain — events after it were removed or the chain was rewritten");
  }
  return Status::Ok();
}

}  // namespace verify_internal

Result<VerifyReport> VerifyJournal(const std::string& path,
                                   std::optional<std::vector<std::string>> run_ids,
                                   const std::string& expected_head) {
  if (Status s = CheckExistingJournalFile(path); !s.ok()) return s;
  Result<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::Open(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW);
  if (!db.ok()) return Damaged(path, db.status());
  (*db)->SetBusyTimeout(10000);
  Result<int64_t> app = (*db)->QueryInt("PRAGMA application_id");
  if (!app.ok()) return Damaged(path, app.status());
  Result<int64_t> version = (*db)->QueryInt("PRAGMA user_version");
  if (!version.ok()) return Damaged(path, version.status());
  if (*app != kApplicationId || *version < 1)
    return Status::InvalidArgument(path + " is not a runbook journal" +
                                   (*app != kApplicationId && *app != 0
                                        ? std::string(" (it is another application's SQLite database)")
                                        : std::string(" (it has no journal tables)")));

  Verifier v(**db, std::move(run_ids));
  // One read transaction: every check sees the same snapshot, however much
  // other processes write meanwhile.
  if (Status s = (*db)->Exec("BEGIN"); !s.ok()) return Damaged(path, s);
  Status s = v.Run(expected_head);
  (void)(*db)->Exec("ROLLBACK");
  if (!s.ok()) return Damaged(path, s);
  VerifyReport report = v.TakeReport();
  if (!run_ids) {
    // Listed first, then looked up outside the snapshot: a run's row is
    // committed before its output can spill, so a run that started since
    // the snapshot is found and not reported.
    Result<std::vector<std::string>> dirs = ListRunSpillDirs(path);
    if (!dirs.ok()) return dirs.status();
    if (!dirs->empty()) {
      Result<sqlite::Statement> st = (*db)->Prepare("SELECT 1 FROM runs WHERE id = ?");
      if (!st.ok()) return Damaged(path, st.status());
      for (const std::string& run : *dirs) {
        st->Reset();
        st->BindText(1, run);
        Result<bool> found = st->Step();
        if (!found.ok()) return Damaged(path, found.status());
        if (!*found) report.stray_spill_dirs.push_back(SpillDirFor(path) + "/" + run);
      }
    }
  }
  return report;
}

}  // namespace runbook::journal
