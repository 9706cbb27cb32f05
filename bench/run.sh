#!/usr/bin/env bash
# The benchmark harness of issue #9: runbook against xargs, GNU parallel,
# ninja, make, snakemake and ansible-playbook on the same workloads (fanout,
# chain, wide, bigout, start-up, compile, journal, and the posix_spawn floor),
# alternating, several rounds, medians, ratios runbook / peer, and the budgets
# with pass or fail. See bench/README.md and docs/performance.md.
#
#   bench/install-peers.sh            # once, as root: the peer tools (Debian)
#   bench/run.sh                      # full run, about 10 minutes on 2 cores
#   bench/run.sh --quick              # without fanout 10,000 and compile 100,000
#   bench/run.sh --smoke              # tiny sizes, one round: does it all run? (CI)
#   bench/run.sh --only fanout,chain  # some workloads
#   bench/run.sh --update-doc         # also rewrite the tables in docs/performance.md
#   bench/run.sh --runbook BIN --tools DIR ...   # use binaries built elsewhere
#
# Without --runbook/--tools it configures and builds build-release (Release,
# no tests) with the target bench_tools (runbook and the programs in bench/).
# Other
# options go to bench/harness.py (--rounds N, --markdown FILE, --keep).
# A peer that is not installed is skipped and named. Exits 1 if a workload
# fails to run; timing results never fail it.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
runbook="" tools="" args=()
while (($#)); do
  case "$1" in
    --runbook) runbook=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --update-doc) args+=(--update-doc "$src/docs/performance.md"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done

if [[ -z "$runbook" || -z "$tools" ]]; then
  build="${BUILD_DIR:-$src/build-release}"
  echo "== building $build (Release)" >&2
  gen=()
  [[ -f "$build/CMakeCache.txt" ]] || ! command -v ninja >/dev/null || gen=(-G Ninja)
  cmake -S "$src" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DRUNBOOK_TESTS=OFF -DRUNBOOK_BENCH=ON >/dev/null
  cmake --build "$build" --target bench_tools -j "${JOBS:-2}" >&2
  runbook=${runbook:-$build/runbook}
  tools=${tools:-$build/bench}
fi

python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3)
echo "== $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); runbook: $runbook" >&2
exec "$python" "$src/bench/harness.py" --runbook "$runbook" --tools "$tools" --python "$python" "${args[@]}"
