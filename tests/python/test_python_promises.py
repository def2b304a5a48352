"""README's promises about wedge.simulate not covered by test_simulate.py: every argument means what
the command line's flag means (precision=, booleans in a dict or in set=), and records=True returns
the same per-run records as `wedge run --out` writes."""
import h5py
import numpy as np

import wedge
from conftest import cli_json, wedge as wedge_cli


def without_experiment(doc):
    return {k: v for k, v in doc.items() if k not in ("experiment", "records")}


def test_booleans_in_a_dict_and_in_set_are_kept():
    cli = cli_json("--runs", 5000, "--seed", 4, "--set", "soviet.straits_clause=false")
    # No straits clause at the start: it can never be in force when a run ends.
    assert cli["points"][0]["counts"]["straits_clause"]["1"] == 0
    as_dict = wedge.simulate({"soviet": {"straits_clause": False}}, runs=5000, seed=4)
    as_set = wedge.simulate(set={"soviet.straits_clause": False}, runs=5000, seed=4)
    assert without_experiment(as_dict) == without_experiment(as_set) == cli
    true = wedge.simulate({"soviet": {"straits_clause": True}, "run": {"crn": True}}, runs=5000, seed=4)
    assert without_experiment(true) == cli_json("--runs", 5000, "--seed", 4)


def test_precision_argument_is_the_flag():
    assert without_experiment(wedge.simulate(precision=0.005, seed=2)) == cli_json("--precision", 0.005, "--seed", 2)


def test_records_equal_the_results_file(tmp_path):
    out = tmp_path / "r.h5"
    wedge_cli("run", "--runs", 5000, "--seed", 6, "--out", out, "--quiet")
    records = wedge.simulate(runs=5000, seed=6, records=True)["records"]
    with h5py.File(out) as f:
        order = np.argsort(f["runs/replicate"][()], kind="stable")
        mine = np.argsort(records["replicate"], kind="stable")
        assert sorted(f["runs"]) == sorted(records)
        for column in f["runs"]:
            stored = f["runs"][column][()][order]
            ours = np.asarray(records[column])[mine]
            if f["runs"][column].attrs.get("encoding") in ("value", b"value"):
                # simulate returns category indices; the file stores numbered categories' numbers.
                numbers = np.array([int(c) for c in f["runs"][column].attrs["categories"]])
                ours = numbers[ours]
            # The file keeps alignment and reward_total as float32 (docs/output-format.md).
            assert np.array_equal(stored, ours.astype(stored.dtype)), column
