// `runbook journal backup DEST`: a consistent, verified copy of the journal
// and its spill files, never replacing anything, leaving nothing half-made.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <thread>

#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

namespace fs = std::filesystem;

std::string RunIdOf(const Outcome& o) {
  auto v = ParseJson(o.out, "--json output");
  return v ? JsonString(*v, "run_id") : "";
}

// The names in the sandbox's directory that start with `prefix`.
std::vector<std::string> Named(const CliSandbox& box, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(box.dir()))
    if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// 3,000,000 bytes of stdout: past the 1 MiB spill threshold.
constexpr const char* kBigRunbook = R"(name: big
steps:
  - id: big
    run: head -c 3000000 /dev/zero | tr '\0' x
  - id: small
    run: echo small
)";

TEST(CliBackup, CopiesRunsEventsAndSpilledOutputAndTheCopyVerifies) {
  CliSandbox box;
  Outcome o = box.Run({"--json", "run", box.WriteRunbook("big", kBigRunbook)});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run = RunIdOf(o);
  ASSERT_TRUE(fs::is_directory(box.journal_path() + ".blobs")) << "the big step spilled";

  std::string copy = box.Path("copy.db");
  Outcome b = box.Run({"--json", "journal", "backup", copy});
  ASSERT_EQ(b.exit_code, 0) << b.Describe();
  auto report = ParseJson(b.out, "journal backup --json");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("runs").to_number<int>(), 1);
  EXPECT_EQ(report->at("spill_files").to_number<int>(), 1);
  EXPECT_EQ(report->at("verify").at("ok"), boost::json::value(true));

  // One private file and its spill directory; nothing temporary left.
  struct stat st;
  ASSERT_EQ(stat(copy.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Named(box, "copy.db"), (std::vector<std::string>{"copy.db", "copy.db.blobs"}));
  EXPECT_EQ(IntegrityCheck(copy), "ok");

  // The copy reads like the journal, every byte of the spilled output too.
  Outcome logs = box.Run({"--journal", copy, "logs", run, "big", "--raw"});
  ASSERT_EQ(logs.exit_code, 0) << logs.Describe();
  EXPECT_EQ(logs.out, std::string(3000000, 'x'));
  Outcome verify = box.Run({"--journal", copy, "journal", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_NE(verify.out.find("2 attempt(s) re-hashed"), std::string::npos) << verify.out;
  EXPECT_EQ(box.Run({"--journal", copy, "--json", "show", run}).out, box.Run({"--json", "show", run}).out);
}

TEST(CliBackup, NeverReplacesAFileOrASpillDirectory) {
  CliSandbox box;
  ASSERT_EQ(box.Run({"run", box.WriteRunbook("big", kBigRunbook)}).exit_code, 0);
  std::string taken = box.WriteFile("taken.db", "precious");
  Outcome b = box.Run({"journal", "backup", taken});
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_NE(b.err.find("taken.db exists; a backup never replaces a file"), std::string::npos) << b.err;
  EXPECT_EQ(ReadFile(taken), "precious");

  ASSERT_TRUE(fs::create_directory(box.Path("other.db.blobs")));
  b = box.Run({"journal", "backup", box.Path("other.db")});
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_NE(b.err.find("other.db.blobs exists"), std::string::npos) << b.err;
  EXPECT_FALSE(fs::exists(box.Path("other.db")));
  EXPECT_TRUE(fs::is_empty(box.Path("other.db.blobs")));
  EXPECT_TRUE(Named(box, "taken.db.partial").empty());
  EXPECT_TRUE(Named(box, "other.db.partial").empty());
}

TEST(CliBackup, AFailureHalfwayLeavesNothingBehind) {
  CliSandbox box;
  Outcome o = box.Run({"--json", "run", box.WriteRunbook("big", kBigRunbook)});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  // The spill file replaced by a symbolic link: readers refuse it, so the
  // copy fails after the database was copied.
  std::string dir = box.journal_path() + ".blobs/" + RunIdOf(o);
  std::string file = dir + "/big.1.stdout";
  ASSERT_TRUE(fs::exists(file));
  fs::rename(file, box.Path("moved"));
  fs::create_symlink(box.Path("moved"), file);
  Outcome b = box.Run({"journal", "backup", box.Path("copy.db")});
  EXPECT_EQ(b.exit_code, 1) << b.Describe();
  EXPECT_NE(b.err.find("journal backup: "), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("big.1.stdout"), std::string::npos) << b.err;
  EXPECT_TRUE(Named(box, "copy.db").empty()) << "no copy, no spill directory, no temporary file";
}

TEST(CliBackup, ACopyTakenWhileARunWritesIsASnapshotThatVerifies) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("busy", R"(name: busy
steps:
  - id: a
    run: for i in $(seq 1 40); do echo "line $i"; sleep 0.05; done
  - id: b
    needs: [a]
    run: for i in $(seq 1 40); do echo "line $i"; sleep 0.05; done
)");
  auto running = box.Start({"--json", "run", rb});
  // Copies taken while the run goes on: each is whole in itself.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    std::string copy = box.Path("copy" + std::to_string(i) + ".db");
    Outcome b = box.Run({"journal", "backup", copy});
    EXPECT_EQ(b.exit_code, 0) << b.Describe();
    EXPECT_EQ(IntegrityCheck(copy), "ok");
  }
  Outcome done = running->Wait();
  ASSERT_EQ(done.exit_code, 0) << done.Describe();
  Outcome after = box.Run({"journal", "backup", box.Path("final.db")});
  EXPECT_EQ(after.exit_code, 0) << after.Describe();
  auto show = box.Run({"--journal", box.Path("final.db"), "--json", "show", RunIdOf(done)});
  auto v = ParseJson(show.out, "show --json");
  ASSERT_TRUE(v);
  EXPECT_EQ(JsonString(*v, "status"), "succeeded");
}

}  // namespace
}  // namespace runbook::clitest
