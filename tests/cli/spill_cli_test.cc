// Acceptance: a step's output past 1 MiB goes to a spill file beside the
// journal (docs/journal.md, "Spill files") and every reader still gets every
// byte through the real binary: `logs --raw` byte-exact (NUL and invalid
// UTF-8 included), `journal verify` re-hashes it and names a truncated file,
// `journal export` includes it, `resume` restores the step's stdout, and
// `journal prune` deletes the files with the run.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/masker.h"
#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

// `n` bytes with NULs, invalid UTF-8 and newlines.
std::string Bytes(size_t n) {
  std::string out(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

int ModeOf(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

std::string RunIdOf(const Outcome& o) {
  auto v = ParseJson(o.out, "--json output");
  return v ? JsonString(*v, "run_id") : "";
}

// A runbook whose step `big` prints the file $DATA.
std::string CatRunbook(CliSandbox& box, const std::string& data) {
  box.SetEnv("DATA", box.WriteFile("data.bin", data));
  return box.WriteRunbook("big", "name: big\nsteps:\n  - id: big\n    run: cat \"$DATA\"\n");
}

TEST(CliSpill, LargeOutputRoundTripsThroughLogsVerifyAndExport) {
  CliSandbox box;
  const std::string data = Bytes(3'000'000);
  Outcome o = box.Run({"--json", "run", CatRunbook(box, data)});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run = RunIdOf(o);

  const std::string blobs = box.journal_path() + ".blobs";
  const std::string file = blobs + "/" + run + "/big.1.stdout";
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
  EXPECT_GT(st.st_size, 1'900'000);  // all but the first MiB (inline in the journal)
  EXPECT_EQ(ModeOf(file), 0600);
  EXPECT_EQ(ModeOf(blobs + "/" + run), 0700);
  EXPECT_EQ(ModeOf(blobs), 0700);

  std::string logs = box.RawLogs(run, "big");
  EXPECT_EQ(logs.size(), data.size());
  EXPECT_TRUE(logs == data) << "logs --raw differs from what the step printed";

  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();

  // JSON export: the stream in full, base64 (it is not UTF-8). The last 300
  // bytes start at a multiple of 3, so their encoding appears as it is.
  Outcome e = box.Run({"journal", "export", run, "--format", "json"});
  ASSERT_EQ(e.exit_code, 0) << e.Describe();
  EXPECT_NE(e.out.find(Base64(std::string_view(data).substr(data.size() - 300))), std::string::npos)
      << "the export lacks the end of the output";
}

TEST(CliSpill, VerifyAndLogsNameATruncatedSpillFile) {
  CliSandbox box;
  Outcome o = box.Run({"--json", "run", CatRunbook(box, Bytes(2'000'000))});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run = RunIdOf(o);
  const std::string file = box.journal_path() + ".blobs/" + run + "/big.1.stdout";
  ASSERT_EQ(truncate(file.c_str(), 1000), 0) << file;

  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.Describe();
  EXPECT_NE(verify.out.find("run " + run + ", step big, attempt 1: stdout chunk seq "), std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find("spill file " + file + " holds 1000 bytes, but the journal refers to bytes "),
            std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find(" — the file was truncated"), std::string::npos) << verify.out;

  Outcome logs = box.Run({"logs", run, "big", "--raw"});
  EXPECT_EQ(logs.exit_code, 1) << logs.Describe();
  EXPECT_NE(logs.err.find("spill file " + file + " holds 1000 bytes"), std::string::npos) << logs.err;
}

TEST(CliSpill, PruneDeletesTheSpillFilesOfThePrunedRuns) {
  CliSandbox box;
  Outcome o = box.Run({"--json", "run", CatRunbook(box, Bytes(2'000'000))});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run = RunIdOf(o);
  const std::string dir = box.journal_path() + ".blobs/" + run;
  ASSERT_TRUE(FileExists(dir + "/big.1.stdout"));

  Outcome prune = box.Run({"journal", "prune", "--older-than", "2999-01-01"});
  ASSERT_EQ(prune.exit_code, 0) << prune.Describe();
  EXPECT_NE(prune.out.find("pruned 1 run(s)"), std::string::npos) << prune.out;
  EXPECT_NE(prune.out.find("(1.9 MiB)"), std::string::npos) << prune.out;
  EXPECT_FALSE(std::filesystem::exists(dir));
  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

TEST(CliSpill, VerifyNotesASpillDirectoryOfARunNotInTheJournalAndStillPasses) {
  CliSandbox box;
  Outcome o = box.Run({"--json", "run", CatRunbook(box, Bytes(2'000'000))});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  const std::string blobs = box.journal_path() + ".blobs/";
  // What a prune killed between its commit and the deletion of the files
  // leaves: the directory of a run the journal no longer has.
  std::filesystem::copy(blobs + RunIdOf(o), blobs + "0badc0ffee00");
  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_NE(verify.out.find("note:    " + blobs + "0badc0ffee00 holds spill files of a run that is not in this journal"),
            std::string::npos)
      << verify.out;
  EXPECT_EQ(verify.out.find(blobs + RunIdOf(o)), std::string::npos) << verify.out;
  Outcome json = box.Run({"--json", "journal", "verify"});
  EXPECT_EQ(json.exit_code, 0) << json.Describe();
  auto v = ParseJson(json.out, "verify --json");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->at("stray_spill_dirs"), boost::json::array({boost::json::value(blobs + "0badc0ffee00")}));
}

TEST(CliSpill, ResumeRestoresTheStdoutOfAStepWhoseOutputSpilled) {
  CliSandbox box;
  std::string text;
  for (int i = 0; i < 160'000; ++i) {
    char line[16];
    std::snprintf(line, sizeof line, "line %07d\n", i);
    text += line;
  }
  text += "END-MARK\n";
  box.SetEnv("DATA", box.WriteFile("data.txt", text));
  box.SetEnv("FLAG", box.Path("flag"));
  box.SetEnv("LOG", box.Path("log"));
  std::string rb = box.WriteRunbook("resume-big", R"(name: resume-big
steps:
  - id: big
    run: cat "$DATA"
  - id: middle
    needs: [big]
    run: test -f "$FLAG"
  - id: last
    needs: [middle]
    run: echo "length ${{ length(steps.big.outputs.stdout) }} ends ${{ ends_with(trim(steps.big.outputs.stdout), 'END-MARK') }}" >> "$LOG"
)");
  Outcome first = box.Run({"--json", "run", rb});
  ASSERT_EQ(first.exit_code, 1) << first.Describe();
  std::string run = RunIdOf(first);
  ASSERT_TRUE(FileExists(box.journal_path() + ".blobs/" + run + "/big.1.stdout"));

  std::ofstream(box.Path("flag")) << "fixed\n";
  Outcome second = box.Run({"--json", "resume", run});
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  EXPECT_EQ(ReadFile(box.Path("log")), "length " + std::to_string(text.size()) + " ends true\n");
}

}  // namespace
}  // namespace runbook::clitest
