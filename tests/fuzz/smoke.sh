#!/usr/bin/env bash
# Fuzz smoke test: configures a clang libFuzzer build, builds the fuzz
# targets, and runs each for a while on a scratch copy of its seed corpus.
#
#   tests/fuzz/smoke.sh [BUILD_DIR [SECONDS]]      (defaults: build-fuzz 30)
#
# BUILD_DIR is relative to the current directory. Nothing is written into
# the source tree: the corpora are copied to a temporary directory, and
# crash/leak/timeout reproducers land in BUILD_DIR/fuzz-artifacts/TARGET/.
# Exits 1 if any target crashed (or the build failed), 0 otherwise.
# Environment: FUZZ_TARGETS (default "expr_fuzz loader_fuzz cron_fuzz extract_fuzz"),
# FUZZ_JOBS (build parallelism, default 2), FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build-fuzz}
seconds=${2:-30}
targets=${FUZZ_TARGETS:-expr_fuzz loader_fuzz cron_fuzz extract_fuzz}

case $seconds in
  '' | *[!0-9]*) echo "smoke.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac
command -v clang++ >/dev/null || { echo "smoke.sh: clang++ not found (apt-get install -y clang)" >&2; exit 2; }
mkdir -p "$build"
build=$(cd "$build" && pwd)

generator=()
command -v ninja >/dev/null && [ ! -f "$build/CMakeCache.txt" ] && generator=(-G Ninja)
echo "== configure $build"
CC=clang CXX=clang++ cmake -S "$src" -B "$build" "${generator[@]}" -DRUNBOOK_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "== build $targets"
# shellcheck disable=SC2086
cmake --build "$build" --target $targets -j "${FUZZ_JOBS:-2}"

work=$(mktemp -d "${TMPDIR:-/tmp}/runbook-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=()
for t in $targets; do
  name=${t%_fuzz}
  bin="$build/tests/fuzz/$t"
  corpus="$work/$name"
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$src/tests/fuzz/corpus/$name" ]; then cp -R "$src/tests/fuzz/corpus/$name/." "$corpus/"; fi
  flags=(-max_total_time="$seconds" -max_len=65536 -timeout=25 -rss_limit_mb=2048
         -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -f "$src/tests/fuzz/$name.dict" ] && flags+=(-dict="$src/tests/fuzz/$name.dict")
  # shellcheck disable=SC2206
  flags+=(${FUZZ_ARGS:-})
  seeds=$(find "$corpus" -type f | wc -l)
  echo "== $t: ${seconds}s from $seeds seeds"
  log="$work/$t.log"
  touch "$work/$t.start"
  if "$bin" "${flags[@]}" "$corpus" >"$log" 2>&1; then
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "   ok: ${runs:-?} runs, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) files"
  else
    failed+=("$t")
    cp "$log" "$artifacts/last.log"
    echo "   FAILED; log in $artifacts/last.log, reproducers:"
    find "$artifacts" -type f ! -name last.log -newer "$work/$t.start" 2>/dev/null | sed 's/^/     /' || true
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|    #[0-9]+ )' "$log" | head -40 | sed 's/^/   /'
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "== FAILED: ${failed[*]}"
  exit 1
fi
echo "== all fuzz targets ran ${seconds}s without a crash"
