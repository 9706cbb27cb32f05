// spawn_floor: the floor of every process-running workload in bench/. It
// posix_spawns a program N times, at most J at a time, and waits for each;
// nothing else. No engine, tool or journal can run N processes faster than
// this on the same machine, so the harness (bench/harness.py) reports every
// tool's time per step as "this floor plus the tool's own overhead".
//
//   spawn_floor N [-j J] [-- PROGRAM ARGS...]     default: -j 2 -- /bin/true
//
// Prints "spawned N processes, J at a time, in S s (U us per process)" on
// stdout. Exits 1 if a spawn fails or a child does not exit 0.
// Single-threaded; a standalone program (links nothing of runbook).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

int Usage() {
  std::fprintf(stderr, "usage: spawn_floor N [-j J] [-- PROGRAM ARGS...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  char* end = nullptr;
  long n = std::strtol(argv[1], &end, 10);
  if (*end != '\0' || n < 1) return Usage();
  long jobs = 2;
  std::vector<char*> child_argv;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "-j") == 0 && i + 1 < argc) {
      jobs = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || jobs < 1) return Usage();
    } else if (std::strcmp(argv[i], "--") == 0) {
      child_argv.assign(argv + i + 1, argv + argc);
      break;
    } else {
      return Usage();
    }
  }
  static char kTrue[] = "/bin/true";
  if (child_argv.empty()) child_argv.push_back(kTrue);
  child_argv.push_back(nullptr);

  auto start = std::chrono::steady_clock::now();
  long started = 0, running = 0, failed = 0;
  while (started < n || running > 0) {
    while (started < n && running < jobs) {
      pid_t pid;
      int e = posix_spawn(&pid, child_argv[0], nullptr, nullptr, child_argv.data(), environ);
      if (e != 0) {
        std::fprintf(stderr, "spawn_floor: cannot spawn %s: %s\n", child_argv[0], std::strerror(e));
        return 1;
      }
      ++started;
      ++running;
    }
    int status = 0;
    if (::wait(&status) < 0) {
      std::perror("spawn_floor: wait");
      return 1;
    }
    --running;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("spawned %ld processes, %ld at a time, in %.3f s (%.1f us per process)\n", n, jobs, s,
              s * 1e6 / static_cast<double>(n));
  if (failed) {
    std::fprintf(stderr, "spawn_floor: %ld children did not exit 0\n", failed);
    return 1;
  }
  return 0;
}
