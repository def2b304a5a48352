#!/usr/bin/python3
"""Pinned regressions (tests/regression/README.md).

Each case is a directory tests/regression/<case>/ with
  command          the `wedge` arguments (one line; paths relative to the repository root),
  expected.json    what `wedge <command> --json` printed, with a newline after each "}, {"
                   so that a diff shows which design point or round changed,
  records.sha256   run cases: SHA-256 of every run's observed record columns in file order.

  regress.py check CASE --wedge BIN --driver BIN     compare (ctest runs this per case)
  regress.py update [CASE...] --wedge BIN --driver BIN   rewrite the pins from the current code

A run case is checked through the command line at 1 and 2 threads (the lane width this CPU
dispatches to), and through the driver (wedge_regress) at every lane width the CPU has (1 and 4 everywhere; 8 with AVX2; 16 with AVX-512)
times 1 and 2 threads: every one must give the pinned JSON and records.
"""
import argparse
import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WIDTHS = (1, 4, 8, 16)
THREADS = (1, 2)
SKIPPED = 77  # wedge_regress: the CPU or build lacks this lane width


def cases():
    return sorted(p.name for p in HERE.iterdir() if (p / "command").is_file())


def read_command(case):
    lines = [l for l in (HERE / case / "command").read_text().splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    if len(lines) != 1:
        sys.exit(f"{case}/command: expected one line of wedge arguments")
    return shlex.split(lines[0])


def split_lines(json_text):
    """The one-line JSON with a newline after each '}, {' (reversible: the CLI prints one line)."""
    return json_text.replace("}, {", "},\n{")


def run(cmd):
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def cli_json(args, wedge, threads=None):
    cmd = [wedge] + args + ["--json"]
    if args[0] == "run":
        cmd += ["--quiet", "--threads", str(threads)]
    code, out, err = run(cmd)
    if code != 0:
        sys.exit(f"{shlex.join(cmd)}: exit {code}\n{err}")
    return split_lines(out)


def driver(args, exe, width, threads):
    """(JSON, records SHA-256, bytes) from wedge_regress, or None if the width is unavailable."""
    with tempfile.TemporaryDirectory() as tmp:
        records = Path(tmp) / "records.bin"
        cmd = [exe, "--width", str(width), "--threads", str(threads), "--records", str(records)] + args[1:]
        code, out, err = run(cmd)
        if code == SKIPPED:
            return None
        if code != 0:
            sys.exit(f"{shlex.join(cmd)}: exit {code}\n{err}")
        data = records.read_bytes()
        return split_lines(out), hashlib.sha256(data).hexdigest(), len(data)


def show_diff(case, what, expected, actual):
    """The first differing lines (a design point or a round each), around their first difference."""
    want, got = expected.splitlines(), actual.splitlines()
    print(f"{case}: {what} differs from the pin ({case}/expected.json):")
    if len(want) != len(got):
        print(f"  {len(got)} lines instead of {len(want)}")
    shown = 0
    for i, (a, b) in enumerate(zip(want, got)):
        if a == b:
            continue
        at = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        lo = max(0, at - 120)
        print(f"  line {i + 1}, from character {lo}:\n    pinned: {a[lo:at + 120]}\n    now:    {b[lo:at + 120]}")
        shown += 1
        if shown == 4:
            print("  ...")
            break


def check(case, wedge, exe):
    args = read_command(case)
    expected = (HERE / case / "expected.json").read_text()
    failures = 0
    seen = []
    if args[0] == "trace":
        actual = cli_json(args, wedge)
        if actual != expected:
            show_diff(case, "wedge " + shlex.join(args), expected, actual)
            failures += 1
        seen.append("CLI")
    else:
        pinned = (HERE / case / "records.sha256").read_text().split()
        for t in THREADS:
            actual = cli_json(args, wedge, t)
            if actual != expected:
                show_diff(case, f"wedge {shlex.join(args)} --threads {t}", expected, actual)
                failures += 1
        seen.append("CLI at threads " + ", ".join(map(str, THREADS)))
        widths = []
        for w in WIDTHS:
            for t in THREADS:
                got = driver(args, exe, w, t)
                if got is None:
                    break
                json_text, digest, size = got
                if json_text != expected:
                    show_diff(case, f"wedge_regress width {w}, {t} threads", expected, json_text)
                    failures += 1
                if digest != pinned[0]:
                    print(f"{case}: records at width {w}, {t} threads: SHA-256 {digest} ({size} bytes), "
                          f"pinned {pinned[0]} ({pinned[1]} bytes)")
                    failures += 1
            else:
                widths.append(w)
        if 1 not in widths:
            sys.exit(f"{case}: the portable width 1 did not run")
        seen.append(f"lane widths {', '.join(map(str, widths))} x threads {', '.join(map(str, THREADS))}"
                    f" ({pinned[1]} bytes of records)")
    if failures:
        print(f"{case}: {failures} mismatch(es). If the change is deliberate, regenerate the pins with "
              f"tests/regression/update.sh {case} and commit them on their own, saying why "
              f"(tests/regression/README.md).")
        return 1
    print(f"{case}: identical to the pins ({'; '.join(seen)})")
    return 0


def update(case, wedge, exe):
    args = read_command(case)
    if args[0] == "trace":
        text = cli_json(args, wedge)
    else:
        text = cli_json(args, wedge, 2)
        got = driver(args, exe, 1, 1)
        if got[0] != text:
            show_diff(case, "wedge_regress (width 1, 1 thread) against the CLI", text, got[0])
            sys.exit(f"{case}: the driver does not reproduce `wedge {shlex.join(args)}`: fix it first")
        (HERE / case / "records.sha256").write_text(f"{got[1]} {got[2]}\n")
    (HERE / case / "expected.json").write_text(text)
    print(f"{case}: pins rewritten")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["check", "update"])
    ap.add_argument("cases", nargs="*", help="case names (update: default all)")
    ap.add_argument("--wedge", required=True, help="the wedge binary")
    ap.add_argument("--driver", required=True, help="the wedge_regress binary")
    a = ap.parse_args()
    names = a.cases or cases()
    for name in names:
        if name not in cases():
            sys.exit(f"unknown case '{name}' (cases: {', '.join(cases())})")
    wedge, exe = os.path.abspath(a.wedge), os.path.abspath(a.driver)
    if a.mode == "update":
        for name in names:
            update(name, wedge, exe)
        return 0
    return max(check(name, wedge, exe) for name in names)


if __name__ == "__main__":
    sys.exit(main())
