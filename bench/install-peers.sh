#!/usr/bin/env bash
# Installs the peer tools the benchmark harness (bench/run.sh) compares
# runbook with, from Debian 12 packages (run as root):
#   ninja-build, make, findutils (xargs), parallel (GNU parallel),
#   snakemake, ansible-core (ansible-playbook), time (/usr/bin/time),
#   python3-yaml (PyYAML with libyaml, the compile comparison).
# The harness skips a peer that is missing and says so, so this is optional.
# Profiling tools (not needed for the table): linux-perf, valgrind.
set -euo pipefail
packages=(ninja-build make findutils parallel snakemake ansible-core time python3 python3-yaml)
if [[ "${1:-}" == "--profile" ]]; then
  packages+=(linux-perf valgrind)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "install-peers: as root, run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# GNU parallel asks for a citation once per user unless told it was seen.
mkdir -p "${HOME:-/root}/.parallel" && touch "${HOME:-/root}/.parallel/will-cite"
echo "peers: ok (${packages[*]})"
