#!/usr/bin/env python3
"""End-to-end throughput harness (`make bench`): wedge on 1..N threads with summaries only and
with per-run records, the bare-loop ceiling, peak memory, bytes per run, the Python peers, and
cost per run as runs and design points grow. Prints a table, or JSON with --json.

    /usr/bin/python3 benchmarks/harness.py [--runs N] [--repeat K] [--quick] [--json]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
WEDGE = pathlib.Path(os.environ.get("WEDGE_BIN", ROOT / "build" / "release" / "wedge"))
MICRO = ROOT / "build" / "release" / "benchmarks" / "wedge_benchmarks"
sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))


def timed(cmd):
    """(wall seconds, peak RSS in MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed: {err}")
    return wall, usage.ru_maxrss / 1024.0


def median_run(cmd, repeat):
    results = [timed(cmd) for _ in range(repeat)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def ceiling():
    """The bare loop: the kernel over consecutive replicates on one core (Google Benchmark)."""
    kernel = subprocess.run([str(WEDGE), "--version"], capture_output=True, text=True).stdout
    width = 16 if "avx512" in kernel else 8 if "avx2" in kernel else 1
    out = subprocess.run([str(MICRO), f"--benchmark_filter=BM_Model_RunBlock/{width}$", "--benchmark_format=json",
                          "--benchmark_min_time=0.5", "--benchmark_repetitions=3"], capture_output=True, text=True, check=True)
    rates = [b["items_per_second"] for b in json.loads(out.stdout)["benchmarks"] if b.get("run_type") == "iteration"]
    return statistics.median(rates), kernel.split("kernel on this CPU: ")[1].split("\n")[0]


def grid_file(directory, points):
    side = int(round(points ** 0.5))
    values = lambda lo, hi, n: "[" + ", ".join(f"{lo + (hi - lo) * i / max(1, n - 1):.6f}" for i in range(n)) + "]"
    path = pathlib.Path(directory) / f"grid{points}.toml"
    path.write_text(f'[sweep]\ndesign = "grid"\n[sweep.keys]\n"dulles.tact" = {values(0, 1, side)}\n'
                    f'"dulles.backlash" = {values(0, 0.3, points // side)}\n')
    return path


def main():
    parser = argparse.ArgumentParser(description="wedge throughput harness")
    parser.add_argument("--runs", type=int, default=4_000_000, help="runs per engine measurement")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (medians are reported)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.repeat = 500_000, 1
    for exe in (WEDGE, MICRO):
        if not exe.exists():
            sys.exit(f"error: {exe} is missing: run `make build` first")
    cores = os.cpu_count() or 1
    report = {"machine": {"cores": cores, "cpu": cpu_model()}, "runs": args.runs, "repeat": args.repeat}

    rate, kernel = ceiling()
    report["ceiling_runs_per_s_per_core"] = rate
    report["kernel"] = kernel

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        for threads in range(1, cores + 1):
            wall, rss = median_run([WEDGE, "run", "--runs", args.runs, "--threads", threads, "--quiet"], args.repeat)
            out = pathlib.Path(tmp) / "r.h5"
            cmd = [WEDGE, "run", "--runs", args.runs, "--threads", threads, "--quiet", "--out", out, "--force"]
            wall_w, rss_w = median_run(cmd, args.repeat)
            size = out.stat().st_size
            rs = args.runs / wall
            base = base or rs
            rows.append({"threads": threads, "runs_per_s": rs, "speedup": rs / base, "efficiency": rs / base / threads,
                         "fraction_of_ceiling": rs / (rate * threads), "peak_rss_mb": rss,
                         "runs_per_s_with_records": args.runs / wall_w, "records_cost": 1 - wall / wall_w,
                         "peak_rss_mb_with_records": rss_w, "bytes_per_run": size / args.runs})
        report["threads"] = rows

        scaling = []
        for runs in ([10**5, 10**6] if args.quick else [10**5, 10**6, 10**7]):
            wall, rss = median_run([WEDGE, "run", "--runs", runs, "--quiet"], args.repeat)
            scaling.append({"runs": runs, "points": 1, "runs_per_s": runs / wall, "peak_rss_mb": rss})
        total = 2**19 if args.quick else 2**22
        for points in (64, 4096):
            wall, rss = median_run([WEDGE, "run", grid_file(tmp, points), "--runs", total // points, "--quiet"], args.repeat)
            scaling.append({"runs": total, "points": points, "runs_per_s": total / wall, "peak_rss_mb": rss})
        wall, rss = median_run([WEDGE, "run", "--runs", total, "--quiet"], args.repeat)
        scaling.append({"runs": total, "points": 1, "runs_per_s": total / wall, "peak_rss_mb": rss})
        report["scaling"] = scaling

    import plain
    import vectorized
    peers = []
    for name, module, n in (("plain Python (one run at a time)", plain, 5_000 if args.quick else 20_000),
                            ("NumPy (vectorised, blocks of 65,536)", vectorized, 131_072 if args.quick else 524_288)):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            module.simulate(n, seed=1)
            times.append(time.perf_counter() - start)
        rs = n / statistics.median(times)
        peers.append({"peer": name, "runs": n, "runs_per_s": rs, "wedge_per_core_ratio": rows[0]["runs_per_s"] / rs})
    report["peers"] = peers

    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"wedge throughput harness: {cores} cores ({report['machine']['cpu']}), kernel {kernel}, "
          f"{args.runs:,} runs per measurement, median of {args.repeat}")
    print(f"bare-loop ceiling (kernel alone, 1 core): {rate / 1e6:.2f} M runs/s\n")
    print(f"{'threads':>7} {'runs/s':>10} {'speed-up':>9} {'effic.':>7} {'of ceiling':>11} {'RSS MB':>7} "
          f"{'with records':>13} {'cost':>6} {'RSS MB':>7} {'bytes/run':>10}")
    for r in rows:
        print(f"{r['threads']:>7} {r['runs_per_s'] / 1e6:>9.2f}M {r['speedup']:>8.2f}x {r['efficiency']:>7.0%} "
              f"{r['fraction_of_ceiling']:>11.0%} {r['peak_rss_mb']:>7.1f} {r['runs_per_s_with_records'] / 1e6:>12.2f}M "
              f"{r['records_cost']:>6.0%} {r['peak_rss_mb_with_records']:>7.1f} {r['bytes_per_run']:>10.1f}")
    print(f"\n{'runs':>12} {'points':>7} {'runs/s':>10} {'RSS MB':>7}   (all threads, summaries only)")
    for s in scaling:
        print(f"{s['runs']:>12,} {s['points']:>7} {s['runs_per_s'] / 1e6:>9.2f}M {s['peak_rss_mb']:>7.1f}")
    print(f"\n{'peer (1 core)':<40} {'runs/s':>10} {'wedge per core / peer':>22}")
    for p in peers:
        print(f"{p['peer']:<40} {p['runs_per_s'] / 1e3:>9.1f}k {p['wedge_per_core_ratio']:>21.1f}x")
    return 0


def cpu_model():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
