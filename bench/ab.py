#!/usr/bin/env python3
"""A/B: two or more runbook binaries on one workload, alternating, medians.

    bench/ab.py --tools DIR [--rounds N] WORKLOAD BIN [BIN...]
    WORKLOAD: fanout:N | chain:N | wide:N | startup | bigout[:BYTES]
    BIN: a runbook binary, or VAR=VALUE,...@BINARY to run it with that environment

For checking an engine change before and after (build the old tree into one
directory and the new into another). Each invocation gets a fresh journal and
--max-parallel 2, like bench/harness.py; the spawn floor for the same N runs in
the same rotation (and ninja, where the workload has it). Prints median wall and CPU time and peak RSS per binary and
its ratio to the first. DIR holds measure_run and spawn_floor (build/bench).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads as W  # noqa: E402
from harness import run_once  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tools", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("workload")
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args()
    tools_dir = os.path.abspath(args.tools)
    measure_run = os.path.join(tools_dir, "measure_run")
    work = tempfile.mkdtemp(prefix="runbook-ab-")
    try:
        kind, _, size = args.workload.partition(":")
        cmds = {}
        for i, spec in enumerate(args.binaries):
            env_spec, _, b = spec.rpartition("@")
            tools = W.Tools(os.path.abspath(b), os.path.join(tools_dir, "spawn_floor"), "")
            if kind == "fanout":
                c = W.runbook_cmd(tools, W.fanout_runbook(work, int(size)), int(size))
            elif kind in ("chain", "wide"):
                c = getattr(W, kind)(work, int(size), tools)["runbook"]
            elif kind == "startup":
                c = W.startup(work, tools)["runbook"]
            elif kind == "bigout":
                c = W.bigout(work, tools, int(size) if size else W.BIGOUT_BYTES)["runbook"]
            else:
                sys.exit(f"ab: unknown workload {args.workload}")
            c.env.update(kv.split("=", 1) for kv in env_spec.split(",") if kv)
            cmds[f"{i}: {spec}"] = c
        if shutil.which("ninja") and kind in ("fanout", "chain", "wide", "startup"):
            t = W.Tools("", "", "")
            peer = W.startup(work, t) if kind == "startup" else (W.fanout(work, int(size), t, {}) if kind == "fanout"
                                                                 else getattr(W, kind)(work, int(size), t))
            cmds["ninja -j2"] = peer["ninja -j2"]
        if kind in ("fanout", "wide", "chain"):
            n = int(size) + (2 if kind == "wide" else 0)
            cmds["floor"] = W.Command([os.path.join(tools_dir, "spawn_floor"), str(n), "-j",
                                       "1" if kind == "chain" else "2"], n=n)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNBOOK_")}
        samples = {k: [] for k in cmds}
        names = list(cmds)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                rundir = tempfile.mkdtemp(dir=work)
                argv, extra = cmds[name].build(rundir)
                samples[name].append(run_once(argv, {**env, **extra}, rundir, measure_run))
                shutil.rmtree(rundir, ignore_errors=True)
            print(f"round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        base = statistics.median(s[0] for s in samples[names[0]])
        print(f"{args.workload}, {args.rounds} rounds, load {open('/proc/loadavg').read().split()[0]}")
        for name in names:
            wall = statistics.median(s[0] for s in samples[name])
            cpu = statistics.median(s[1] for s in samples[name])
            rss = max(s[2] for s in samples[name]) / 1024
            print(f"  {wall:8.3f} s wall  {cpu:8.3f} s CPU  {rss:5.0f} MiB  {wall / base:5.2f}x  {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
