#!/usr/bin/env python3
"""Benchmark harness: runbook against its peers on the same workloads.

    bench/harness.py --runbook BIN --tools DIR [--smoke | --quick] [--rounds N]
                     [--only W,W...] [--markdown FILE] [--update-doc FILE]

bench/run.sh builds what it needs and calls this. For each workload it runs
every tool in turn (the order rotates each round, so drift hits every tool
alike), ROUNDS times, each invocation in a fresh empty directory (a fresh
journal for runbook), and reports medians: wall time, CPU time (user + system
of the tool and every child it reaped) and peak RSS (ru_maxrss from wait4: the
largest of the tool and its children, as `/usr/bin/time -v` prints it; every
command is started by bench/measure_run, which takes these figures). It
then prints the table of medians with the ratio ours / peer, per-step figures,
and the budgets of issue #9 with pass or fail. --markdown writes the same as
Markdown; --update-doc replaces the marked sections of docs/performance.md.
Exits 1 if any invocation fails (and shows its output); timing never fails it.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import workloads as W  # noqa: E402

# Sizes: full run (about 10 minutes on 2 cores) / --quick / --smoke (CI).
SIZES = {
    "full": dict(fanout=[1000, 10000], chain=1000, wide=1000, bigout=W.BIGOUT_BYTES, compile=[10000, 100000],
                 journal=200000, journal_steps=2000, blobs_mb=200, startup_rounds=15, parallel_n=1000,
                 snakemake=[20, 100], ansible=[2, 20], floor=1000),
    "quick": dict(fanout=[1000], chain=1000, wide=1000, bigout=W.BIGOUT_BYTES, compile=[10000],
                  journal=200000, journal_steps=2000, blobs_mb=100, startup_rounds=15, parallel_n=1000,
                  snakemake=[20, 100], ansible=[2, 20], floor=1000),
    "smoke": dict(fanout=[20, 40], chain=20, wide=20, bigout=2_000_000, compile=[50, 200], journal=2000,
                  journal_steps=50, blobs_mb=2, startup_rounds=2, parallel_n=10, snakemake=[2, 4],
                  ansible=[2, 4], floor=20),
}
# Rounds per workload when --rounds is not given (slow workloads get fewer).
ROUNDS = {"full": dict(default=5, slow=3, startup=15), "quick": dict(default=3, slow=2, startup=15),
          "smoke": dict(default=1, slow=1, startup=2)}


class Workload:
    def __init__(self, key, title, cmds, rounds, n=0, **meta):
        self.key, self.title, self.cmds, self.rounds, self.n, self.meta = key, title, cmds, rounds, n, meta
        self.samples = {t: [] for t in cmds}  # tool -> [(wall, cpu, maxrss_kib, stdout head)]

    def median(self, tool, i=0):
        s = self.samples.get(tool)
        return statistics.median(x[i] for x in s) if s else None

    def peak_rss(self, tool):
        s = self.samples.get(tool)
        return max(x[2] for x in s) if s else None


def run_once(argv, env, rundir, measure_run):
    """Runs argv in rundir under measure_run, stdout/stderr to files.

    Returns (wall, cpu, maxrss_kib, first 200 bytes of stdout); raises RuntimeError if it fails."""
    out_path, err_path = os.path.join(rundir, ".bench-stdout"), os.path.join(rundir, ".bench-stderr")
    res_path = os.path.join(rundir, ".bench-result")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        code = subprocess.call([measure_run, res_path, "--", *argv], cwd=rundir, env=env, stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err)
    if code != 0:
        tail = b""
        for p in (out_path, err_path):
            with open(p, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 3000))
                tail += f.read()
        raise RuntimeError(f"{' '.join(argv)} exited {code}:\n{tail.decode(errors='replace')}")
    with open(res_path) as f:
        wall, cpu, rss, _ = f.read().split()
    with open(out_path, "rb") as f:
        head = f.read(200).decode(errors="replace")
    return float(wall), float(cpu), int(rss), head


def measure(w, base_env, scratch, measure_run, log):
    tools = list(w.cmds)
    for r in range(w.rounds):
        k = r % len(tools)
        for tool in tools[k:] + tools[:k]:
            rundir = tempfile.mkdtemp(prefix="run-", dir=scratch)
            argv, extra = w.cmds[tool].build(rundir)
            env = dict(base_env)
            env.update(extra)
            try:
                w.samples[tool].append(run_once(argv, env, rundir, measure_run))
            finally:
                shutil.rmtree(rundir, ignore_errors=True)
        log(f"  {w.key}: round {r + 1}/{w.rounds} done")


def verify_bigout(runbook, scratch, path, nbytes, base_env):
    """One extra run: every byte retrievable by `runbook logs --raw`, and the SHA-256 in the journal."""
    import hashlib
    rundir = tempfile.mkdtemp(prefix="verify-", dir=scratch)
    try:
        jpath = os.path.join(rundir, "journal.db")
        subprocess.run([runbook, "--journal", jpath, "run", path, "--max-parallel", "2"], cwd=rundir, env=base_env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        h = hashlib.sha256()
        got = 0
        with subprocess.Popen([runbook, "--journal", jpath, "logs", "last", "big", "--raw"], cwd=rundir,
                              env=base_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as p:
            while chunk := p.stdout.read(1 << 20):
                h.update(chunk)
                got += len(chunk)
        line = (W.BIGOUT_LINE + "\n").encode()
        expected = (line * (nbytes // len(line) + 1))[:nbytes]
        want = hashlib.sha256(expected).hexdigest()
        journaled = subprocess.run(["sqlite3", jpath, "SELECT stdout_sha256, stdout_bytes FROM step_attempts"
                                    " WHERE step_id='big' ORDER BY attempt DESC LIMIT 1"], capture_output=True,
                                   text=True).stdout.strip() if shutil.which("sqlite3") else "?|?"
        sha, _, nb = journaled.partition("|")
        db_bytes = sum(os.path.getsize(os.path.join(rundir, f)) for f in os.listdir(rundir) if f.startswith("journal"))
        return {"logs_bytes": got, "logs_ok": got == nbytes and h.hexdigest() == want,
                "sha_ok": sha == want and nb == str(nbytes), "journal_bytes": db_bytes}
    finally:
        shutil.rmtree(rundir, ignore_errors=True)


def build_plan(args, tools, inputs):
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    S, R = SIZES[mode], dict(ROUNDS[mode])
    if args.rounds:
        R.update(default=args.rounds, slow=max(1, args.rounds - 1))
    only = set(args.only.split(",")) if args.only else None
    pyyaml = subprocess.run([tools.python, "-c", "import yaml,sys; sys.exit(0 if yaml.__with_libyaml__ else 1)"],
                            capture_output=True).returncode == 0
    plan = []

    def want(key):
        return only is None or key in only or key.split("-")[0] in only

    if want("floor"):
        plan.append(Workload("floor", f"floor: posix_spawn, {S['floor']:,} processes", W.floor(tools, S["floor"]),
                             R["default"], S["floor"]))
    if want("startup"):
        plan.append(Workload("startup", "start-up: 1-step runbook incl. creating the journal / ninja, empty file",
                             W.startup(inputs, tools), R["startup"], 1))
    for i, n in enumerate(S["fanout"]):
        if not want(f"fanout-{n}"):
            continue
        peers_n = {"parallel": S["parallel_n"]}
        cmds = W.fanout(inputs, n, tools, peers_n if i == 0 else {})
        if i > 0 and not args.smoke:  # the slow peers are measured at 1,000 only
            for t in ("make -j2", "xargs -P2"):
                cmds.pop(t, None)
        plan.append(Workload(f"fanout-{n}", f"fanout {n:,}: independent `true` steps, parallelism 2", cmds,
                             R["default"], n))
    if want("fanout-slow"):
        cmds = {}
        if tools.peer("snakemake"):
            for n in S["snakemake"]:
                cmds[f"snakemake --cores 2 @{n}"] = W.fanout_snakemake(inputs, n)
        if tools.peer("ansible-playbook"):
            for n in S["ansible"]:
                cmds[f"ansible-playbook @{n}"] = W.fanout_ansible(inputs, n)
        if cmds:
            plan.append(Workload("fanout-slow", "fanout, slow peers at small N", cmds, R["slow"]))
    if want("chain"):
        n = S["chain"]
        plan.append(Workload("chain", f"chain {n:,}: `echo` steps in a dependency chain, output captured",
                             W.chain(inputs, n, tools), R["default"], n))
    if want("chain-slow"):
        cmds = {}
        if tools.peer("snakemake"):
            for n in S["snakemake"]:
                cmds[f"snakemake --cores 2 @{n}"] = W.chain_snakemake(inputs, n)
        if tools.peer("ansible-playbook"):
            for n in S["ansible"]:
                cmds[f"ansible-playbook @{n}"] = W.chain_ansible(inputs, n)
        if cmds:
            plan.append(Workload("chain-slow", "chain, slow peers at small N", cmds, R["slow"]))
    if want("wide"):
        n = S["wide"]
        plan.append(Workload("wide", f"wide 1 -> {n:,} -> 1 of `true`", W.wide(inputs, n, tools), R["default"], n + 2))
    if want("bigout"):
        nb = S["bigout"]
        plan.append(Workload("bigout", f"bigout: one step writing {nb / 1e6:,.0f} MB to stdout, captured",
                             W.bigout(inputs, tools, nb), R["default"], 1, nbytes=nb))
    for n in S["compile"]:
        if want(f"compile-{n}"):
            cmds, size = W.compile_files(inputs, n, tools, pyyaml)
            plan.append(Workload(f"compile-{n}", f"compile {n:,} steps ({size / 1e6:.1f} MB of YAML)", cmds,
                                 R["slow"] if n >= 100000 else R["default"], n, pyyaml=pyyaml))
    if want("journal"):
        n = S["journal"]
        plan.append(Workload("journal", f"journal: {n:,} events", W.journal(tools, n), R["default"], n))
        m = S["journal_steps"]
        plan.append(Workload("journal-steps", f"journal: {m:,} steps, engine pattern", W.journal_steps(tools, m),
                             R["default"], m))
        plan.append(Workload("blobs", f"raw SQLite: {S['blobs_mb']} MB of output blobs",
                             W.blobs(tools, S["blobs_mb"]), R["slow"], 1, megabytes=S["blobs_mb"]))
    return mode, plan


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runbook", required=True)
    ap.add_argument("--tools", required=True, help="directory with spawn_floor, journal_bench and measure_run")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--smoke", action="store_true", help="tiny sizes, one round (CI): checks that it all runs")
    g.add_argument("--quick", action="store_true", help="no 10,000-step fanout, no 100,000-step compile")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated workload keys (floor, startup, fanout, ...)")
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable)
    ap.add_argument("--markdown", default="")
    ap.add_argument("--update-doc", default="")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs (prints where)")
    ap.add_argument("--revision", default="", help="what the runbook binary was built from (default: git HEAD)")
    args = ap.parse_args()

    tools = W.Tools(os.path.abspath(args.runbook), os.path.join(os.path.abspath(args.tools), "spawn_floor"),
                    os.path.join(os.path.abspath(args.tools), "journal_bench"), args.python)
    for p in (tools.runbook, tools.spawn_floor, tools.journal_bench, os.path.join(args.tools, "measure_run")):
        if not os.access(p, os.X_OK):
            sys.exit(f"harness: {p} is not an executable (bench/run.sh builds it)")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    work = tempfile.mkdtemp(prefix="runbook-harness-")
    inputs, scratch = os.path.join(work, "inputs"), os.path.join(work, "runs")
    os.makedirs(inputs)
    os.makedirs(scratch)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("RUNBOOK_") and not k.startswith("ANSIBLE_")}
    base_env.update(RUNBOOK_PATH=inputs, NO_COLOR="1", LC_ALL="C.UTF-8", HOME=os.environ.get("HOME", "/root"))
    missing = [p for p in ("ninja", "make", "xargs", "parallel", "snakemake", "ansible-playbook") if not shutil.which(p)]
    if missing:
        log(f"harness: not installed, skipped: {', '.join(missing)} (bench/install-peers.sh installs them)")
    t_start = time.time()
    load_before = open("/proc/loadavg").read().split()[:3]
    try:
        mode, plan = build_plan(args, tools, inputs)
        log(f"harness: {mode} run, {len(plan)} workloads, inputs in {work}")
        for w in plan:
            log(f"== {w.title} ({', '.join(w.cmds)}; {w.rounds} rounds)")
            measure(w, base_env, scratch, os.path.join(os.path.abspath(args.tools), "measure_run"), log)
            if w.key == "bigout":
                w.meta["verify"] = verify_bigout(tools.runbook, scratch, os.path.join(inputs, "bigout.yaml"),
                                                 w.meta["nbytes"], base_env)
    except RuntimeError as e:
        log(f"harness: FAILED: {e}")
        return 1
    finally:
        if args.keep:
            log(f"harness: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    ctx = report.Context(mode=mode, seconds=time.time() - t_start, load_before=load_before,
                         load_after=open("/proc/loadavg").read().split()[:3], runbook=tools.runbook, missing=missing,
                         revision=args.revision)
    text = report.render(plan, ctx)
    print(text["results"])
    print(text["budgets"])
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text["results"] + "\n" + text["budgets"] + "\n" + text["compile"] + "\n")
        log(f"harness: wrote {args.markdown}")
    if args.update_doc:
        report.update_doc(args.update_doc, text)
        log(f"harness: updated {args.update_doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
