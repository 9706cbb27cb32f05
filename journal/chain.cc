#include "journal/chain.h"

#include <utility>

#include "journal/sha256.h"

namespace runbook::journal {

namespace {

constexpr std::string_view kChainTag = "rbkj-event-v1";

void Net(std::string& out, std::string_view bytes) {
  out += std::to_string(bytes.size());
  out += ':';
  out += bytes;
  out += ',';
}

void Net(std::string& out, std::optional<std::string_view> bytes) {
  if (bytes) {
    Net(out, *bytes);
  } else {
    out += "-,";
  }
}

void NetInt(std::string& out, int64_t v) { Net(out, std::string_view(std::to_string(v))); }

}  // namespace

ChainFields ChainFieldsOf(const EventRecord& e) {
  ChainFields f;
  if (!e.run_id.empty()) f.run_id = e.run_id;
  if (!e.step_id.empty()) f.step_id = e.step_id;
  if (e.attempt) f.attempt = *e.attempt;
  f.ts = e.ts_us;
  f.kind = e.kind;
  f.actor = e.actor;
  f.message = e.message;
  f.data_json = e.data_json;
  return f;
}

std::string CanonicalEventBytes(const ChainFields& f) {
  std::string out;
  out.reserve(96 + f.kind.size() + f.actor.size() + f.message.size() + f.data_json.size() +
              f.prev_hash.size() + (f.run_id ? f.run_id->size() : 0) +
              (f.step_id ? f.step_id->size() : 0));
  Net(out, kChainTag);
  NetInt(out, f.seq);
  Net(out, f.run_id);
  Net(out, f.step_id);
  if (f.attempt) {
    NetInt(out, *f.attempt);
  } else {
    out += "-,";
  }
  NetInt(out, f.ts);
  Net(out, f.kind);
  Net(out, f.actor);
  Net(out, f.message);
  Net(out, f.data_json);
  Net(out, f.prev_hash);
  return out;
}

std::string EventHash(const ChainFields& f) { return Sha256Hex(CanonicalEventBytes(f)); }

Result<ChainHead> ReadChainHead(sqlite::Statement& last_event, sqlite::Statement& counter) {
  ChainHead head;
  Result<bool> row = last_event.Step();
  if (!row.ok()) return row.status();
  if (*row) {
    head.next_seq = last_event.Int(0) + 1;
    if (!last_event.IsNull(1)) head.last_hash = last_event.Text(1);
  }
  last_event.Reset();
  // AUTOINCREMENT's counter: larger than every seq ever used, even deleted ones.
  row = counter.Step();
  if (!row.ok()) return row.status();
  if (*row && counter.Int(0) + 1 > head.next_seq) head.next_seq = counter.Int(0) + 1;
  counter.Reset();
  return head;
}

Result<ChainHead> ReadChainHead(sqlite::Db& db) {
  Result<sqlite::Statement> last = db.Prepare(kLastEventSql);
  if (!last.ok()) return last.status();
  Result<sqlite::Statement> counter = db.Prepare(kEventCounterSql);
  if (!counter.ok()) return counter.status();
  return ReadChainHead(*last, *counter);
}

Result<int64_t> AppendChained(sqlite::Statement& insert, ChainHead& head, ChainFields f) {
  f.seq = head.next_seq;
  f.prev_hash = head.last_hash;
  std::string hash = EventHash(f);
  insert.BindInt(1, f.seq);
  if (f.run_id) {
    insert.BindText(2, *f.run_id);
  } else {
    insert.BindNull(2);
  }
  if (f.step_id) {
    insert.BindText(3, *f.step_id);
  } else {
    insert.BindNull(3);
  }
  insert.BindOptInt(4, f.attempt);
  insert.BindInt(5, f.ts);
  insert.BindText(6, f.kind);
  insert.BindText(7, f.actor);
  insert.BindText(8, f.message);
  insert.BindText(9, f.data_json);
  insert.BindText(10, f.prev_hash);
  insert.BindText(11, hash);
  if (Status s = insert.Run(); !s.ok()) return s;
  head.next_seq = f.seq + 1;
  head.last_hash = std::move(hash);
  return f.seq;
}

}  // namespace runbook::journal
