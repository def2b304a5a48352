"""Generates tests/reference/reference.json: the outcome distributions of the baseline and of a few
scenarios, from many runs, for tests/python/test_reference.py (issue 19, item 2).

    PYTHONPATH=python /usr/bin/python3 tests/reference/generate.py            # 10^8 runs each
    PYTHONPATH=python /usr/bin/python3 tests/reference/generate.py --runs 1000000 --out /tmp/r.json

For each scenario: every category count of every categorical field and the mean and sd of the
continuous fields (`wedge run ... --json`, one command, stored with the file), plus the kurtosis
of each continuous field from a second, smaller pass with per-run records (it sets the standard
error of the sd in the test). The reference seed differs from the test's.

Regenerate only when MODEL.md's model version changes, and review the differences first: the
point of this file is that a wrong change of the model (or a wrong default that someone re-pinned
in the regression files) shows up as a shift of a distribution. A change of the draw layout
(same model) must NOT need a new reference.
"""
import argparse
import datetime
import json
import pathlib
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

SCENARIOS = "experiments/scenarios"
# name -> (experiment file, --set overrides): the baseline, counterfactuals C2, C4 and C7 of
# MODEL.md section 7, and two corners of experiments/sweeps/threat_rewards_grid.toml (its points
# 0 and 11; the test runs the sweep file itself and compares those points).
CASES = {
    "baseline": (f"{SCENARIOS}/baseline.toml", []),
    "c2_no_okinawa_threat": (f"{SCENARIOS}/c2_no_okinawa_threat.toml", []),
    "c4_tactless_coercion": (f"{SCENARIOS}/c4_tactless_coercion.toml", []),
    "c7_four_island_offer": (f"{SCENARIOS}/c7_four_island_offer.toml", []),
    "grid_point_0": (f"{SCENARIOS}/baseline.toml", ["dulles.threat_strength=0", "dulles.reward_power=0.2"]),
    "grid_point_11": (f"{SCENARIOS}/baseline.toml", ["dulles.threat_strength=2", "dulles.reward_power=1.5"]),
}
SEED = 19560819          # 19 August 1956, Dulles's threat in London; the test uses another seed
KURTOSIS_SEED = 19560820
KURTOSIS_RUNS = 2_000_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000_000, help="runs per scenario (default 10^8)")
    parser.add_argument("--wedge", default=str(ROOT / "build" / "release" / "wedge"))
    parser.add_argument("--out", default=str(ROOT / "tests" / "reference" / "reference.json"))
    parser.add_argument("--only", nargs="*", help="scenarios to regenerate (default: all)")
    args = parser.parse_args()

    import wedge  # the package of this tree (PYTHONPATH=python)

    version = subprocess.run([args.wedge, "--version"], capture_output=True, text=True, check=True).stdout
    out_path = pathlib.Path(args.out)
    old = json.loads(out_path.read_text()) if args.only and out_path.exists() else {"scenarios": {}}
    doc = {
        "about": "Outcome distributions for tests/python/test_reference.py; made by tests/reference/generate.py "
                 "(see its docstring before regenerating).",
        "wedge_version": version.splitlines()[0],
        "model_version": version.split("model: tug_of_war version ")[1].split()[0],
        "generator": "PYTHONPATH=python /usr/bin/python3 tests/reference/generate.py --runs " + str(args.runs),
        "seed": SEED,
        "generated": "",
        "scenarios": old["scenarios"],
    }
    for name, (experiment, sets) in CASES.items():
        if args.only and name not in args.only:
            continue
        set_args = [a for s in sets for a in ("--set", s)]
        command = ["build/release/wedge", "run", experiment, "--runs", str(args.runs), "--seed", str(SEED),
                   *set_args, "--json", "--quiet"]
        start = time.time()
        result = json.loads(subprocess.run([args.wedge, *command[1:]], cwd=ROOT, capture_output=True, text=True,
                                           check=True).stdout)
        seconds = time.time() - start
        (point,) = result["points"]
        sim = wedge.simulate(str(ROOT / experiment), runs=KURTOSIS_RUNS, seed=KURTOSIS_SEED,
                             set=sets, records=True)
        stats = {}
        for field, s in point["stats"].items():
            x = np.asarray(sim["records"][field], dtype=np.float64)
            d = x - x.mean()
            var = np.mean(d * d)
            kurtosis = float(np.mean(d ** 4) / var ** 2) if var > 0 else None
            stats[field] = {**s, "kurtosis": kurtosis}
        doc["scenarios"][name] = {
            "command": " ".join(command),
            "kurtosis_from": f"wedge.simulate({experiment!r}, runs={KURTOSIS_RUNS}, seed={KURTOSIS_SEED}, "
                             f"set={sets!r}, records=True)",
            "runs": point["runs"],
            "seconds": round(seconds, 1),
            "counts": point["counts"],
            "stats": stats,
        }
        print(f"{name}: {point['runs']} runs in {seconds:.0f} s", file=sys.stderr)
        doc["generated"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        out_path.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
