#!/usr/bin/env python3
"""Run the baseline and two counterfactuals of MODEL.md section 7 and compare them.

    make build
    PYTHONPATH=python /usr/bin/python3 examples/counterfactuals.py [--runs N] [--out DIR]

Writes DIR/baseline.h5, DIR/c2.h5, DIR/c4.h5 (with the command line) and DIR/compare_format.png,
DIR/compare_alliance.png, and prints P(treaty) and P(alliance intact) for each.
"""
import argparse
import pathlib
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
import wedge  # noqa: E402
from wedge import plots  # noqa: E402

SCENARIOS = {
    "baseline": ROOT / "experiments/scenarios/baseline.toml",
    "c2": ROOT / "experiments/scenarios/c2_no_okinawa_threat.toml",
    "c4": ROOT / "experiments/scenarios/c4_tactless_coercion.toml",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--out", default=str(ROOT / "results" / "counterfactuals"))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, scenario in SCENARIOS.items():
        subprocess.run([str(ROOT / "build/release/wedge"), "run", str(scenario), "--runs", str(args.runs),
                        "--out", str(out / f"{name}.h5"), "--force", "--quiet"], check=True, stdout=subprocess.DEVNULL)
    opened = [wedge.open(out / f"{name}.h5") for name in SCENARIOS]
    try:
        labels = [r.description for r in opened]
        for field in ("format", "alliance"):
            fig = plots.compare(opened, labels, field)
            fig.savefig(out / f"compare_{field}.png", dpi=110)
        for name, r in zip(SCENARIOS, opened):
            print(f"{name:9s} P(treaty) = {r.probability('format', 'treaty')[0]:.4f}   "
                  f"P(alliance intact) = {r.probability('alliance', 'intact')[0]:.4f}   ({r.description})")
    finally:
        for r in opened:
            r.close()
    print(f"figures in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
