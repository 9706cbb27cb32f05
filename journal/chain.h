// The events table's hash chain (docs/journal.md, "The hash chain"): the
// canonical encoding of an event row, its SHA-256, and the head of the chain
// (last seq and hash) that every writer reads inside its write transaction
// before appending. Used by the journal's writer thread (write_ops.cc), stale-
// run marking, prune and verify. Free functions and values; a ChainHead
// belongs to one transaction on one connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "journal/records.h"
#include "journal/sqlite.h"

namespace runbook::journal {

// prev_hash of the first event of the chain.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
// The kind of the anchor event `journal prune` appends (journal/prune.h).
inline constexpr std::string_view kPrunedEventKind = "journal_pruned";

// The hashed columns of one event row as stored (NULL kept apart from '').
struct ChainFields {
  int64_t seq = 0;
  std::optional<std::string_view> run_id;
  std::optional<std::string_view> step_id;
  std::optional<int64_t> attempt;
  int64_t ts = 0;
  std::string_view kind;
  std::string_view actor;
  std::string_view message;
  std::string_view data_json;
  std::string_view prev_hash;
};

// The fields of a record AppendEvent queued: "" run or step is NULL; seq and
// prev_hash are left for AppendChained. Views into `e`.
ChainFields ChainFieldsOf(const EventRecord& e);

// The bytes that are hashed: the tag "rbkj-event-v1" and the ten fields in
// the order of ChainFields, each as a netstring "<decimal length>:<bytes>,"
// (integers as decimal ASCII); NULL is "-,". Unambiguous by construction.
std::string CanonicalEventBytes(const ChainFields& f);
// Lowercase hex SHA-256 of CanonicalEventBytes(f).
std::string EventHash(const ChainFields& f);

// Where the next event goes: the seq it gets and the hash it links to.
struct ChainHead {
  int64_t next_seq = 1;
  std::string last_hash{kGenesisHash};
};

// Reads the head inside the caller's write transaction (BEGIN IMMEDIATE, so
// no other process can append until COMMIT). next_seq is one past both the
// largest seq present and sqlite_sequence's counter, so a seq is never reused
// even after rows were deleted; last_hash is the hash of the largest seq
// present, or the genesis hash when there is none (or it predates the chain).
Result<ChainHead> ReadChainHead(sqlite::Db& db);

// The same with the two queries prepared once (kLastEventSql and kEventCounterSql),
// for the writer thread, which reads the head in every transaction.
inline constexpr std::string_view kLastEventSql = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1";
inline constexpr std::string_view kEventCounterSql = "SELECT seq FROM sqlite_sequence WHERE name = 'events'";
Result<ChainHead> ReadChainHead(sqlite::Statement& last_event, sqlite::Statement& counter);

// The INSERT that appends a chained event; bind with BindChainedEvent.
inline constexpr std::string_view kInsertChainedEventSql =
    "INSERT INTO events (seq, run_id, step_id, attempt, ts, kind, actor, message, data_json, "
    "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

// Runs `insert` (prepared from kInsertChainedEventSql) for the event `f`
// without seq/prev_hash (taken from `head`), then advances `head`. Returns the
// seq the row got. `f`'s text must stay alive for the call only.
Result<int64_t> AppendChained(sqlite::Statement& insert, ChainHead& head, ChainFields f);

}  // namespace runbook::journal
