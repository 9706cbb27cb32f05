// Build-time tool: writes a C++ source file that holds the bytes of a new,
// empty journal at the current schema (journal/schema.sql) in WAL mode, made
// by the SQLite the binary links. Creating a journal is then writing those
// bytes (journal/path.cc) instead of running the schema script, which was
// half of a one-step run's instructions (docs/performance.md).
//
//   make_empty_journal WORK_DB OUT_CC
#include <sqlite3.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "journal/schema_sql.h"

namespace {

int Fail(const std::string& what, sqlite3* db = nullptr) {
  std::fprintf(stderr, "make_empty_journal: %s%s%s\n", what.c_str(), db ? ": " : "", db ? sqlite3_errmsg(db) : "");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return Fail("usage: make_empty_journal WORK_DB OUT_CC");
  const std::string work = argv[1];
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((work + suffix).c_str());
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(work.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
    return Fail("cannot create " + work, db);
  // journal_mode is persistent in the file's header; the schema script sets
  // user_version and application_id.
  if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr) != SQLITE_OK)
    return Fail("journal_mode", db);
  const std::string schema(runbook::journal::kSchemaSql);
  if (sqlite3_exec(db, schema.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return Fail("schema.sql", db);
  // The last connection's close checkpoints the WAL into the file and
  // removes the WAL: the file alone is the journal.
  if (sqlite3_close(db) != SQLITE_OK) return Fail("close");
  std::ifstream in(work, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return Fail("cannot read " + work);
  if (bytes.size() < 100 || bytes.compare(0, 16, std::string("SQLite format 3\0", 16)) != 0)
    return Fail(work + " is not a database");

  std::ostringstream out;
  out << "// Generated at build time by journal/gen/make_empty_journal.cc from\n"
         "// journal/schema.sql: do not edit.\n"
         "#include \"journal/path.h\"\n\n"
         "namespace runbook::journal {\n\n"
         "std::string_view EmptyJournalImage() {\n"
         "  static const unsigned char kBytes[] = {";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i % 16 == 0) out << "\n     ";
    out << ' ' << static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << ',';
  }
  out << "\n  };\n"
         "  return std::string_view(reinterpret_cast<const char*>(kBytes), sizeof kBytes);\n"
         "}\n\n"
         "}  // namespace runbook::journal\n";
  const std::string out_path = argv[2];
  std::ofstream file(out_path + ".tmp", std::ios::binary | std::ios::trunc);
  file << out.str();
  file.close();
  if (!file) return Fail("cannot write " + out_path);
  if (std::rename((out_path + ".tmp").c_str(), out_path.c_str()) != 0) return Fail("cannot write " + out_path);
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((work + suffix).c_str());
  return 0;
}
