"""Fixtures: results files written by the engine (build/release/wedge) for the tests."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import h5py
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
WEDGE = pathlib.Path(os.environ.get("WEDGE_BIN", ROOT / "build" / "release" / "wedge"))
SWEEPS = ROOT / "experiments" / "sweeps"


def wedge(*args, check=True):
    """Runs the wedge command line; returns the completed process."""
    return subprocess.run([str(WEDGE), *map(str, args)], capture_output=True, text=True, check=check)


def cli_options(settings):
    """Command-line options from keyword settings, in their order: {"refine_points": 16} gives
    ["--refine-points", 16] (the names wedge.calibrate() and `wedge calibrate` share)."""
    args = []
    for name, value in settings.items():
        args += [f"--{name.replace('_', '-')}", value]
    return args


def cli_json(*args):
    return json.loads(wedge("run", *args, "--json", "--quiet").stdout)


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    if not WEDGE.exists():
        pytest.fail(f"{WEDGE} is missing: run `make build` first (or set WEDGE_BIN)")
    d = tmp_path_factory.mktemp("results")
    out = {
        "baseline": d / "baseline.h5",
        "grid": d / "grid.h5",
        "lhs": d / "lhs.h5",
        "saltelli": d / "saltelli.h5",
        "summary_only": d / "summary_only.h5",
    }
    wedge("run", "--runs", 20000, "--seed", 7, "--out", out["baseline"], "--quiet")
    wedge("run", SWEEPS / "threat_rewards_grid.toml", "--runs", 3000, "--out", out["grid"], "--quiet")
    wedge("run", SWEEPS / "coercion_lhs.toml", "--runs", 1000, "--out", out["lhs"], "--quiet")
    wedge("run", SWEEPS / "binding_saltelli.toml", "--runs", 1000, "--out", out["saltelli"], "--quiet")
    wedge("run", "--runs", 5000, "--store", "summary", "--out", out["summary_only"], "--quiet")
    # A partial file: a copy marked incomplete, as an interrupted run leaves it.
    out["partial"] = d / "partial.h5.partial"
    shutil.copy(out["baseline"], out["partial"])
    with h5py.File(out["partial"], "r+") as f:
        f.attrs.modify("complete", 0)
    out["foreign"] = d / "foreign.h5"
    with h5py.File(out["foreign"], "w") as f:
        f.attrs["format"] = "something-else"
    out["newer"] = d / "newer.h5"
    shutil.copy(out["baseline"], out["newer"])
    with h5py.File(out["newer"], "r+") as f:
        f.attrs.modify("format_version", 99)
    out["text"] = d / "text.h5"
    out["text"].write_text("not hdf5")
    return out
