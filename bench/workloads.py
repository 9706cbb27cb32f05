"""The benchmark workloads, written once for runbook and for each peer tool.

Used by bench/harness.py. Every generator writes its input files into a
directory and returns {tool: Command}; a Command builds the argv (and extra
environment) of one invocation in a fresh, empty run directory, so that no
invocation sees another's journal, .ninja_log, .snakemake or temp files.

The workloads (issue #9):
  fanout N   N independent steps running `true`, parallelism 2
  chain N    N steps in a dependency chain, each `echo` with its output captured
  wide N     1 -> N -> 1 diamond of `true`
  bigout     one step writing 200 MB to stdout, captured
  startup    a 1-step runbook (journal created on the way) vs ninja on an empty file
  compile    runbook validate vs PyYAML's C loader (gen_runbook.py's files)
  journal    events/s through the Journal vs raw batched SQLite (journal_bench)
  floor      posix_spawn of /bin/true N times, two at a time (spawn_floor)
How each tool runs a step, and what that means for the comparison, is
described in docs/performance.md ("Method").
"""

import os
import shutil
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_runbook  # noqa: E402  (the compile benchmark's generator)

PYYAML_CODE = "import yaml,sys; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)"
# The line bigout repeats: 64 bytes with the newline.
BIGOUT_LINE = "runbook bench bigout 0123456789 abcdefghijklmnopqrstuvwxyz ABCDE"
BIGOUT_BYTES = 200_000_000


@dataclass
class Command:
    """One tool on one workload. argv/env may contain {run} (the run dir)."""
    argv: list
    env: dict = field(default_factory=dict)
    n: int = 0          # steps this invocation runs (for per-step figures)
    note: str = ""      # how this tool's figure was obtained, if unusual

    def build(self, rundir):
        argv = [a.replace("{run}", rundir) for a in self.argv]
        env = {k: v.replace("{run}", rundir) for k, v in self.env.items()}
        return argv, env


@dataclass
class Tools:
    runbook: str        # the runbook binary
    spawn_floor: str    # bench programs
    journal_bench: str
    python: str = "/usr/bin/python3"

    @staticmethod
    def peer(name):
        return shutil.which(name)


def runbook_cmd(tools, path, n, extra=()):
    # Every runbook invocation: a fresh journal in the run dir, --max-parallel 2.
    return Command([tools.runbook, "--journal", "{run}/journal.db", "--no-color", "run", path, "--max-parallel", "2",
                    *extra], n=n)


def ansible_env():
    return {"ANSIBLE_LOCAL_TEMP": "{run}/ansible-tmp", "ANSIBLE_HOME": "{run}/ansible-home",
            "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_HOST_KEY_CHECKING": "0", "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_FORKS": "2",
            "ANSIBLE_GATHERING": "explicit", "ANSIBLE_DEPRECATION_WARNINGS": "0"}


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# --- fanout -------------------------------------------------------------------

def fanout_runbook(d, n):
    lines = [f"name: fanout-{n}", "steps:"]
    for i in range(n):
        lines += [f"  - id: t{i}", "    run: \"true\""]
    return write(os.path.join(d, f"fanout-{n}.yaml"), "\n".join(lines) + "\n")


def fanout(d, n, tools, peers_n):
    """peers_n: {tool: smaller N} for the slow peers (snakemake, ansible)."""
    cmds = {"runbook": runbook_cmd(tools, fanout_runbook(d, n), n)}
    ninja = ["rule r", "  command = true"] + [f"build t{i}: r" for i in range(n)]
    if tools.peer("ninja"):
        cmds["ninja -j2"] = Command(["ninja", "-C", "{run}", "-f", write(os.path.join(d, f"fanout-{n}.ninja"),
                                                                          "\n".join(ninja) + "\n"), "-j2"], n=n)
    if tools.peer("make"):
        mk = [".PHONY: all", "all: " + " ".join(f"t{i}" for i in range(n))] + \
             [f"t{i}:\n\t@true" for i in range(n)]
        cmds["make -j2"] = Command(["make", "-r", "-C", "{run}", "-f", write(os.path.join(d, f"fanout-{n}.mk"),
                                                                             "\n".join(mk) + "\n"), "-j2"], n=n)
    if tools.peer("xargs"):
        cmds["xargs -P2"] = Command(["sh", "-c", f"seq {n} | xargs -P2 -n1 true"], n=n)
    if tools.peer("parallel") and "parallel" in peers_n:
        m = min(n, peers_n["parallel"])
        cmds["parallel -j2"] = Command(["sh", "-c", f"seq {m} | parallel -j2 true"], n=m)
    cmds["floor"] = Command([tools.spawn_floor, str(n), "-j", "2"], n=n)
    return cmds


def fanout_snakemake(d, n):
    text = (f"rule all:\n    input: expand('o/{{i}}', i=range({n}))\n\n"
            "rule t:\n    output: touch('o/{i}')\n    shell: 'true'\n")
    path = write(os.path.join(d, f"fanout-{n}.smk"), text)
    return Command(["snakemake", "-s", path, "-d", "{run}", "--cores", "2", "--quiet"], n=n)


def fanout_ansible(d, n):
    # Two hosts (both local) and two forks: parallelism 2; N/2 tasks each.
    inv = write(os.path.join(d, "inventory.ini"),
                "[bench]\nh1 ansible_connection=local\nh2 ansible_connection=local\n")
    tasks = "".join(f"    - name: t{i}\n      ansible.builtin.command: \"true\"\n" for i in range(n // 2))
    play = write(os.path.join(d, f"fanout-{n}.yml"),
                 f"- hosts: bench\n  connection: local\n  gather_facts: false\n  strategy: free\n  tasks:\n{tasks}")
    return Command(["ansible-playbook", "-i", inv, play], env=ansible_env(), n=n)


# --- chain --------------------------------------------------------------------

def chain(d, n, tools):
    lines = [f"name: chain-{n}", "steps:"]
    for i in range(n):
        lines += [f"  - id: s{i}", f"    run: echo step-{i}"]
        if i:
            lines.append(f"    needs: [s{i - 1}]")
    cmds = {"runbook": runbook_cmd(tools, write(os.path.join(d, f"chain-{n}.yaml"), "\n".join(lines) + "\n"), n)}
    if tools.peer("ninja"):
        # ninja captures each command's output and prints it when it finishes.
        nj = ["rule r", "  command = echo $msg"] + \
             [f"build s{i}: r{' s' + str(i - 1) if i else ''}\n  msg = step-{i}" for i in range(n)]
        cmds["ninja -j2"] = Command(["ninja", "-C", "{run}", "-f", write(os.path.join(d, f"chain-{n}.ninja"),
                                                                          "\n".join(nj) + "\n"), "-j2"], n=n)
    if tools.peer("make"):
        # --output-sync: make captures each recipe's output, like ninja.
        mk = [".PHONY: all", f"all: s{n - 1}"] + \
             [f"s{i}:{' s' + str(i - 1) if i else ''}\n\t@echo step-{i}" for i in range(n)]
        cmds["make -j2"] = Command(["make", "-r", "--output-sync=target", "-C", "{run}", "-f",
                                    write(os.path.join(d, f"chain-{n}.mk"), "\n".join(mk) + "\n"), "-j2"], n=n)
    cmds["floor"] = Command([tools.spawn_floor, str(n), "-j", "1"], n=n,
                            note="one at a time: a chain has no parallelism")
    return cmds


def chain_snakemake(d, n):
    text = (f"rule all:\n    input: 'o/{n - 1}'\n\n"
            "def prev(w):\n    i = int(w.i)\n    return [f'o/{i - 1}'] if i > 0 else []\n\n"
            "rule s:\n    input: prev\n    output: 'o/{i}'\n    shell: 'echo step-{wildcards.i} > {output}'\n")
    path = write(os.path.join(d, f"chain-{n}.smk"), text)
    return Command(["snakemake", "-s", path, "-d", "{run}", "--cores", "2", "--quiet"], n=n)


def chain_ansible(d, n):
    inv = write(os.path.join(d, "inventory-1.ini"), "[bench]\nh1 ansible_connection=local\n")
    tasks = "".join(f"    - name: s{i}\n      ansible.builtin.command: echo step-{i}\n      register: out{i}\n"
                    for i in range(n))
    play = write(os.path.join(d, f"chain-{n}.yml"),
                 f"- hosts: bench\n  connection: local\n  gather_facts: false\n  tasks:\n{tasks}")
    return Command(["ansible-playbook", "-i", inv, play], env=ansible_env(), n=n)


# --- wide ---------------------------------------------------------------------

def wide(d, n, tools):
    lines = [f"name: wide-{n}", "steps:", "  - id: first", "    run: \"true\""]
    for i in range(n):
        lines += [f"  - id: m{i}", "    run: \"true\"", "    needs: [first]"]
    lines += ["  - id: last", "    run: \"true\"", "    needs: [" + ", ".join(f"m{i}" for i in range(n)) + "]"]
    cmds = {"runbook": runbook_cmd(tools, write(os.path.join(d, f"wide-{n}.yaml"), "\n".join(lines) + "\n"), n + 2)}
    if tools.peer("ninja"):
        nj = ["rule r", "  command = true", "build first: r"] + [f"build m{i}: r first" for i in range(n)] + \
             ["build last: r " + " ".join(f"m{i}" for i in range(n)), "default last"]
        cmds["ninja -j2"] = Command(["ninja", "-C", "{run}", "-f", write(os.path.join(d, f"wide-{n}.ninja"),
                                                                          "\n".join(nj) + "\n"), "-j2"], n=n + 2)
    if tools.peer("make"):
        mk = [".PHONY: all", "all: last", "first:\n\t@true"] + [f"m{i}: first\n\t@true" for i in range(n)] + \
             ["last: " + " ".join(f"m{i}" for i in range(n)) + "\n\t@true"]
        cmds["make -j2"] = Command(["make", "-r", "-C", "{run}", "-f", write(os.path.join(d, f"wide-{n}.mk"),
                                                                             "\n".join(mk) + "\n"), "-j2"], n=n + 2)
    cmds["floor"] = Command([tools.spawn_floor, str(n + 2), "-j", "2"], n=n + 2)
    return cmds


# --- bigout -------------------------------------------------------------------

def bigout_script(nbytes):
    return f"yes '{BIGOUT_LINE}' | head -c {nbytes}"


def bigout(d, tools, nbytes=BIGOUT_BYTES):
    rb = write(os.path.join(d, "bigout.yaml"),
               f"name: bigout\nsteps:\n  - id: big\n    run: {bigout_script(nbytes)}\n")
    return {"runbook": runbook_cmd(tools, rb, 1),
            "sh > file": Command(["sh", "-c", f"{bigout_script(nbytes)} > {{run}}/out"], n=1)}


# --- startup ------------------------------------------------------------------

def startup(d, tools):
    rb = write(os.path.join(d, "one-step.yaml"), "name: one-step\nsteps:\n  - id: one\n    run: \"true\"\n")
    cmds = {"runbook": runbook_cmd(tools, rb, 1)}
    if tools.peer("ninja"):
        cmds["ninja -j2"] = Command(["ninja", "-C", "{run}", "-f", write(os.path.join(d, "empty.ninja"), ""), "-j2"],
                                    note="empty build file: no work to do")
    return cmds


# --- compile ------------------------------------------------------------------

def compile_files(d, n, tools, pyyaml):
    path = os.path.join(d, f"compile-{n}.yaml")
    with open(path, "w", encoding="utf-8") as f:
        gen_runbook.generate(n, 1, f)
    cmds = {"runbook": Command([tools.runbook, "--journal", "{run}/journal.db", "validate", path], n=n,
                               note="runbook validate: load + compile")}
    if pyyaml:
        cmds["PyYAML CSafeLoader"] = Command([tools.python, "-c", PYYAML_CODE, path], n=n)
    return cmds, os.path.getsize(path)


# --- journal and floor --------------------------------------------------------

def journal(tools, n, raw_batch=1000):
    return {"runbook": Command([tools.journal_bench, "journal", str(n), "{run}"], n=n, note="Journal::AppendEvent"),
            f"raw SQLite ({raw_batch}/txn)": Command([tools.journal_bench, "raw", str(n), "{run}", str(raw_batch)],
                                                    n=n)}


def journal_steps(tools, n):
    return {"runbook": Command([tools.journal_bench, "steps", str(n), "{run}"], n=n,
                               note="4 records + 1 Sync barrier per step, serial")}


def blobs(tools, megabytes):
    return {"raw SQLite 64 KiB/txn": Command([tools.journal_bench, "blobs", str(megabytes), "{run}", "65536", "1"],
                                             n=1),
            "raw SQLite 64 KiB x128/txn": Command([tools.journal_bench, "blobs", str(megabytes), "{run}", "65536",
                                                   "128"], n=1),
            "raw SQLite 1 MiB/txn": Command([tools.journal_bench, "blobs", str(megabytes), "{run}", "1048576", "1"],
                                            n=1)}


def floor(tools, n):
    return {"floor /bin/true": Command([tools.spawn_floor, str(n), "-j", "2"], n=n),
            "floor sh -c true": Command([tools.spawn_floor, str(n), "-j", "2", "--", "/bin/sh", "-c", "true"], n=n),
            "floor /bin/true -j1": Command([tools.spawn_floor, str(n), "-j", "1"], n=n)}
