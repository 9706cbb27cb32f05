// Every invalid runbook under tests/fixtures/invalid/NAME.yaml must produce
// exactly the diagnostics in NAME.err (error messages are API), and every
// runbook under tests/fixtures/valid and runbooks/ must compile cleanly.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/compiler.h"
#include "engine/loader.h"
#include "steps/registry.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Diagnose(const fs::path& file, const std::string& shown_as) {
  Diagnostics diags;
  auto spec = LoadRunbookText(ReadFile(file), shown_as, steps::BuiltinStepTypes(), diags);
  if (spec) Compile(std::move(*spec), steps::BuiltinStepTypes(), diags);
  diags.SortByLocation();
  return diags.FormatAll();
}

std::vector<fs::path> YamlFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(InvalidFixtures, EachReportsExactlyItsExpectedMessages) {
  auto files = YamlFiles(fs::path(RUNBOOK_TEST_DATA) / "fixtures/invalid");
  ASSERT_GE(files.size(), 40u) << "the fixture set shrank";
  for (const auto& f : files) {
    fs::path expected_file = f;
    expected_file.replace_extension(".err");
    ASSERT_TRUE(fs::exists(expected_file)) << expected_file;
    std::string expected = ReadFile(expected_file);
    EXPECT_FALSE(expected.empty()) << f << " has no expected error";
    EXPECT_EQ(Diagnose(f, f.filename().string()), expected) << "fixture " << f.filename();
  }
}

TEST(ValidRunbooks, FixturesAndShippedRunbooksCompileWithoutDiagnostics) {
  std::vector<fs::path> files = YamlFiles(fs::path(RUNBOOK_TEST_DATA) / "fixtures/valid");
  auto shipped = YamlFiles(fs::path(RUNBOOK_SOURCE_DIR) / "runbooks");
  files.insert(files.end(), shipped.begin(), shipped.end());
  ASSERT_FALSE(shipped.empty());
  for (const auto& f : files) EXPECT_EQ(Diagnose(f, f.string()), "") << f;
}

}  // namespace
}  // namespace runbook
