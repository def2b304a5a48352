"""Mutation testing for wedge (`make mutants`; docs/testing.md, "Mutation testing").

Applies each mutant of scripts/mutants/mutants.toml, one at a time, to a scratch copy of the tree
(tracked and untracked files, not build/), rebuilds it in its own build directory (through ccache
when it is installed), runs the tests and reports which mutants the tests killed:

  1. only what those tests need is rebuilt (incrementally, through ccache): nothing for a mutant
     of Python files only, else the command `wedge`, the Python module `wedge_core` and the test
     executables the `ctest` regex names (or the mutant's own `targets`); then the tests the mutant
     names run (`ctest`: a ctest -R regex; `pytest`: files or node ids);
  2. if those pass, the whole tree is rebuilt and the default suite runs: every ctest test except the slow ones (EXCLUDE below) and
     all of tests/python (that is `make test` without the fuzz smoke run, MPI and the random-fault
     runs).

A mutant is KILLED when a test fails (or times out), SURVIVED when every test passes, STALE when
one of its snippets is not found exactly once in the current tree (the list needs updating: a
failure of the tool, not a pass), BUILD-FAILED when it does not compile (not a semantic mutant).
Before any mutant, the unmutated copy must pass the default suite.

    /usr/bin/python3 scripts/mutants/run.py                 # every mutant
    /usr/bin/python3 scripts/mutants/run.py --only cli-crn-ignored rules-tie-break
    /usr/bin/python3 scripts/mutants/run.py --check         # only look for STALE snippets
    /usr/bin/python3 scripts/mutants/run.py --quick         # named tests only (no default suite)

Exit status: 0 when every mutant was killed, 1 otherwise.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIST = ROOT / "scripts" / "mutants" / "mutants.toml"
# Left out of the default suite: slow and about faults, interruption or MPI rather than results
# (they run when a mutant names them), and the formatting check (a mutant's edit is not
# clang-formatted, so that check would 'kill' mutants no semantic test catches).
EXCLUDE = "cli: mpirun|cli: faults at random moments|format:"
TIMEOUT = 1200  # seconds for one test command; a mutant that hangs a test counts as killed


class Mutant:
    def __init__(self, entry):
        self.id = entry["id"]
        self.area = entry["area"]
        self.reason = entry["reason"]
        self.issue19 = entry.get("issue19", False)
        self.pending = entry.get("pending", "")
        self.ctest = entry.get("ctest", "")
        self.pytest = entry.get("pytest", [])
        self.edits = entry["edit"]
        self.targets = entry.get("targets")
        self.status = ""
        self.detail = ""
        self.seconds = 0.0


def load(path):
    entries = tomllib.loads(path.read_text())["mutant"]
    mutants = [Mutant(e) for e in entries]
    ids = [m.id for m in mutants]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        sys.exit(f"{path}: duplicate mutant ids {sorted(duplicates)}")
    return mutants


def stale_reason(tree, mutant):
    """Why the mutant cannot be applied to `tree`, or ''."""
    texts = {}
    for edit in mutant.edits:
        f = tree / edit["file"]
        if not f.exists():
            return f"{edit['file']}: no such file"
        text = texts.get(edit["file"], f.read_text())
        n = text.count(edit["find"])
        if n != 1:
            return f"{edit['file']}: snippet found {n} times: {edit['find'][:60]!r}"
        texts[edit["file"]] = text.replace(edit["find"], edit["replace"])
    return ""


def tree_files(root):
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, check=True,
                         capture_output=True).stdout.decode()
    return [p for p in out.split("\0") if p and not p.startswith("build/") and (root / p).is_file()]


def sync_tree(src, dst):
    """Copies the tree into dst, rewriting only files that differ and removing files no longer in
    the tree (outside build/ and built artefacts). Unchanged files keep their times (incremental
    builds); a rewritten file gets the time of now, never the source's: a source time older than
    the scratch build's objects (a change merged while an earlier run was building) would leave
    those objects stale and test old code."""
    files = set(tree_files(src))
    for rel in files:
        a, b = src / rel, dst / rel
        if not b.exists() or b.read_bytes() != a.read_bytes():
            b.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(a, b)
            shutil.copymode(a, b)
    for path in dst.rglob("*"):
        rel = path.relative_to(dst).as_posix()
        if (path.is_file() and rel not in files and not rel.startswith("build/") and "__pycache__" not in rel
                and not rel.startswith("python/wedge/_core") and ".pytest_cache" not in rel):
            path.unlink()


def run(cmd, cwd, log, timeout=TIMEOUT, env=None):
    """Runs a command, appending its output to `log`; returns (ok, seconds, timed_out)."""
    start = time.monotonic()
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(map(str, cmd))}\n")
        out.flush()
        try:
            code = subprocess.run(list(map(str, cmd)), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout, env=env).returncode
        except subprocess.TimeoutExpired:
            return False, time.monotonic() - start, True
    return code == 0, time.monotonic() - start, False


def first_failure(log):
    """The first failing test named in the log's last command, for the report."""
    lines = pathlib.Path(log).read_text().splitlines()
    start = max((i for i, line in enumerate(lines) if line.startswith("$ ")), default=0)
    for line in lines[start:]:
        s = line.strip()
        if s.startswith("FAILED ") or ("***Failed" in s) or ("(Failed)" in s) or ("***Timeout" in s):
            return s[:140]
    for line in lines[start:]:
        if "error" in line.lower():
            return line.strip()[:140]
    return "(see log)"


class Tree:
    def __init__(self, scratch, jobs, log):
        self.src = scratch / "src"
        self.jobs = jobs
        self.log = log
        self.env = dict(os.environ)
        self.env.setdefault("CCACHE_BASEDIR", str(ROOT))
        self.env["PYTHONPATH"] = str(self.src / "python")
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"

    def prepare(self):
        self.src.mkdir(parents=True, exist_ok=True)
        sync_tree(ROOT, self.src)
        if not (self.src / "build" / "release" / "CMakeCache.txt").exists():
            cmd = ["cmake", "--preset", "release", "-DWEDGE_BUILD_BENCHMARKS=OFF"]
            if shutil.which("ccache"):
                cmd.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
            ok, _, _ = run(cmd, self.src, self.log, env=self.env)
            if not ok:
                sys.exit(f"configuring the scratch copy failed: see {self.log}")

    def build(self, targets=None):
        cmd = ["cmake", "--build", "--preset", "release", "-j", self.jobs]
        if targets:
            cmd += ["--target", *targets]
        return run(cmd, self.src, self.log, env=self.env)[0]

    def ctest(self, regex=None, exclude=None):
        cmd = ["ctest", "--preset", "release", "-j", self.jobs, "--timeout", TIMEOUT]
        if regex:
            cmd += ["-R", regex]
        if exclude:
            cmd += ["-E", exclude]
        return run(cmd, self.src, self.log, env=self.env)

    def pytest(self, targets):
        return run(["/usr/bin/python3", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *targets],
                   self.src, self.log, env=self.env)

    def default_suite(self):
        """(ok, detail): ctest without the slow tests, then all of tests/python."""
        ok, _, timed_out = self.ctest(exclude=EXCLUDE)
        if not ok:
            return False, ("timeout: " if timed_out else "") + first_failure(self.log)
        ok, _, timed_out = self.pytest(["tests/python"])
        if not ok:
            return False, ("timeout: " if timed_out else "") + first_failure(self.log)
        return True, ""

    def apply(self, mutant):
        originals, mutated = {}, {}
        for edit in mutant.edits:
            rel = edit["file"]
            if rel not in originals:
                originals[rel] = mutated[rel] = (self.src / rel).read_text()
            mutated[rel] = mutated[rel].replace(edit["find"], edit["replace"], 1)
        for rel, text in mutated.items():
            (self.src / rel).write_text(text)
        return originals

    def restore(self, originals):
        for rel, text in originals.items():
            (self.src / rel).write_text(text)


TEST_EXECUTABLES = ("test_agents", "test_engine", "test_output", "test_experiments", "wedge_regress")


def named_targets(mutant):
    """(for its ctest tests, for its pytest tests): the build targets the mutant's named tests
    need; nothing when only Python files change."""
    if all(e["file"].endswith(".py") for e in mutant.edits):
        return [], []
    if mutant.targets is not None:
        return list(mutant.targets), list(mutant.targets)
    executables = [t for t in TEST_EXECUTABLES if t in mutant.ctest or (t == "wedge_regress" and "regress" in mutant.ctest)]
    # ctest tests other than the Catch2 executables (cli:, layering, ...) run the command.
    for_ctest = executables if mutant.ctest and all(
        part.strip().startswith(tuple(TEST_EXECUTABLES)) for part in mutant.ctest.split("|")) else executables + ["wedge"]
    return (for_ctest if mutant.ctest else []), ["wedge", "wedge_core"]


def rebuild_cost(mutant):
    """A rough rank of what a mutant costs to rebuild: Python 0, one source file 1, the model's
    headers (rules, round, kernel: the three kernels) 2, headers that most files include 3."""
    cost = 0
    for e in mutant.edits:
        f = e["file"]
        if f.endswith(".py"):
            c = 0
        elif f.endswith(".cpp"):
            c = 1
        elif f in ("agents/rules.hpp", "agents/round.hpp", "agents/kernel.hpp"):
            c = 2
        else:
            c = 3
        cost = max(cost, c)
    return cost


def test_mutant(tree, mutant, quick):
    with open(tree.log, "a") as out:
        out.write(f"\n=== mutant {mutant.id} ===\n")
    originals = tree.apply(mutant)
    try:
        # Staged: the ctest tests' own targets first (a rule's mutant is usually killed by
        # test_agents before the command and the Python module are rebuilt), then the pytest's.
        for_ctest, for_pytest = named_targets(mutant)
        if mutant.ctest:
            if for_ctest and not tree.build(for_ctest):
                return "BUILD-FAILED", first_failure(tree.log)
            ok, _, timed_out = tree.ctest(regex=mutant.ctest)
            if not ok:
                return "KILLED", ("timeout: " if timed_out else "") + first_failure(tree.log)
        if mutant.pytest:
            if for_pytest and not tree.build(for_pytest):
                return "BUILD-FAILED", first_failure(tree.log)
            ok, _, timed_out = tree.pytest(mutant.pytest)
            if not ok:
                return "KILLED", ("timeout: " if timed_out else "") + first_failure(tree.log)
        if quick:
            return "SURVIVED", "named tests only (--quick)"
        if not tree.build():
            return "BUILD-FAILED", first_failure(tree.log)
        ok, detail = tree.default_suite()
        return ("SURVIVED", "") if ok else ("KILLED", "default suite: " + detail)
    finally:
        tree.restore(originals)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", type=pathlib.Path, default=LIST)
    parser.add_argument("--only", nargs="*", help="mutant ids")
    parser.add_argument("--scratch", type=pathlib.Path, default=ROOT / "build" / "mutants")
    parser.add_argument("--jobs", default=str(min(2, os.cpu_count() or 1)))
    parser.add_argument("--check", action="store_true", help="only check that every snippet applies")
    parser.add_argument("--quick", action="store_true", help="run only the tests each mutant names")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated suite run")
    args = parser.parse_args()

    mutants = load(args.list)
    if args.only:
        unknown = set(args.only) - {m.id for m in mutants}
        if unknown:
            sys.exit(f"unknown mutant ids: {sorted(unknown)}")
        mutants = [m for m in mutants if m.id in args.only]
    # Issue 19's faults first, then the cheapest to rebuild (the report keeps the list's order).
    listed = list(mutants)
    mutants.sort(key=lambda m: (not m.issue19, rebuild_cost(m)))
    for m in mutants:
        reason = stale_reason(ROOT, m)
        if reason:
            m.status, m.detail = "STALE", reason
    if args.check:
        for m in mutants:
            print(f"{m.status or 'ok':6} {m.id}{': ' + m.detail if m.detail else ''}")
        return 1 if any(m.status == "STALE" for m in mutants) else 0

    args.scratch.mkdir(parents=True, exist_ok=True)
    log = args.scratch / "mutants.log"
    log.write_text("")
    tree = Tree(args.scratch, args.jobs, log)
    print(f"scratch copy: {tree.src} (log: {log})", flush=True)
    tree.prepare()
    if not tree.build():
        sys.exit(f"building the unmutated copy failed: see {log}")
    if not args.no_baseline:
        start = time.monotonic()
        ok, detail = tree.default_suite()
        if not ok:
            sys.exit(f"the unmutated copy fails its tests ({detail}): fix that first (log: {log})")
        print(f"unmutated copy: default suite passes ({time.monotonic() - start:.0f} s)", flush=True)

    for m in mutants:
        if m.status == "STALE":
            print(f"{m.id}: STALE ({m.detail})", flush=True)
            continue
        start = time.monotonic()
        m.status, m.detail = test_mutant(tree, m, args.quick)
        m.seconds = time.monotonic() - start
        print(f"{m.id}: {m.status} in {m.seconds:.0f} s{' (' + m.detail + ')' if m.detail else ''}", flush=True)
    tree.build()  # leave the scratch build unmutated

    mutants = listed
    killed = sum(m.status == "KILLED" for m in mutants)
    width = max(len(m.id) for m in mutants)
    print(f"\n{'mutant':{width}}  {'area':7} {'status':12} {'s':>5}  killed by / note")
    for m in mutants:
        note = m.detail
        if m.status != "KILLED" and m.pending:
            note = f"pending: {m.pending}" + (f"; {note}" if note else "")
        mark = " [issue 19]" if m.issue19 else ""
        print(f"{m.id:{width}}  {m.area:7} {m.status:12} {m.seconds:5.0f}  {note}{mark}")
    stale = [m.id for m in mutants if m.status == "STALE"]
    if stale:
        print(f"\n{len(stale)} STALE mutant(s): their snippets are no longer in the tree; update "
              f"scripts/mutants/mutants.toml (a failure of the list, not a pass): {', '.join(stale)}")
    print(f"\nkilled {killed} of {len(mutants)} mutants ({100.0 * killed / len(mutants):.0f}%)")
    report = args.scratch / "mutants.json"
    report.write_text(json.dumps([{k: getattr(m, k) for k in ("id", "area", "status", "detail", "seconds",
                                                             "issue19", "pending", "reason")} for m in mutants],
                                 indent=1) + "\n")
    print(f"report: {report}")
    return 0 if killed == len(mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
