#!/usr/bin/env bash
# Compile benchmark: `runbook validate` (load + compile) on generated 10,000-
# and 100,000-step runbooks, against PyYAML's C loader parsing the same files.
#
#   bench/compile_bench.sh [RUNBOOK_BINARY]
#
# Without RUNBOOK_BINARY it configures and builds build-release (Release,
# no tests) in the source tree and uses build-release/runbook. The runbooks
# are generated into a temporary directory that is removed at the end.
# Environment: SIZES (default "1 10000 100000"), ROUNDS (default 5),
# ROUNDS_LARGE (rounds for files of 16 MB or more, default 3), PYTHON
# (default python3; needs PyYAML built with libyaml), KEEP=1 keeps the files.
# Takes about two minutes on a 2-core machine; see bench/README.md.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
sizes=${SIZES:-1 10000 100000}

if [ $# -ge 1 ]; then
  runbook=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  [ -x "$runbook" ] || { echo "compile_bench: $1 is not an executable" >&2; exit 2; }
else
  build="$src/build-release"
  echo "== building $build (Release)" >&2
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRUNBOOK_TESTS=OFF >/dev/null
  cmake --build "$build" --target runbook -j "${JOBS:-2}" >&2
  runbook="$build/runbook"
fi

pyyaml=()
if ! "$python" -c 'import yaml, sys; sys.exit(0 if yaml.__with_libyaml__ else 1)' 2>/dev/null; then
  echo "compile_bench: PyYAML with its libyaml C loader is not available to $python;" >&2
  echo "  install it with:  apt-get install -y python3-yaml   (then PYTHON=/usr/bin/python3)" >&2
  echo "  timing runbook alone." >&2
  pyyaml=(--no-pyyaml)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/runbook-bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
  echo "== keeping $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi

files=()
for n in $sizes; do
  f="$work/bench-$n.yaml"
  "$python" "$src/bench/gen_runbook.py" "$n" -o "$f"
  files+=("$f")
done
echo "== $(uname -n): $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "== $runbook" >&2

"$python" "$src/bench/measure.py" "$runbook" "${files[@]}" --python "$python" \
  --rounds "${ROUNDS:-5}" --rounds-large "${ROUNDS_LARGE:-3}" "${pyyaml[@]}"
