import shutil

import h5py
import numpy as np
import pandas as pd
import pytest

import wedge
from conftest import cli_json, wedge as wedge_cli


def test_metadata_and_experiment(files):
    with wedge.open(files["baseline"]) as r:
        assert r.complete
        assert r.attrs["format"] == "wedge-results"
        assert r.attrs["format_version"] == wedge.FORMAT_VERSION
        assert r.attrs["model"] == "tug_of_war"
        assert r.attrs["seed"] == 7
        assert r.attrs["runs_done"] == 20000
        assert r.experiment["run"]["seed"] == 7
        assert r.experiment["dulles"]["tact"] == 0.3
        assert r.design.empty and r.swept_keys == []
        assert set(r.fields["format"]) == {"none", "declaration", "treaty"}


def test_provenance_properties_are_the_root_attributes(files, tmp_path):
    # The build's results arithmetic version, as `wedge --version` prints it.
    version = wedge_cli("--version").stdout
    ours = int(version.split("results arithmetic version ")[1].split(";")[0])
    with wedge.open(files["baseline"]) as r:
        assert r.arithmetic_version == ours
        assert r.format_version == wedge.FORMAT_VERSION
        assert r.seed == 7
        assert r.model_version == r.attrs["model_version"] == "1"
        assert r.git_commit == r.attrs["git_commit"] and r.git_commit in version
        assert r.engine_version == r.attrs["engine_version"] and r.engine_version in version
    # A file written before wedge recorded it: None (still readable); another build's: its value.
    old = tmp_path / "old.h5"
    shutil.copy(files["baseline"], old)
    with h5py.File(old, "r+") as f:
        del f.attrs["arithmetic_version"]
    with wedge.open(old) as r:
        assert r.arithmetic_version is None
    with h5py.File(old, "r+") as f:
        f.attrs.create("arithmetic_version", ours + 5, dtype=np.uint64)
    with wedge.open(old) as r:
        assert r.arithmetic_version == ours + 5
    # Checked as every root attribute is: a string there is damage, named.
    with h5py.File(old, "r+") as f:
        del f.attrs["arithmetic_version"]
        f.attrs["arithmetic_version"] = "1"
    with pytest.raises(wedge.ResultsDamagedError, match="arithmetic_version"):
        wedge.open(old)


def test_tidy_summary_equals_the_counts_of_the_command_line(files):
    expected = cli_json("--runs", 20000, "--seed", 7)["points"][0]["counts"]
    with wedge.open(files["baseline"]) as r:
        table = r.summary()
        assert list(table.columns) == ["point", "field", "category", "count", "p", "ci_low", "ci_high"]
        # Exactly the command line's categories (the round fields stop at negotiation.rounds = 8),
        # with its counts; numeric categories are integers.
        assert set(zip(table["field"], table["category"])) == {
            (field, r.category(field, c)) for field, counts in expected.items() for c in counts}
        for field, counts in expected.items():
            rows = table[table["field"] == field].set_index("category")
            for category, n in counts.items():
                assert rows.loc[r.category(field, category), "count"] == n
        assert set(table[table["field"] == "rounds"]["category"]) == set(range(1, 9))
        assert set(table[table["field"] == "islands_promised"]["category"]) == {0, 2, 4}
        assert np.allclose(table["p"], table["count"] / 20000)
        # Intervals equal the engine's own (stored in /summary) to rounding.
        with h5py.File(files["baseline"]) as f:
            rows = table[table["field"] == "format"]
            assert np.allclose(rows["ci_low"], f["summary/format/ci_low"][0], rtol=1e-12, atol=0)
            assert np.allclose(rows["ci_high"], f["summary/format/ci_high"][0], rtol=1e-12, atol=0)
        assert (table["ci_low"] <= table["p"]).all() and (table["p"] <= table["ci_high"]).all()


def test_sweep_summary_has_the_swept_keys_by_full_name(files):
    with wedge.open(files["grid"]) as r:
        assert r.swept_keys == ["dulles.threat_strength", "dulles.reward_power"]
        design = r.design
        assert len(design) == 12
        assert design.loc[11, "dulles.threat_strength"] == 2.0
        table = r.summary(["format"])
        assert {"dulles.threat_strength", "dulles.reward_power"} <= set(table.columns)
        assert len(table) == 12 * 3
        p = r.probability("format", "treaty")
        assert len(p) == 12
        with pytest.raises(KeyError):
            r.summary(["nope"])


def test_every_dataset_of_runs_reads_and_matches_the_summary(files):
    with wedge.open(files["grid"]) as r:
        runs = r.runs()
        assert len(runs) == 12 * 3000 == r.runs_stored
        assert list(runs.columns[:2]) == ["point", "replicate"]
        with h5py.File(files["grid"]) as f:
            assert set(runs.columns) == set(f["runs"].keys())
        assert isinstance(runs["format"].dtype, pd.CategoricalDtype)
        assert list(runs["islands_promised"].cat.categories) == [0, 2, 4]
        counts = runs.groupby(["point", "format"], observed=False).size()
        table = r.summary(["format"]).set_index(["point", "category"])["count"]
        for (point, category), n in counts.items():
            assert table.loc[(point, category)] == n
        # Lazy reading in chunks gives the same rows; columns and points can be chosen.
        chunks = list(r.iter_runs(chunk_size=5000))
        assert len(chunks) == 8
        assert pd.concat(chunks, ignore_index=True).equals(runs)
        some = r.runs(columns=["alliance"], points=[3, 5])
        assert list(some.columns) == ["point", "replicate", "alliance"]
        assert set(some["point"]) == {3, 5} and len(some) == 6000


def test_stats_and_xarray(files):
    with wedge.open(files["grid"]) as r:
        stats = r.stats()
        with h5py.File(files["grid"]) as f:
            assert np.array_equal(stats[stats["field"] == "alignment"]["mean"].to_numpy(),
                                  f["summary/alignment/mean"][:])
        ds = r.to_xarray()
        assert ds.sizes["point"] == 12
        assert ds["format_count"].dims == ("point", "format_category")
        assert list(ds["format_category"].values) == ["none", "declaration", "treaty"]
        assert float(ds["dulles.reward_power"].sel(point=11)) == 1.5
        assert int(ds["format_count"].sum()) == 12 * 3000


def test_partial_foreign_newer_and_bad_files_raise(files):
    with pytest.raises(wedge.ResultsPartialError, match="interrupted after 20000 of 20000 runs: resume with"):
        wedge.open(files["partial"])
    with wedge.open(files["partial"], allow_partial=True) as r:
        assert not r.complete
        assert r.summary(["format"])["count"].sum() == 20000
    with pytest.raises(wedge.ResultsError, match="not a wedge results file"):
        wedge.open(files["foreign"])
    with pytest.raises(wedge.ResultsError, match="format_version 99 is newer"):
        wedge.open(files["newer"])
    with pytest.raises(wedge.ResultsError, match="not an HDF5 file"):
        wedge.open(files["text"])
    with pytest.raises(FileNotFoundError):
        wedge.open(files["text"].parent / "missing.h5")
    with wedge.open(files["summary_only"]) as r:
        assert r.summary(["format"])["count"].sum() == 5000
        with pytest.raises(wedge.ResultsError, match="no per-run records"):
            r.runs()


def test_the_context_manager_closes_the_file(files):
    with wedge.open(files["baseline"]) as r:
        handle = r._file
        assert handle.id.valid
    assert not handle.id.valid


def test_label_is_the_description_else_the_file_name(files, tmp_path):
    with wedge.open(files["grid"]) as r:
        assert r.label == r.description == "Grid: threat strength x reward power"
    experiment = tmp_path / "plain.toml"
    experiment.write_text("[run]\nruns = 500\n")  # no description, no extends
    out = tmp_path / "no_threat.h5"
    wedge_cli("run", experiment, "--out", out, "--quiet")
    with wedge.open(out) as r:
        assert r.description == "" and r.label == "no_threat"
    partial = tmp_path / "no_threat_cut.h5.partial"
    shutil.copy(out, partial)
    with h5py.File(partial, "r+") as f:
        f.attrs.modify("complete", 0)
    with wedge.open(partial, allow_partial=True) as r:
        assert r.label == "no_threat_cut"
