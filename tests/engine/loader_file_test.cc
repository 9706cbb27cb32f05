// Reading a runbook file: what is not a regular file is refused with what it
// is, and never blocks — even when it is swapped in after the catalog looked
// (the load opens without waiting for a FIFO's writer).
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/loader.h"
#include "steps/registry.h"

namespace runbook {
namespace {

class LoaderFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("loader_file_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }
  // The one diagnostic of loading `path`, "" if it loaded.
  std::string LoadError(const std::string& path) {
    Diagnostics diags;
    auto spec = LoadRunbookFile(path, steps::BuiltinStepTypes(), diags);
    if (spec) return "";
    EXPECT_EQ(diags.all().size(), 1u);
    return diags.all().empty() ? "?" : diags.all()[0].Format();
  }

  std::filesystem::path dir_;
};

TEST_F(LoaderFileTest, AFifoWithoutAWriterIsRefusedAtOnce) {
  const std::string fifo = Path("fifo.yaml");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ::alarm(60);  // a blocking open would hang here: fail loudly instead
  EXPECT_EQ(LoadError(fifo), fifo + ": error: not a regular file (a FIFO)");
  ::alarm(0);
  EXPECT_EQ(CheckRunbookFile(fifo).message(), fifo + ": not a regular file (a FIFO)");
}

TEST_F(LoaderFileTest, DirectoriesAndDevicesAreNamedMissingFilesAreNotFound) {
  std::filesystem::create_directories(Path("dir.yaml"));
  EXPECT_EQ(LoadError(Path("dir.yaml")), Path("dir.yaml") + ": error: not a regular file (a directory)");
  EXPECT_EQ(CheckRunbookFile(Path("dir.yaml")).message(), Path("dir.yaml") + ": not a regular file (a directory)");
  EXPECT_EQ(CheckRunbookFile("/dev/null").message(), "/dev/null: not a regular file (a character device)");
  Status missing = CheckRunbookFile(Path("missing.yaml"));
  EXPECT_EQ(missing.code(), Status::Code::kNotFound);
  EXPECT_EQ(missing.message(), "no such runbook file: " + Path("missing.yaml"));
  EXPECT_EQ(LoadError(Path("missing.yaml")),
            Path("missing.yaml") + ": error: cannot read runbook: no such file or directory");
}

TEST_F(LoaderFileTest, ARegularFileOrALinkToOneLoads) {
  { std::ofstream(Path("ok.yaml")) << "name: ok\nsteps:\n  - {id: a, run: echo a}\n"; }
  std::filesystem::create_symlink(Path("ok.yaml"), Path("link.yaml"));
  EXPECT_TRUE(CheckRunbookFile(Path("link.yaml")).ok());
  EXPECT_EQ(LoadError(Path("link.yaml")), "");
}

}  // namespace
}  // namespace runbook
