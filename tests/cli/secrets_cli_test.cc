// Acceptance: a secret never reaches the evidence (SPEC.md §6). Steps print
// it plainly, base64- and URL-encoded, split across two output chunks, after
// more than a MiB of output (so that it lands in a spill file), and a server
// echoes it back in the body of a failed HTTP request; afterwards the raw
// bytes of the journal file (and its WAL), its spill files and every export
// format contain none of those forms.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>

#include "engine/masker.h"
#include "tests/cli/cli_test_util.h"
#include "tests/fakes/http_test_server.h"

namespace runbook::clitest {
namespace {

TEST(CliSecrets, NoFormOfASecretReachesTheJournalFileOrAnyExport) {
  CliSandbox box;
  std::string error;
  auto server = fakes::HttpTestServer::Start(box.dir(), &error);
  ASSERT_TRUE(server) << error;
  const std::string secret = "s3cr3t+V4lue/with=signs";
  box.SetEnv("API_TOKEN", secret);
  std::string rb = box.WriteRunbook("leaky", R"(name: leaky
secrets:
  TOKEN: {env: API_TOKEN}
defaults:
  shell: bash
  env:
    TOKEN: ${{ secrets.TOKEN }}
steps:
  - id: plain
    run: printf 'token is %s\n' "$TOKEN"
  - id: encoded
    run: |
      printf '%s' "$TOKEN" | base64 -w0; echo
      printf '%s' "$TOKEN" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read(), safe=""))'
  - id: split
    run: |
      printf 'start %s' "${TOKEN:0:9}"; sleep 0.5; printf '%s end\n' "${TOKEN:9}"
  - id: big
    run: |
      head -c 1500000 /dev/zero | tr '\0' 'x'; printf '\ntoken is %s\n' "$TOKEN"
  - id: echoed
    type: http
    url: )" + server->base() + R"(/echo
    headers: {Authorization: "Bearer ${{ secrets.TOKEN }}"}
    expect: {status: [201]}
    continue_on_error: true
)");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  std::string run = JsonString(*summary, "run_id");
  // The steps really did print the secret: what reached the journal is the mask.
  EXPECT_EQ(box.RawLogs(run, "plain"), "token is ***\n");
  EXPECT_EQ(box.RawLogs(run, "split"), "start *** end\n");
  EXPECT_EQ(box.RawLogs(run, "encoded"), "***\n***\n");
  EXPECT_NE(boost::json::serialize(box.ShowJson(run)).find("expected status 201"), std::string::npos);

  const std::vector<std::string> forms = {secret, Base64(secret), UrlEncode(secret)};
  ASSERT_NE(forms[1], forms[0]);
  ASSERT_NE(forms[2], forms[0]);
  std::string raw = ReadFile(box.journal_path()) + ReadFile(box.journal_path() + "-wal");
  ASSERT_GT(raw.size(), 4096u);
  for (const auto& f : forms) EXPECT_EQ(Occurrences(raw, f), 0) << "journal file holds '" << f << "'";
  // Output past 1 MiB is in spill files beside the journal: the same masked bytes.
  std::string big = box.RawLogs(run, "big");
  const std::string tail = "\ntoken is ***\n";
  EXPECT_EQ(big.substr(big.size() < tail.size() ? 0 : big.size() - tail.size()), tail);
  int spill_files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(box.journal_path() + ".blobs")) {
    if (!entry.is_regular_file()) continue;
    ++spill_files;
    std::string bytes = ReadFile(entry.path().string());
    EXPECT_NE(bytes.find("token is ***"), std::string::npos) << entry.path();
    for (const auto& f : forms) EXPECT_EQ(Occurrences(bytes, f), 0) << entry.path() << " holds '" << f << "'";
  }
  EXPECT_EQ(spill_files, 1);
  for (const char* format : {"md", "html", "json", "csv"}) {
    Outcome e = box.Run({"journal", "export", run, "--format", format});
    ASSERT_EQ(e.exit_code, 0) << format << ": " << e.Describe();
    if (std::string(format) != "csv") {  // the CSV is the timeline only, without output
      EXPECT_NE(e.out.find("***"), std::string::npos) << format << " export should show the masks";
    }
    for (const auto& f : forms) EXPECT_EQ(Occurrences(e.out, f), 0) << format << " export holds '" << f << "'";
  }
}

TEST(CliSecrets, ASecretFileOthersCanReadIsRefused) {
  CliSandbox box;
  std::string file = box.WriteFile("token", "file-secret-value\n");
  std::string rb = box.WriteRunbook("fromfile", R"(name: fromfile
secrets:
  TOKEN: {file: )" + file + R"(}
steps:
  - id: show
    env: {TOKEN: "${{ secrets.TOKEN }}"}
    run: echo "$TOKEN"
)");
  chmod(file.c_str(), 0644);
  Outcome o = box.Run({"run", rb});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find(file + " is readable by others than its owner (mode 0644); run chmod 600"), std::string::npos)
      << o.err;
  chmod(file.c_str(), 0600);
  o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  EXPECT_EQ(box.RawLogs(JsonString(*summary, "run_id"), "show"), "***\n");
}

}  // namespace
}  // namespace runbook::clitest
