"""Per-round histories (wedge run --store rounds): Results.rounds() against the file's own runs and
against `wedge trace`, the label rule, selections, errors, and the fan chart's numbers."""
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import wedge  # noqa: E402
from wedge import plots  # noqa: E402

from conftest import SWEEPS, wedge as run_wedge  # noqa: E402


@pytest.fixture(scope="module")
def rounds_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rounds") / "grid.h5"
    run_wedge("run", SWEEPS / "threat_rewards_grid.toml", "--runs", 2500, "--store", "rounds", "--out", path, "--quiet")
    return path


def test_each_run_has_its_rounds(rounds_file):
    with wedge.open(rounds_file) as r:
        runs = r.runs(columns=["rounds", "alignment", "threat_round"])
        table = r.rounds()
    assert len(table) == int(runs["rounds"].astype(int).sum())
    per_run = table.groupby(["point", "replicate"], sort=False)
    counted = per_run.size().to_numpy()
    np.testing.assert_array_equal(counted, runs["rounds"].astype(int).to_numpy())
    # Rounds run 1, 2, ..., n within each run, and rows come in the order of the runs.
    first = per_run["round"].transform("first").to_numpy()
    assert (first == 1).all()
    np.testing.assert_array_equal(table["round"].to_numpy(), per_run.cumcount().to_numpy() + 1)
    # The last round's A is the run's final A; the threat round is the round Dulles threatened.
    np.testing.assert_array_equal(per_run["alignment"].last().to_numpy(), runs["alignment"].to_numpy())
    threatened = table[table["dulles"] == "reward_threat"].set_index(["point", "replicate"])["round"]
    expected = runs.set_index(["point", "replicate"])["threat_round"].astype(int)
    assert len(threatened) == int((expected > 0).sum()) > 0
    np.testing.assert_array_equal(threatened.to_numpy(), expected[expected > 0].loc[threatened.index].to_numpy())


def test_rounds_equal_the_trace(rounds_file):
    with wedge.open(rounds_file) as r:
        table = r.rounds(points=[7], runs=[0, 3, 11])
    for replicate in (0, 3, 11):
        trace = json.loads(run_wedge("trace", SWEEPS / "threat_rewards_grid.toml", "--point", 7, "--replicate",
                                     replicate, "--json").stdout)
        rows = table[table["replicate"] == replicate]
        assert len(rows) == len(trace["rounds"]) == trace["record"]["rounds"]
        for (_, row), t in zip(rows.iterrows(), trace["rounds"]):
            assert row["round"] == t["round"]
            assert row["alignment"] == np.float32(t["alignment_end"])
            assert row["islands_offered"] == t["islands_offered"]
            assert row["straits_clause"] == int(t["straits_clause"])
            assert row["alliance_clause"] == int(t["alliance_clause"])
            assert row["declaration_available"] == int(t["declaration_available"])
            assert row["dulles"] == ("reward_threat" if t["coerced"] else "reward" if t["rewarded"] else "none")
            assert row["support_treaty"] == np.float32(t["realized_support_treaty"])
            if t["declaration_available"]:
                assert row["support_declaration"] == np.float32(t["realized_support_declaration"])
            else:
                assert np.isnan(row["support_declaration"])
            assert row["fisheries"] == int(t["fisheries_in_force"])
            assert row["sg_min_islands"] == t["sg_min_islands"]


def test_labels_selections_and_chunks(rounds_file):
    with wedge.open(rounds_file) as r:
        table = r.rounds(points=[2, 5], runs=40, run_fields=["format"])
        assert set(table["point"]) == {2, 5} and table["replicate"].max() == 39
        assert list(table["dulles"].cat.categories) == ["none", "reward", "reward_threat"]
        assert list(table["islands_offered"].cat.categories) == [0, 2, 4]
        assert list(table["straits_clause"].cat.categories) == [0, 1]
        assert table["format"].iloc[0] in ("none", "declaration", "treaty")
        assert table["round"].dtype == np.int64 and table["alignment"].dtype == np.float32
        # Reading in small chunks gives the same table.
        small = r.rounds(points=[2, 5], runs=40, run_fields=["format"], chunk_size=997)
        pd.testing.assert_frame_equal(table, small)
        with pytest.raises(IndexError, match=r"^points = \[999\]: point 999 is not in the file \(12 points"):
            r.rounds(points=[999])  # an impossible request is refused, not answered with an empty table
        with pytest.raises(KeyError, match="unknown round column"):
            r.rounds(columns=["nonsense"])
        with pytest.raises(KeyError, match="unknown run field"):
            r.rounds(run_fields=["nonsense"])


def test_a_file_without_rounds_says_how_to_get_them(files):
    with wedge.open(files["baseline"]) as r:
        assert not r.has_rounds
        with pytest.raises(wedge.ResultsError, match="no per-round histories.*--store rounds"):
            r.rounds()
        with pytest.raises(wedge.ResultsError, match="--store rounds"):
            plots.alignment_fan(r)


def test_fan_chart_numbers_and_figure(rounds_file, tmp_path):
    with wedge.open(rounds_file) as r:
        q = plots.alignment_quantiles(r, points=[4])
        table = r.rounds(points=[4], run_fields=["format"])
        for fmt in ("declaration", "treaty"):
            a = table[(table["format"] == fmt) & (table["round"] == 2)]["alignment"].to_numpy(dtype=float)
            row = q[(q["format"] == fmt) & (q["round"] == 2)].iloc[0]
            assert row["runs"] == len(a)
            assert row["q50"] == pytest.approx(np.median(a))
            assert row["q05"] == pytest.approx(np.quantile(a, 0.05))
        # "hold": every round counts every run of the category, with its last A so far.
        held = plots.alignment_quantiles(r, points=[4], after_end="hold")
        assert (held["runs"] == held["runs_total"]).all()
        final = table.groupby(["replicate"]).last()
        last = held[held["format"] == "declaration"].iloc[-1]
        a = final[final["format"] == "declaration"]["alignment"].to_numpy(dtype=float)
        assert last["q50"] == pytest.approx(np.median(a))
        fig = plots.alignment_fan(r, points=[4])
        assert len([ax for ax in fig.axes if ax.get_ylabel() == "alignment A after the round"]) == 1
        assert [ax.get_title().split("\n")[0] for ax in fig.axes[:3]] == \
            ["format = none", "format = declaration", "format = treaty"]
        fig.savefig(tmp_path / "fan.png")
        assert (tmp_path / "fan.png").stat().st_size > 5000


def test_xarray_opens_the_rounds_group(rounds_file):
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(rounds_file, engine="h5netcdf", group="rounds") as ds:
        assert ds["alignment"].dims == ("round_row",)
        assert ds["run_begin"].dims == ("run",)
        assert ds.sizes["run"] == 12 * 2500
        assert ds["dulles"].attrs["flag_meanings"] == "none reward reward_threat"
