"""xarray without glue (dimension scales in the file), per-run records as a lazy Dataset, one rule
for category labels, typed swept keys, and summaries that show the categories that can occur."""
import numpy as np
import pytest
import xarray as xr

import wedge
from conftest import ROOT, wedge as run_wedge

# Categories per field for negotiation.rounds = R: the twelve categorical fields of MODEL.md
# section 5 (format, end_reason, alliance, okinawa, islands x2, clauses x2, then the round fields).
FIXED_CATEGORIES = 3 + 3 + 4 + 2 + 3 + 3 + 2 + 2


def categories_in_use(rounds):
    """rounds takes 1 ... R; threat_round, shigemitsu_round, two_island_round 0 ... R."""
    return FIXED_CATEGORIES + rounds + 3 * (rounds + 1)


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    """A grid over an integer key (negotiation.rounds 3, 6) and a boolean one, 500 runs a point."""
    d = tmp_path_factory.mktemp("typed")
    experiment = d / "typed.toml"
    experiment.write_text(f'''extends = "{ROOT / 'experiments/scenarios/baseline.toml'}"
[run]
runs = 500
seed = 3
[sweep]
design = "grid"
[sweep.keys]
"negotiation.rounds" = [3, 6]
"soviet.straits_clause" = [false, true]
''')
    out = d / "typed.h5"
    run_wedge("run", experiment, "--out", out, "--quiet")
    return out


def test_plain_xarray_opens_every_results_group_with_named_dimensions(files):
    path = files["grid"]
    with wedge.open(path) as r:
        design = r.design
        table = r.summary(["format"], all_categories=True)
        islands = r.summary(["islands_promised"], all_categories=True)
    ds = xr.open_dataset(path, engine="h5netcdf", group="summary/format")
    assert dict(ds.sizes) == {"point": 12, "category": 3}
    assert list(ds["category"].values) == ["none", "declaration", "treaty"]
    assert list(ds["point"].values) == list(range(12))
    # The swept keys are coordinates along point.
    for key in ("dulles.threat_strength", "dulles.reward_power"):
        assert key in ds.coords and ds[key].dims == ("point",)
        assert np.array_equal(ds[key].values, design[key].to_numpy())
    assert ds["counts"].dims == ("point", "category")
    assert np.array_equal(ds["counts"].values.reshape(-1), table["count"].to_numpy())
    treaty = ds["p"].sel(category="treaty").set_index(point=["dulles.threat_strength", "dulles.reward_power"])
    assert float(treaty.sel(point=(2.0, 1.5))) == float(table[(table["point"] == 11) & (table["category"] == "treaty")]["p"].iloc[0])
    ds.close()
    with xr.open_dataset(path, engine="h5netcdf", group="summary/islands_promised") as ds:
        assert ds["category"].dtype == np.int64 and list(ds["category"].values) == [0, 2, 4]
        assert np.array_equal(ds["counts"].sel(category=2).values,
                              islands[islands["category"] == 2]["count"].to_numpy())
    with xr.open_dataset(path, engine="h5netcdf", group="summary/alignment") as ds:
        assert dict(ds.sizes) == {"point": 12, "bin": 52}
        assert ds["histogram"].dims == ("point", "bin")
        assert float(ds["bin_low"][1]) == 0.0 and float(ds["bin_high"][50]) == 1.0
        assert np.isinf(ds["bin_low"][0]) and np.isinf(ds["bin_high"][51])
        assert int(ds["histogram"].sum()) == 12 * 3000
    with xr.open_dataset(path, engine="h5netcdf", group="summary") as ds:
        assert ds["runs"].dims == ("point",) and int(ds["runs"].sum()) == 12 * 3000
    with xr.open_dataset(path, engine="h5netcdf", group="design") as ds:
        assert ds["dulles.reward_power"].dims == ("point",)
    with xr.open_dataset(path, engine="h5netcdf", group="runs") as ds:
        assert dict(ds.sizes) == {"run": 12 * 3000}
        assert ds["format"].attrs["flag_meanings"] == "none declaration treaty"
        assert list(ds["format"].attrs["flag_values"]) == [0, 1, 2]
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds.attrs["format"] == "wedge-results"


def test_merged_shards_carry_the_same_dimensions(files, tmp_path):
    experiment = ROOT / "experiments/sweeps/threat_rewards_grid.toml"
    parts = [tmp_path / f"part{i}.h5" for i in range(2)]
    for i, part in enumerate(parts):
        run_wedge("run", experiment, "--runs", 3000, "--shard", f"{i}/2", "--out", part, "--quiet")
    merged = tmp_path / "merged.h5"
    run_wedge("merge", *parts, "--out", merged)
    with xr.open_dataset(merged, engine="h5netcdf", group="summary/format") as m, \
            xr.open_dataset(files["grid"], engine="h5netcdf", group="summary/format") as one:
        assert m.identical(one)
    with xr.open_dataset(merged, engine="h5netcdf", group="runs") as ds:
        assert dict(ds.sizes) == {"run": 12 * 3000}


def test_per_run_records_are_a_lazy_dataset_equal_to_runs(files, monkeypatch):
    with wedge.open(files["grid"]) as r:
        reads = []
        original = wedge.Results._read_column

        def counting(self, name, start, stop, step=1):
            values = original(self, name, start, stop, step)
            reads.append((name, len(np.atleast_1d(values))))
            return values

        monkeypatch.setattr(wedge.Results, "_read_column", counting)
        ds = r.to_xarray(runs=True)
        assert reads == [], "nothing is read before values are used"
        assert dict(ds.sizes) == {"run": 12 * 3000}
        some = ds.isel(run=slice(6000, 6100))
        assert some["format"].values.shape == (100,)
        assert reads == [("format", 100)]
        monkeypatch.undo()

        frame = r.runs()
        design = r.design
        loaded = ds.load()
    assert np.array_equal(loaded["point"].values, frame["point"].to_numpy())
    assert np.array_equal(loaded["replicate"].values, frame["replicate"].to_numpy())
    for field in ("format", "alliance", "islands_promised", "rounds"):
        assert list(loaded[field].values) == list(frame[field])
    assert loaded["islands_promised"].dtype == np.int64 and loaded["format"].dtype == object
    assert np.array_equal(loaded["alignment"].values, frame["alignment"].to_numpy())
    for key in design.columns:
        assert np.array_equal(loaded[key].values, design[key].to_numpy()[frame["point"].to_numpy()])
    # Points and keys are coordinates: group the records as the summary does.
    treaty = (loaded["format"] == "treaty").groupby("point").mean()
    with wedge.open(files["grid"]) as r:
        assert np.allclose(treaty.values, r.probability("format", "treaty").to_numpy())
        lazy = r.to_xarray(runs=True)
    with pytest.raises(wedge.ResultsError, match="closed"):
        lazy["format"].values


def test_one_rule_for_category_labels_joins_runs_summary_and_xarray(files):
    with wedge.open(files["grid"]) as r:
        runs = r.runs(columns=["islands_promised", "format"])
        table = r.summary(["islands_promised", "format"])
        ds = r.to_xarray()
        assert r.fields["islands_promised"] == [0, 2, 4] and r.fields["format"] == ["none", "declaration", "treaty"]
        assert r.category("islands_promised", "2") == 2 and r.category("islands_promised", 2) == 2
        with pytest.raises(KeyError):
            r.category("islands_promised", 3)
    for field in ("islands_promised", "format"):
        counted = runs.groupby(["point", field], observed=False).size().rename("n").reset_index()
        counted = counted.rename(columns={field: "category"})
        counted["category"] = counted["category"].astype(object)
        joined = table[table["field"] == field].merge(counted, on=["point", "category"], how="outer", indicator=True)
        assert (joined["_merge"] == "both").all(), f"{field}: labels of runs() and summary() differ"
        assert (joined["count"] == joined["n"]).all()
        # to_xarray(): the same labels as coordinates, the same counts.
        frame = ds[f"{field}_count"].to_dataframe().reset_index()
        frame = frame.rename(columns={f"{field}_category": "category"})
        joined = table[table["field"] == field].merge(frame, on=["point", "category"], how="outer", indicator=True)
        assert (joined["_merge"] == "both").all(), f"{field}: labels of to_xarray() and summary() differ"
        assert (joined["count"] == joined[f"{field}_count"]).all()
    assert ds["islands_promised_category"].dtype == np.int64


def test_integer_and_boolean_keys_keep_their_types(typed):
    with wedge.open(typed) as r:
        design = r.design
        assert design["negotiation.rounds"].dtype == np.int64
        assert design["soviet.straits_clause"].dtype == bool
        assert list(design["negotiation.rounds"]) == [3, 3, 6, 6]
        assert list(design["soviet.straits_clause"]) == [False, True, False, True]
        table = r.summary(["format"])
        assert table["negotiation.rounds"].dtype == np.int64 and table["soviet.straits_clause"].dtype == bool
        ds = r.to_xarray()
        assert ds["negotiation.rounds"].dtype == np.int64 and ds["soviet.straits_clause"].dtype == bool
        runs = r.to_xarray(runs=True)
        assert runs["negotiation.rounds"].dtype == np.int64 and runs["soviet.straits_clause"].dtype == bool
        assert set(runs["negotiation.rounds"].values) == {3, 6}


def test_plain_xarray_gives_integer_and_boolean_keys_as_integers(typed):
    # Plain xarray, no wedge code: the coordinates of an integer key are int64, those of a
    # boolean key int8 0/1 with CF flag_values/flag_meanings (issue 16.3); /design stays float64.
    for group in ("summary", "summary/format", "summary/alignment"):
        with xr.open_dataset(typed, engine="h5netcdf", group=group) as ds:
            rounds, straits = ds["negotiation.rounds"], ds["soviet.straits_clause"]
            assert rounds.dtype == np.int64 and list(rounds.values) == [3, 3, 6, 6], group
            assert straits.dtype == np.int8 and list(straits.values) == [0, 1, 0, 1], group
            assert rounds.dims == ("point",) and "negotiation.rounds" in ds.coords
    with xr.open_dataset(typed, engine="h5netcdf", group="summary/format") as ds:
        assert ds["soviet.straits_clause"].attrs["flag_meanings"] == "false true"
        # Selecting by the integer key works without a cast.
        assert ds["p"].where(ds["negotiation.rounds"] == 6, drop=True).sizes["point"] == 2


def test_summary_shows_the_categories_that_can_occur(files, typed):
    with wedge.open(files["grid"]) as r:
        table = r.summary()
        full = r.summary(all_categories=True)
    assert len(full) == 12 * categories_in_use(100) == 5100
    assert len(table) == 12 * categories_in_use(8) == 684  # negotiation.rounds = 8
    # Nothing that happened is left out: every field's counts still add up to the runs.
    sums = table.groupby(["point", "field"])["count"].sum()
    assert (sums == 3000).all() and len(sums) == 12 * 12
    both = full.merge(table[["point", "field", "category"]], how="left", indicator=True)
    assert (both["_merge"] == "both").sum() == len(table)
    assert (both[both["_merge"] == "left_only"]["count"] == 0).all()

    # Per point: with negotiation.rounds swept, each point has its own round categories.
    with wedge.open(typed) as r:
        table = r.summary()
        rounds = r.design["negotiation.rounds"]
        for point, rows in table.groupby("point"):
            R = rounds[point]
            assert sorted(rows[rows["field"] == "rounds"]["category"]) == list(range(1, R + 1))
            assert sorted(rows[rows["field"] == "threat_round"]["category"]) == list(range(0, R + 1))
            assert rows.groupby("field")["count"].sum().eq(500).all()
        assert len(table) == 2 * categories_in_use(3) + 2 * categories_in_use(6)
        ds = r.to_xarray()
        assert list(ds["rounds_category"].values) == list(range(1, 7))
        assert int(ds["rounds_count"].sel(point=0, rounds_category=[4, 5, 6]).sum()) == 0
        assert int(r.to_xarray(all_categories=True).sizes["rounds_category"]) == 100


def test_plots_of_numeric_fields_find_their_categories(files):
    import matplotlib

    matplotlib.use("Agg")
    from wedge import plots

    with wedge.open(files["grid"]) as r:
        for labels in (None, ["2"], [2]):  # the field's labels, or a label given as text or number
            fig = plots.probability_vs_key(r, "dulles.threat_strength", "islands_promised", categories=labels)
            lines = fig.axes[0].lines
            assert lines and all(len(line.get_xdata()) == 3 for line in lines)
        fig = plots.heatmap(r, "dulles.threat_strength", "dulles.reward_power", field="islands_promised", category="2")
        assert fig.axes[0].images[0].get_array().shape == (4, 3)
