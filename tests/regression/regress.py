#!/usr/bin/python3
"""Pinned regressions (tests/regression/README.md).

Each case is a directory tests/regression/<case>/ with
  command          the `wedge` arguments (one line; paths relative to the repository root),
  expected.json    what `wedge <command> --json` printed, with a newline after each "}, {"
                   so that a diff shows which design point or round changed,
  records.sha256   run cases: SHA-256 of every run's observed record columns in file order.

  regress.py check CASE --wedge BIN --driver BIN     compare (ctest runs this per case)
  regress.py update [CASE...] --wedge BIN --driver BIN   rewrite the pins from the current code
  (--pins DIR: the case directories and arithmetic_version are in DIR, not here; for tests)

The file arithmetic_version beside the cases holds the results arithmetic version the pins were
made with (output::ARITHMETIC_VERSION, which every results file records and `--resume` and
`wedge merge` compare). `check` fails while the build's (`wedge --version`) differs from it, and
`update` refuses to change any pin unless the build's is greater (bumped), then records it: a
re-pin cannot forget the bump, and a bump cannot forget the re-pin.

A run case is checked through the command line at 1 and 2 threads (the lane width this CPU
dispatches to), and through the driver (wedge_regress) at every lane width the CPU has (1 and 4 everywhere; 8 with AVX2; 16 with AVX-512)
times 1 and 2 threads: every one must give the pinned JSON and records.
"""
import argparse
import hashlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent  # the pins (--pins)
ROOT = Path(__file__).resolve().parent.parent.parent
VERSION_FILE = "arithmetic_version"
WIDTHS = (1, 4, 8, 16)
THREADS = (1, 2)
SKIPPED = 77  # wedge_regress: the CPU or build lacks this lane width


def build_version(wedge):
    """The build's results arithmetic version, as `wedge --version` prints it."""
    code, out, err = run([wedge, "--version"])
    m = re.search(r"results arithmetic version (\d+);", out)
    if code != 0 or not m:
        sys.exit(f"{wedge} --version: exit {code}: no 'results arithmetic version N;' in:\n{out}{err}")
    return int(m.group(1))


def pinned_version():
    """The version the pins were made with (the first line of arithmetic_version that is not a
    comment)."""
    path = HERE / VERSION_FILE
    lines = [l for l in path.read_text().splitlines() if l.strip() and not l.lstrip().startswith("#")]
    if len(lines) != 1 or not lines[0].strip().isdigit():
        sys.exit(f"{path}: expected one line holding an integer")
    return int(lines[0])


def write_pinned_version(version):
    (HERE / VERSION_FILE).write_text(
        "# The results arithmetic version (output::ARITHMETIC_VERSION in output/results.hpp) these pins\n"
        "# were made with; written by update.sh, which refuses to change a pin unless it was bumped.\n"
        f"{version}\n")


def version_problem(wedge):
    """Why the build's arithmetic version cannot be checked against these pins, or None."""
    ours, pinned = build_version(wedge), pinned_version()
    if ours == pinned:
        return None
    return (f"this build's results arithmetic version is {ours} (ARITHMETIC_VERSION, output/results.hpp), "
            f"but the pins were made with {pinned} ({HERE / VERSION_FILE}): a bump must come with the "
            f"re-pin it announces (tests/regression/update.sh records the new version), and a version "
            f"must never go back")


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
    problem = version_problem(wedge)
    if problem:
        print(f"{case}: {problem}")
        failures += 1
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


def new_pins(case, wedge, exe):
    """{file name: new content} of the case's pins, from the current code (nothing written)."""
    args = read_command(case)
    if args[0] == "trace":
        return {"expected.json": cli_json(args, wedge)}
    text = cli_json(args, wedge, 2)
    got = driver(args, exe, 1, 1)
    if got[0] != text:
        show_diff(case, "wedge_regress (width 1, 1 thread) against the CLI", text, got[0])
        sys.exit(f"{case}: the driver does not reproduce `wedge {shlex.join(args)}`: fix it first")
    return {"expected.json": text, "records.sha256": f"{got[1]} {got[2]}\n"}


def update(names, wedge, exe):
    """Rewrites the named cases' pins; refuses (writing nothing) if a pin would change while the
    build's arithmetic version is still the pinned one, or if the build's is older."""
    ours, pinned = build_version(wedge), pinned_version()
    if ours < pinned:
        sys.exit(f"refused: this build's results arithmetic version {ours} is older than the pins' "
                 f"{pinned} ({HERE / VERSION_FILE}); versions only go up")
    pins = {case: new_pins(case, wedge, exe) for case in names}
    changed = [case for case, files in pins.items()
               if any(not (HERE / case / name).is_file() or (HERE / case / name).read_text() != text
                      for name, text in files.items())
               and (HERE / case / "expected.json").is_file()]  # a new case changes no pin
    if changed and ours == pinned:
        sys.exit(f"refused: the pins of {', '.join(changed)} would change, but this build's results "
                 f"arithmetic version is still {pinned}, the pins' ({HERE / VERSION_FILE}). Per-run "
                 f"results changed: bump ARITHMETIC_VERSION in output/results.hpp to {pinned + 1} "
                 f"(every results file records it; --resume and wedge merge refuse files of another "
                 f"version, so that runs of the two builds never mix), rebuild and rerun update.sh. "
                 f"Nothing was rewritten.")
    for case, files in pins.items():
        for name, text in files.items():
            (HERE / case / name).write_text(text)
        print(f"{case}: pins {'rewritten' if case in changed else 'unchanged'}")
    if ours != pinned:
        write_pinned_version(ours)
        print(f"{VERSION_FILE}: {pinned} -> {ours}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["check", "update"])
    ap.add_argument("cases", nargs="*", help="case names (update: default all)")
    ap.add_argument("--wedge", required=True, help="the wedge binary")
    ap.add_argument("--driver", required=True, help="the wedge_regress binary")
    ap.add_argument("--pins", help="the directory of the cases and arithmetic_version (default: this one)")
    a = ap.parse_args()
    if a.pins:
        global HERE
        HERE = Path(a.pins).resolve()
    names = a.cases or cases()
    for name in names:
        if name not in cases():
            sys.exit(f"unknown case '{name}' (cases: {', '.join(cases())})")
    wedge, exe = os.path.abspath(a.wedge), os.path.abspath(a.driver)
    if a.mode == "update":
        update(names, wedge, exe)
        return 0
    return max(check(name, wedge, exe) for name in names)


if __name__ == "__main__":
    sys.exit(main())
