#!/usr/bin/env bash
# Installs the dependencies and builds runbook (Release) into ./build.
# Then: build/runbook run daily-health-check
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DRUNBOOK_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
build/runbook validate
