#!/usr/bin/env bash
# Installs the dependencies, builds the test suite and runs all of it:
#   1. the whole suite (ctest) in a Debug build (build-test/),
#   2. a short libFuzzer smoke run of every fuzz target (clang),
#   3. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer
#      (build-asan/), unless RUNBOOK_SKIP_ASAN=1,
#   4. the test binaries whose code has threads (journal writer, sql worker,
#      extraction worker) under ThreadSanitizer (build-tsan/), unless
#      RUNBOOK_SKIP_TSAN=1.
# The shipped runbooks' tests run against real MariaDB, Redis and a web
# fixture that scripts/test-env.sh starts on 127.0.0.1 and stops at the end.
# Exits non-zero if anything fails; ctest's summary is printed last.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test || exit 1
jobs=$(nproc)

# Disk: a full run writes about 6 GB (four build trees, ccache's compressed
# copies of their objects, the tests' journals). Said up front, so that a
# build stopping with "No space left on device" is not a mystery.
for dir in . "${TMPDIR:-/tmp}"; do
  free_mb=$(df -Pm "$dir" | awk 'NR == 2 {print $4}')
  echo "== disk: ${free_mb} MB free for $(cd "$dir" && pwd) =="
  if (( free_mb < 7 * 1024 )); then
    echo "warning: a full run writes about 6 GB; with ${free_mb} MB free the build or a test may run out of space" >&2
  fi
done
status=0

# Real MariaDB, Redis and the web fixture on 127.0.0.1 for the shipped
# runbooks' tests; shared by both suites, stopped on exit. Only the state
# directory is exported: the credentials stay out of the other tests.
echo "== test environment (MariaDB, Redis, web fixture) =="
export RUNBOOK_TEST_ENV="${RUNBOOK_TEST_ENV:-${TMPDIR:-/tmp}/runbook-test-env-$(id -u)}"
bash scripts/test-env.sh start || exit 1
trap 'bash scripts/test-env.sh stop' EXIT

echo "== build (Debug) =="
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null || exit 1
cmake --build build-test -j"$jobs" || exit 1

if [[ -x tests/fuzz/smoke.sh && "${RUNBOOK_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzz smoke =="
  bash tests/fuzz/smoke.sh build-fuzz "${RUNBOOK_FUZZ_SECONDS:-20}" || status=1
fi

if [[ "${RUNBOOK_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== tests under ASan+UBSan =="
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRUNBOOK_SANITIZE=ON >/dev/null || exit 1
  cmake --build build-asan -j"$jobs" || exit 1
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest -j"$jobs" --output-on-failure --timeout 600) || status=1
fi

if [[ "${RUNBOOK_SKIP_TSAN:-0}" != 1 ]]; then
  echo "== threaded tests under ThreadSanitizer =="
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRUNBOOK_TSAN=ON >/dev/null || exit 1
  cmake --build build-tsan -j"$jobs" --target journal_tests engine_tests steps_tests || exit 1
  for t in journal engine steps; do
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/${t}_tests --gtest_brief=1 \
      || { echo "ThreadSanitizer: ${t}_tests failed"; status=1; }
  done
fi

echo "== tests =="
(cd build-test && ctest -j"$jobs" --output-on-failure --timeout 600) || status=1
exit $status
