#!/usr/bin/env bash
# Installs what runbook needs from Debian 12 packages (run as root).
#   install-deps.sh          build + run
#   install-deps.sh --test   also what the test suite needs (Graphviz for the
#                            graph test, clang for the fuzz smoke run, MariaDB
#                            and Redis servers for the shipped runbooks' tests,
#                            started by scripts/test-env.sh, not as services;
#                            Chromium to render the HTML export headless)
set -euo pipefail
packages=(
  # build
  g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libyaml-dev libsqlite3-dev
  libspdlog-dev libfmt-dev libhowardhinnant-date-dev libcli11-dev
  libgtest-dev libgmock-dev libssl-dev
  # run: the shipped runbooks call these
  tzdata procps curl sqlite3 ca-certificates mariadb-client redis-tools
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(graphviz clang python3 python3-yaml python3-jsonschema mariadb-server redis-server chromium)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "dependencies: ok (${#packages[@]} packages)"
