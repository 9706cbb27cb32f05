// Acceptance (issue #8, real-world faults around a step): an HTTP server that
// dies in the middle of its response, a child that closes its stdout early
// but keeps running, a child whose output holds NUL bytes and invalid UTF-8
// (stored byte for byte, also past the masker and across chunks), SIGINT
// delivered twice, and SIGTERM while `finally` runs.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "journal/sha256.h"
#include "tests/cli/cli_test_util.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;

std::string RunIdOf(const Outcome& o) {
  auto summary = ParseJson(o.out, "run --json");
  return summary ? JsonString(*summary, "run_id") : "";
}

// --- An HTTP server that dies mid-response -----------------------------------

// Listens on 127.0.0.1 and answers each connection with the next of its
// scripted half-responses, then drops the connection: `kMidBody` sends the
// status line, headers promising 100,000 bytes and 30 of them, then closes
// (FIN); `kMidHeaders` sends half a status line and resets the connection
// (RST), as a server process killed by the OOM killer would look. A thread of
// this test; stops when destroyed.
class DyingServer {
 public:
  enum class Death { kMidBody, kMidHeaders };

  explicit DyingServer(std::vector<Death> script) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~DyingServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  int served() const { return served_; }

 private:
  void Serve() {
    for (Death death : script_) {
      int c = -1;
      while (!stop_ && c < 0) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      }
      if (c < 0) return;
      std::string request;
      char buf[4096];
      while (!stop_ && request.find("\r\n\r\n") == std::string::npos) {
        pollfd p{c, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      std::string reply = death == Death::kMidBody
                              ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                                "{\"status\": \"partial\", \"x\": \""
                              : "HTTP/1.1 2";
      (void)!::write(c, reply.data(), reply.size());
      if (death == Death::kMidHeaders) {
        linger l{1, 0};  // close() sends RST
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
      ::close(c);
      ++served_;
    }
  }

  std::vector<Death> script_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
  std::thread thread_;
};

TEST(CliStepFaults, HttpServerDyingMidResponseFailsEachAttemptClearlyAndTheRunGoesOn) {
  CliSandbox box;
  DyingServer server({DyingServer::Death::kMidBody, DyingServer::Death::kMidHeaders});
  ASSERT_GT(server.port(), 0);
  std::string rb = box.WriteRunbook("dying", "name: dying\nsteps:\n"
                                             "  - id: call\n"
                                             "    type: http\n"
                                             "    url: http://127.0.0.1:" + std::to_string(server.port()) + "/status\n"
                                             "    timeout: 20s\n"
                                             "    retry: {attempts: 2, delay: 0s}\n"
                                             "    outputs:\n"
                                             "      state: {from: body, json: /status}\n"
                                             "  - id: cleanup\n"
                                             "    needs: [call]\n"
                                             "    if: ${{ failure() }}\n"
                                             "    run: echo cleaned up\n");
  Outcome o = box.Run({"--json", "run", rb}, seconds(90));
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  EXPECT_EQ(server.served(), 2);
  std::string run_id = RunIdOf(o);
  ASSERT_FALSE(run_id.empty()) << o.Describe();
  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  auto attempts = j->GetAttempts(run_id);
  ASSERT_TRUE(attempts.ok()) << attempts.status().message();
  std::vector<journal::AttemptRecord> calls;
  for (const auto& a : *attempts)
    if (a.step_id == "call") calls.push_back(a);
  ASSERT_EQ(calls.size(), 2u);
  for (const auto& a : calls) {
    SCOPED_TRACE("attempt " + std::to_string(a.attempt));
    EXPECT_EQ(a.status, journal::AttemptStatus::kFailed) << a.error;
    EXPECT_FALSE(a.error.empty());
    EXPECT_EQ(a.error.find("timed out"), std::string::npos) << "the dead connection was noticed only by the timeout: "
                                                             << a.error;
    EXPECT_EQ(a.outputs_json.find("partial"), std::string::npos) << "a truncated body was used: " << a.outputs_json;
  }
  boost::json::value show = box.ShowJson(run_id);
  const boost::json::object* cleanup = FindStep(show, "cleanup");
  ASSERT_NE(cleanup, nullptr) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*cleanup, "status"), "succeeded");
}

// --- A child that closes its stdout early --------------------------------------

TEST(CliStepFaults, ChildClosingStdoutEarlyIsWaitedForAndItsExitCodeCounts) {
  CliSandbox box;
  std::string done = box.Path("closer.done");
  std::string rb = box.WriteRunbook("closer", "name: closer\nsteps:\n"
                                              "  - id: closer\n"
                                              "    timeout: 60s\n"
                                              "    run: |\n"
                                              "      echo before closing\n"
                                              "      exec 1>&- 2>&-\n"
                                              "      sleep 1\n"
                                              "      touch " + done + "\n"
                                              "      exit 3\n"
                                              "  - id: next\n"
                                              "    needs: [closer]\n"
                                              "    if: ${{ always() }}\n"
                                              "    run: test -e " + done + "\n");
  Outcome o = box.Run({"--json", "run", rb});
  EXPECT_EQ(o.exit_code, 1) << o.Describe();
  std::string run_id = RunIdOf(o);
  boost::json::value show = box.ShowJson(run_id);
  const boost::json::object* closer = FindStep(show, "closer");
  ASSERT_NE(closer, nullptr) << boost::json::serialize(show);
  EXPECT_EQ(JsonString(*closer, "status"), "failed") << boost::json::serialize(*closer);
  EXPECT_EQ(closer->at("exit_code").to_number<int>(), 3) << boost::json::serialize(*closer);
  EXPECT_EQ(box.RawLogs(run_id, "closer"), "before closing\n");
  const boost::json::object* next = FindStep(show, "next");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(JsonString(*next, "status"), "succeeded") << "the step was over before its process exited";
}

// --- Output that is not text ----------------------------------------------------

// One stream of a step's (first attempt's) output as journaled.
std::string Stream(const journal::Journal& j, const std::string& run_id, const std::string& step,
                   journal::Stream stream) {
  std::string out;
  auto chunks = j.GetOutput(run_id, step);
  EXPECT_TRUE(chunks.ok()) << chunks.status().message();
  if (chunks.ok())
    for (const auto& c : *chunks)
      if (c.stream == stream) out += c.data;
  return out;
}

TEST(CliStepFaults, NulBytesAndInvalidUtf8AreJournaledByteExactEvenWithASecretBeingMasked) {
  CliSandbox box;
  box.SetEnv("RB_TOKEN", "s3cr3t-t0ken");
  // printf escapes: NUL, 0xFF 0xFE, an overlong '/', a truncated euro sign, a
  // lone continuation byte, CR LF; then 300 KB of random bytes (several
  // chunks, every byte value), copied to a file to compare with.
  std::string copy = box.Path("random.bin");
  std::string rb = box.WriteRunbook("binary", "name: binary\n"
                                              "secrets:\n"
                                              "  token: {env: RB_TOKEN}\n"
                                              "steps:\n"
                                              "  - id: odd\n"
                                              "    env: {TOKEN: \"${{ secrets.token }}\"}\n"
                                              "    run: |\n"
                                              "      printf 'a\\000b\\377\\376c\\300\\257d\\342\\202e\\200f\\r\\n'\n"
                                              "      printf '\\000\\000\\000' >&2\n"
                                              "  - id: random\n"
                                              "    env: {TOKEN: \"${{ secrets.token }}\"}\n"
                                              "    run: head -c 300000 /dev/urandom | tee " + copy + "\n");
  Outcome o = box.Run({"--json", "run", rb});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run_id = RunIdOf(o);

  const std::string odd("a\0b\xff\xfe" "c\xc0\xaf" "d\xe2\x82" "e\x80" "f\r\n", 16);
  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Stream(*j, run_id, "odd", journal::Stream::kStdout), odd);
  EXPECT_EQ(Stream(*j, run_id, "odd", journal::Stream::kStderr), std::string(3, '\0'));
  std::string random = ReadFile(copy);
  ASSERT_EQ(random.size(), 300000u);
  // The random bytes could contain the secret only with negligible odds.
  EXPECT_EQ(Stream(*j, run_id, "random", journal::Stream::kStdout), random);
  EXPECT_EQ(box.RawLogs(run_id, "random"), random) << "runbook logs --raw";

  boost::json::value show = box.ShowJson(run_id);
  const boost::json::object* s = FindStep(show, "odd");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->at("stdout_bytes").to_number<int64_t>(), static_cast<int64_t>(odd.size()));
  EXPECT_EQ(JsonString(*s, "stdout_sha256"), journal::Sha256Hex(odd));
  EXPECT_EQ(s->at("stderr_bytes").to_number<int64_t>(), 3);
  s = FindStep(show, "random");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(JsonString(*s, "stdout_sha256"), journal::Sha256Hex(random));
  Outcome verify = box.Run({"journal", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

// --- Signals at awkward moments ------------------------------------------------

// A `finally` step that says it started (touches `ready`) and then waits for
// `go` (up to ~60 s).
std::string GatedFinally(const CliSandbox& box, const std::string& id) {
  return "  - id: " + id + "\n"
         "    timeout: 120s\n"
         "    run: |\n"
         "      touch " + box.Path(id + ".ready") + "\n"
         "      i=0; while [ ! -e " + box.Path("go") + " ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n"
         "      echo " + id + " done\n";
}

TEST(CliStepFaults, SecondSigintCancelsTheFinallyStepsAndTheRunEndsCancelled) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("twice", "name: twice\nsteps:\n"
                                             "  - id: main\n"
                                             "    run: |\n"
                                             "      touch " + box.Path("main.ready") + "\n"
                                             "      sleep 1000\n"
                                             "finally:\n" + GatedFinally(box, "fin"));
  auto run = box.Start({"--json", "run", rb});
  ASSERT_TRUE(WaitFor([&] { return FileExists(box.Path("main.ready")) || run->Exited(); }, seconds(30)));
  ASSERT_FALSE(run->Exited()) << run->Wait(seconds(1)).Describe();
  run->Signal(SIGINT);
  ASSERT_TRUE(WaitFor([&] { return FileExists(box.Path("fin.ready")) || run->Exited(); }, seconds(30)));
  ASSERT_FALSE(run->Exited()) << "finally did not start after one SIGINT: " << run->Wait(seconds(1)).Describe();
  run->Signal(SIGINT);
  Outcome o = run->Wait(seconds(30));  // without the second signal: ~60 s
  EXPECT_EQ(o.exit_code, 130) << o.Describe();
  std::string run_id = RunIdOf(o);
  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(JsonString(show, "status"), "cancelled") << boost::json::serialize(show);
  for (const char* id : {"main", "fin"}) {
    const boost::json::object* s = FindStep(show, id);
    ASSERT_NE(s, nullptr) << id;
    EXPECT_EQ(JsonString(*s, "status"), "cancelled") << id << ": " << boost::json::serialize(*s);
  }
  auto j = box.OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(CountEventKinds(*j, run_id)["cancel"], 2);
}

TEST(CliStepFaults, SigtermDuringFinallyLetsTheFinallyStepsFinishAndTheRunEndsCancelled) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("late", "name: late\nsteps:\n"
                                            "  - id: main\n"
                                            "    run: echo main\n"
                                            "finally:\n" + GatedFinally(box, "fin") +
                                            "  - id: fin2\n"
                                            "    needs: [fin]\n"
                                            "    if: ${{ always() }}\n"
                                            "    run: echo fin2 done\n");
  auto run = box.Start({"--json", "run", rb});
  ASSERT_TRUE(WaitFor([&] { return FileExists(box.Path("fin.ready")) || run->Exited(); }, seconds(30)));
  ASSERT_FALSE(run->Exited()) << run->Wait(seconds(1)).Describe();
  run->Signal(SIGTERM);
  // The engine has taken the signal (journaled a cancel event) before the
  // finally step is allowed to end.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto j = box.OpenJournal();
        auto runs = j ? j->ListRuns({}) : Result<std::vector<journal::RunRecord>>(Status::Internal("no journal"));
        return runs.ok() && !runs->empty() && CountEventKinds(*j, runs->front().id)["cancel"] >= 1;
      },
      seconds(30)));
  box.WriteFile("go", "");
  Outcome o = run->Wait(seconds(60));
  EXPECT_EQ(o.exit_code, 143) << o.Describe();
  std::string run_id = RunIdOf(o);
  boost::json::value show = box.ShowJson(run_id);
  EXPECT_EQ(JsonString(show, "status"), "cancelled") << boost::json::serialize(show);
  const boost::json::object* main = FindStep(show, "main");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(JsonString(*main, "status"), "succeeded");
  for (const char* id : {"fin", "fin2"}) {
    const boost::json::object* s = FindStep(show, id);
    ASSERT_NE(s, nullptr) << id << " did not run: " << boost::json::serialize(show);
    EXPECT_EQ(JsonString(*s, "status"), "succeeded") << id << ": " << boost::json::serialize(*s);
    EXPECT_EQ(box.RawLogs(run_id, id), std::string(id) + " done\n");
  }
}

}  // namespace
}  // namespace runbook::clitest
