"""Turns the harness's measurements into Markdown: the table of medians with
ratios, per-step costs, the budgets of issue #9 with pass/fail, and the
compile table of docs/performance.md. Used by bench/harness.py; pure
functions over its Workload objects (no timing happens here).

Per-step cost of a tool is the slope of its time over N: (t(N2) - t(N1)) /
(N2 - N1) from two sizes, which removes start-up. Its overhead is that slope
minus the spawn floor's slope (or per-step time, with one size only).
Snakemake and Ansible are measured at two small N; their time at the large N
is extrapolated as intercept + slope x N, and the tables say so.
"""

import datetime
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field

BEGIN, END = "<!-- bench:{} -->", "<!-- /bench:{} -->"


@dataclass
class Context:
    mode: str
    seconds: float
    load_before: list
    load_after: list
    runbook: str
    missing: list = field(default_factory=list)
    revision: str = ""  # what runbook was built from; default: git HEAD of this tree


def fs(x):
    if x is None:
        return "—"
    if x < 0.01:
        return f"{x * 1000:.2f} ms"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def fus(x):
    """Seconds per step, shown in microseconds or milliseconds."""
    if x is None:
        return "—"
    if abs(x) < 0.001:
        return f"{x * 1e6:.0f} µs"
    if abs(x) < 1:
        return f"{x * 1e3:.2f} ms"
    return f"{x:.2f} s"


def fmib(kib):
    return "—" if kib is None else f"{kib / 1024:.0f} MiB"


def rate(w, tool):
    """Median of the items/s the bench program printed ("= R events/s")."""
    vals = []
    for s in w.samples.get(tool, []):
        m = re.search(r"= ([0-9.]+) (\w+)/s", s[3])
        if m:
            vals.append(float(m.group(1)))
    vals.sort()
    return vals[len(vals) // 2] if vals else None


def by_key(plan):
    return {w.key: w for w in plan}


def fit(w, prefix):
    """(slope, intercept, [n...]) of the tools named 'PREFIX @N' in w, or None."""
    pts = []
    for tool in w.cmds:
        if tool.startswith(prefix + " @"):
            pts.append((w.cmds[tool].n, w.median(tool)))
    if len(pts) < 2:
        return None
    pts.sort()
    (n1, t1), (n2, t2) = pts[0], pts[-1]
    slope = (t2 - t1) / (n2 - n1)
    return slope, t1 - slope * n1, [n for n, _ in pts]


def fanout_sizes(W):
    return sorted(int(k.split("-")[1]) for k in W if re.fullmatch(r"fanout-\d+", k))


def slopes(W):
    """Per-step cost per tool from the fanout workloads: {tool: (seconds, how)}."""
    sizes = fanout_sizes(W)
    out = {}
    if not sizes:
        return out
    small, large = W[f"fanout-{sizes[0]}"], W[f"fanout-{sizes[-1]}"]
    for tool in small.cmds:
        if len(sizes) > 1 and tool in large.cmds:
            out[tool] = ((large.median(tool) - small.median(tool)) / (large.n - small.n),
                         f"slope {sizes[0]:,} → {sizes[-1]:,}")
        else:
            out[tool] = (small.median(tool) / small.cmds[tool].n, f"time / N at {small.cmds[tool].n:,}")
    if "fanout-slow" in W:
        for prefix in ("snakemake --cores 2", "ansible-playbook"):
            f = fit(W["fanout-slow"], prefix)
            if f:
                out[prefix] = (f[0], "slope " + " → ".join(str(n) for n in f[2]))
    return out


def machine_line(ctx):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    rev = ctx.revision
    if not rev:
        src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        rev = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        rev = (rev + (" + uncommitted changes" if dirty else "")) if rev else "unknown"
    return (f"{datetime.date.today().isoformat()}, {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB, Linux "
            f"{platform.release()}; runbook at {rev}; load average {' '.join(ctx.load_before)} before, "
            f"{' '.join(ctx.load_after)} after; {ctx.mode} run, {ctx.seconds / 60:.1f} min")


def results_table(plan, W):
    L = ["| workload | tool | N | median wall | CPU | peak RSS | per step | runbook / tool |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
    for w in plan:
        if w.key in ("fanout-slow", "chain-slow") or w.key == "journal-steps" or w.key == "blobs":
            continue
        ours = w.median("runbook")
        for tool in w.cmds:
            n = w.cmds[tool].n
            t = w.median(tool)
            per = fus(t / n) if n and not w.key.startswith(("journal", "compile", "bigout", "startup")) else ""
            if w.key.startswith("journal"):
                r = rate(w, tool)
                per = f"{r:,.0f} events/s" if r else ""
            ratio = "" if tool == "runbook" or ours is None else f"{ours / t:.2f}"
            if w.key.startswith("journal") and tool != "runbook" and rate(w, "runbook") and rate(w, tool):
                ratio = f"{rate(w, tool) / rate(w, 'runbook'):.2f} (time)"
            note = f" ({w.cmds[tool].note})" if w.cmds[tool].note else ""
            L.append(f"| {w.title} | {tool}{note} | {f'{n:,}' if n else '—'} | {fs(t)} | {fs(w.median(tool, 1))} | "
                     f"{fmib(w.peak_rss(tool))} | {per} | {ratio} |")
        # The slow peers, extrapolated to this N from their two small sizes.
        slow = "fanout-slow" if re.fullmatch(r"fanout-\d+", w.key) else "chain-slow" if w.key == "chain" else ""
        if slow in W and ours is not None:
            for prefix in ("snakemake --cores 2", "ansible-playbook"):
                f = fit(W[slow], prefix)
                if f:
                    est = f[1] + f[0] * w.n
                    L.append(f"| {w.title} | {prefix} (extrapolated from N = {', '.join(map(str, f[2]))}) | "
                             f"{w.n:,} | ≈ {fs(est)} | | | {fus(f[0])} | {ours / est:.3f} |")
    for key in ("fanout-slow", "chain-slow"):
        if key in W:
            w = W[key]
            for tool in w.cmds:
                L.append(f"| {w.title} | {tool.split(' @')[0]} | {w.cmds[tool].n:,} | {fs(w.median(tool))} | "
                         f"{fs(w.median(tool, 1))} | {fmib(w.peak_rss(tool))} | {fus(w.median(tool) / w.cmds[tool].n)} |"
                         f" |")
    if "journal-steps" in W:
        w = W["journal-steps"]
        r = rate(w, "runbook")
        L.append(f"| {w.title} | Journal: 2 PutAttempt + 2 events + SyncBlocking | {w.n:,} | {fs(w.median('runbook'))} "
                 f"| {fs(w.median('runbook', 1))} | {fmib(w.peak_rss('runbook'))} | "
                 f"{fus(1 / r) if r else ''} | |")
    if "blobs" in W:
        w = W["blobs"]
        for tool in w.cmds:
            vals = sorted(float(m.group(1)) for m in (re.search(r"= ([0-9.]+) MB/s", s[3]) for s in w.samples[tool])
                          if m)
            mbs = f"{vals[len(vals) // 2]:.0f} MB/s" if vals else ""
            L.append(f"| {w.title} | {tool} | | {fs(w.median(tool))} | {fs(w.median(tool, 1))} | "
                     f"{fmib(w.peak_rss(tool))} | {mbs} | |")
    return "\n".join(L)


def per_step_table(W):
    sl = slopes(W)
    if not sl:
        return ""
    floor = sl.get("floor", (0, ""))[0]
    ours = sl.get("runbook", (None, ""))[0]
    L = ["| tool | per step | from | overhead over the floor | its overhead / runbook's |",
         "|---|---:|---|---:|---:|"]
    for tool, (s, how) in sl.items():
        over = s - floor
        ratio = ""
        if tool not in ("runbook", "floor") and ours is not None:
            ro = ours - floor
            x = over / ro if ro > 0 else None
            ratio = ("∞ (runbook's is within noise)" if x is None else "— (within noise of the floor)" if x <= 0
                     else f"{x:,.2f}×" if x < 10 else f"{x:,.0f}×")
        L.append(f"| {tool} | {fus(s)} | {how} | {fus(over) if tool != 'floor' else ''} | {ratio} |")
    return "\n".join(L)


def verdict(ok):
    return "**pass**" if ok else "**FAIL**"


def budgets(W):
    L = ["| budget (issue #9) | measured | verdict |", "|---|---:|---|"]

    def ratio_row(label, key, peer, limit):
        w = W.get(key)
        if not w or w.median(peer) is None:
            L.append(f"| {label} | not measured | |")
            return
        r = w.median("runbook") / w.median(peer)
        L.append(f"| {label} | {r:.2f}× ({fs(w.median('runbook'))} vs {fs(w.median(peer))}) | {verdict(r <= limit)} |")

    for n in fanout_sizes(W):
        ratio_row(f"fanout {n:,}, full journaling, ≤ 1.15× `ninja -j2`", f"fanout-{n}", "ninja -j2", 1.15)
    if "chain" in W:
        ratio_row(f"chain {W['chain'].n:,} ≤ 1.15× ninja", "chain", "ninja -j2", 1.15)
    ratio_row("start-up (1 step, journal created) ≤ 3× ninja on an empty file", "startup", "ninja -j2", 3)
    sl = slopes(W)
    if "runbook" in sl and "floor" in sl:
        ro = sl["runbook"][0] - sl["floor"][0]
        for peer, limit in (("snakemake --cores 2", 50), ("ansible-playbook", 500)):
            if peer not in sl:
                L.append(f"| engine overhead per step ≥ {limit}× below {peer.split()[0]}'s | not measured | |")
                continue
            po = sl[peer][0] - sl["floor"][0]
            x = po / ro if ro > 0 else float("inf")
            shown = f"{x:,.0f}×" if ro > 0 else "∞"
            L.append(f"| engine overhead per step ≥ {limit}× below {peer.split()[0]}'s | {shown} "
                     f"({fus(ro)} vs {fus(po)}) | {verdict(x >= limit)} |")
    w = W.get("bigout")
    if w:
        r = w.median("runbook") / w.median("sh > file")
        L.append(f"| bigout: {w.meta['nbytes'] / 1e6:,.0f} MB captured ≤ 1.5× `sh -c 'cmd > file'` | {r:.2f}× "
                 f"({fs(w.median('runbook'))} vs {fs(w.median('sh > file'))}) | {verdict(r <= 1.5)} |")
        rss = w.peak_rss("runbook")
        L.append(f"| bigout: engine peak RSS < 64 MB | {rss * 1024 / 1e6:.0f} MB ({fmib(rss)}) | "
                 f"{verdict(rss * 1024 < 64e6)} |")
        v = w.meta.get("verify", {})
        L.append(f"| bigout: every byte back from `runbook logs --raw`, SHA-256 in the journal | "
                 f"{v.get('logs_bytes', 0):,} bytes, logs {'match' if v.get('logs_ok') else 'DIFFER'}, "
                 f"SHA-256 {'recorded' if v.get('sha_ok') else 'MISSING/WRONG'}; journal file "
                 f"{v.get('journal_bytes', 0) / 1e6:,.0f} MB | {verdict(v.get('logs_ok') and v.get('sha_ok'))} |")
    sizes = sorted(int(k.split("-")[1]) for k in W if k.startswith("compile-"))
    py = "PyYAML CSafeLoader"
    if sizes and py in W[f"compile-{sizes[0]}"].cmds:
        small = W[f"compile-{sizes[0]}"]
        r = small.median("runbook") / small.median(py)
        L.append(f"| compile {sizes[0]:,} steps no slower than PyYAML's C loader | {r:.2f}× | {verdict(r <= 1)} |")
        if len(sizes) > 1:
            large = W[f"compile-{sizes[-1]}"]
            r2 = large.median("runbook") / small.median(py)
            r3 = large.median("runbook") / small.median("runbook")
            L.append(f"| compile {sizes[-1]:,} steps under 10× that | {r2:.1f}× PyYAML's {sizes[0]:,}-step time "
                     f"({r3:.1f}× our own) | {verdict(r2 < 10)} |")
    w = W.get("journal")
    if w:
        ours = rate(w, "runbook")
        raw_tool = next(t for t in w.cmds if t != "runbook")
        raw = rate(w, raw_tool)
        if ours and raw:
            L.append(f"| journal ≥ 50% of raw batched inserts | {100 * ours / raw:.0f}% ({ours:,.0f} vs {raw:,.0f} "
                     f"events/s) | {verdict(ours >= 0.5 * raw)} |")
    return "\n".join(L)


def compile_table(W):
    sizes = sorted(int(k.split("-")[1]) for k in W if k.startswith("compile-"))
    if not sizes:
        return ""
    py = "PyYAML CSafeLoader"
    L = ["| steps | rounds | runbook validate: wall | CPU | peak RSS | PyYAML CSafeLoader: wall | CPU | peak RSS "
         "| wall ratio (runbook / PyYAML) |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        w = W[f"compile-{n}"]
        row = f"| {n:,} | {w.rounds} | {fs(w.median('runbook'))} | {fs(w.median('runbook', 1))} | " \
              f"{fmib(w.peak_rss('runbook'))} |"
        if py in w.cmds:
            row += f" {fs(w.median(py))} | {fs(w.median(py, 1))} | {fmib(w.peak_rss(py))} | " \
                   f"{w.median('runbook') / w.median(py):.2f} |"
        else:
            row += " — | — | — | — |"
        L.append(row)
    return "\n".join(L)


def render(plan, ctx):
    W = by_key(plan)
    head = f"Measured {machine_line(ctx)}."
    if ctx.missing:
        head += f" Not installed, so not measured: {', '.join(ctx.missing)}."
    results = head + "\n\n" + results_table(plan, W)
    pst = per_step_table(W)
    if pst:
        results += "\n\nPer-step cost (fanout; Snakemake and Ansible from their two small sizes):\n\n" + pst
    return {"results": results, "budgets": budgets(W), "compile": compile_table(W) + f"\n\n({machine_line(ctx)}.)"}


def update_doc(path, text):
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    for name, body in text.items():
        b, e = BEGIN.format(name), END.format(name)
        i, j = doc.find(b), doc.find(e)
        if i < 0 or j < i:
            continue  # the doc has no such section: leave it alone
        doc = doc[:i + len(b)] + "\n" + body.strip() + "\n" + doc[j:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc)
