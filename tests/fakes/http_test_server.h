// HttpTestServer: a real HTTP(S) server on 127.0.0.1 for the `http` step's
// tests, run as a child process (tests/fixtures/http_server.py, python3).
// Start() waits for it to listen and learns its port; Requests() reads what
// it received (one JSON object per request, in order); the destructor kills
// and reaps it. MakeSelfSignedCert() makes a certificate for 127.0.0.1 and
// localhost with the openssl CLI. Header-only so that both steps_tests and
// cli_tests can use it; test main thread only.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace runbook::fakes {

class HttpTestServer {
 public:
  // Starts the server, its log in `dir`. TLS when cert/key are given. Null
  // (with `error` set) if it does not come up within 20 s.
  static std::unique_ptr<HttpTestServer> Start(const std::string& dir, std::string* error,
                                               const std::string& cert = "", const std::string& key = "") {
    static int counter = 0;
    std::string log = dir + "/http-server-" + std::to_string(++counter) + ".log";
    std::string err_path = log + ".stderr";
    std::vector<std::string> args = {"python3", std::string(RUNBOOK_SOURCE_DIR) + "/tests/fixtures/http_server.py",
                                     "--log", log};
    if (!cert.empty()) args.insert(args.end(), {"--tls", cert, key});
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      *error = "pipe failed";
      return nullptr;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, "python3", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      *error = "cannot start python3";
      return nullptr;
    }
    std::unique_ptr<HttpTestServer> server(new HttpTestServer(pid, log));
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    if (!line.starts_with("PORT ")) {
      std::ifstream in(err_path);
      std::stringstream ss;
      ss << in.rdbuf();
      *error = "the test server did not start: " + ss.str();
      return nullptr;
    }
    server->port_ = std::atoi(line.c_str() + 5);
    return server;
  }

  ~HttpTestServer() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" (or https).
  std::string base(bool https = false) const {
    return std::string(https ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }

  // Every request received so far: {method, path, query, headers, body}.
  std::vector<boost::json::value> Requests() const {
    std::vector<boost::json::value> out;
    std::ifstream in(log_);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(boost::json::parse(line));
    return out;
  }

 private:
  HttpTestServer(pid_t pid, std::string log) : pid_(pid), log_(std::move(log)) {}

  pid_t pid_;
  std::string log_;
  int port_ = 0;
};

// Writes dir/cert.pem and dir/key.pem: self-signed, for IP 127.0.0.1 and
// DNS `dns_name`. False if openssl failed.
inline bool MakeSelfSignedCert(const std::string& dir, const std::string& dns_name = "localhost") {
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" +
                    dns_name + " -addext subjectAltName=IP:127.0.0.1,DNS:" + dns_name + " -keyout '" + dir +
                    "/key.pem' -out '" + dir + "/cert.pem' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace runbook::fakes
