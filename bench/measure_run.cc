// measure_run: runs one command and reports its wall time, CPU time and peak
// resident set size, for bench/harness.py. It exists because a child's
// ru_maxrss includes the memory of the process that spawned it (Linux carries
// the old address space's high-water mark across exec, and fork, vfork and
// posix_spawn all start from the parent's), so a command spawned straight
// from the Python harness would report Python's 20-odd MiB. Spawned from this
// small program instead, the figure is the command's own (and its children's):
// what `/usr/bin/time -v` calls "Maximum resident set size".
//
//   measure_run RESULT_FILE -- PROGRAM ARGS...
//
// stdin, stdout and stderr are passed through. Writes one line to RESULT_FILE:
// "WALL_SECONDS CPU_SECONDS MAXRSS_KIB EXIT_STATUS" (CPU = user + system of the
// command and every descendant it waited for; exit status as from a shell:
// 128 + N for a signal) and exits with the command's status.
// Single-threaded; links nothing of runbook.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstring>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: measure_run RESULT_FILE -- PROGRAM ARGS...\n");
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  pid_t pid;
  int e = posix_spawnp(&pid, argv[3], nullptr, nullptr, argv + 3, environ);
  if (e != 0) {
    std::fprintf(stderr, "measure_run: cannot run %s: %s\n", argv[3], std::strerror(e));
    return 127;
  }
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    std::perror("measure_run: wait4");
    return 1;
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE* out = std::fopen(argv[1], "w");
  if (!out) {
    std::perror("measure_run: result file");
    return 1;
  }
  std::fprintf(out, "%.6f %.6f %ld %d\n", wall, cpu, ru.ru_maxrss, code);
  std::fclose(out);
  return code;
}
