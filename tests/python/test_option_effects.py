"""Options that must reach the computation, each tested so the test fails when the option is
ignored (issue 19, a fresh-clone tester's findings): `wedge run --compression` (the datasets'
filters, for every --store kind that writes columns, and after `wedge merge`), `Results.stats()`
against NumPy on the per-run records, `wedge calibrate --defensive` / `wedge.calibrate(defensive=)`,
and `wedge check --seed`.
"""
import json

import h5py
import numpy as np
import pytest

import wedge
from conftest import ROOT, cli_options, wedge as run_wedge

EXAMPLE = ROOT / "experiments" / "calibrate" / "history_1956.toml"


# --compression ------------------------------------------------------------------------------------

def _columns(f):
    """Every per-run dataset the file stores: /runs/* and /rounds/** (dimension scales included)."""
    out = []
    for group in ("runs", "rounds"):
        if group in f:
            f[group].visititems(lambda name, obj, g=group: out.append((f"{g}/{name}", obj))
                                if isinstance(obj, h5py.Dataset) else None)
    return out


def _assert_filters(path, compressed):
    with h5py.File(path) as f:
        assert f.attrs["compression"] in (b"shuffle+deflate", "shuffle+deflate", b"none", "none")
        attr = f.attrs["compression"]
        attr = attr.decode() if isinstance(attr, bytes) else attr
        assert attr == ("shuffle+deflate" if compressed else "none")
        cols = _columns(f)
        assert cols, f"{path}: no per-run datasets"
        for name, ds in cols:
            if compressed:
                assert ds.compression == "gzip" and ds.shuffle, f"{path}:{name} is not compressed"
            else:
                assert ds.compression is None and not ds.shuffle, f"{path}:{name} is compressed"
            assert ds.fletcher32, f"{path}:{name} has no checksum"
        return {name for name, _ in cols}


@pytest.mark.parametrize("store", ["runs", "rounds"])
@pytest.mark.parametrize("compression", ["none", "deflate"])
def test_compression_sets_the_filters_of_every_column(tmp_path, store, compression):
    out = tmp_path / "r.h5"
    run_wedge("run", "--runs", 3000, "--store", store, "--compression", compression, "--out", out, "--quiet")
    names = _assert_filters(out, compression == "deflate")
    if store == "rounds":
        assert any(n.startswith("rounds/") for n in names)
    # The default is none.
    if compression == "none":
        default = tmp_path / "default.h5"
        run_wedge("run", "--runs", 3000, "--store", store, "--out", default, "--quiet")
        _assert_filters(default, False)


@pytest.mark.parametrize("compression", ["none", "deflate"])
def test_merge_keeps_the_compression_of_its_shards(tmp_path, compression):
    parts = []
    for i in range(2):
        part = tmp_path / f"part{i}.h5"
        run_wedge("run", "--runs", 5000, "--store", "rounds", "--compression", compression,
                  "--shard", f"{i}/2", "--out", part, "--quiet")
        parts.append(part)
    merged = tmp_path / "merged.h5"
    run_wedge("merge", *parts, "--out", merged)
    _assert_filters(merged, compression == "deflate")


# Results.stats() ----------------------------------------------------------------------------------

def test_stats_equal_numpy_on_the_per_run_records(files):
    with wedge.open(files["grid"]) as r:
        stats = r.stats()
        records = r.runs()
    fields = sorted(set(stats["field"]))
    assert fields, "stats() returned no continuous field"
    assert set(stats.columns) >= {"point", "field", "n", "mean", "variance", "sd", "min", "max"}
    for field in fields:
        assert field in records.columns, f"stats() field {field} has no per-run column"
        # The summaries accumulate the doubles; the records may be stored as float32, which rounds
        # each value by at most eps/2 relative: 100 eps bounds the mean's and the variance's
        # difference (the variance is far from 0 here), and is still 30x smaller than the n/(n-1)
        # factor (3.3e-4 for 3,000 runs) that a variance divided by n would miss by.
        eps = float(np.finfo(records[field].dtype).eps)
        tol = 100 * eps
        assert tol < 0.1 / 3000
        for point, rows in records.groupby("point"):
            x = rows[field].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            s = stats[(stats["field"] == field) & (stats["point"] == point)].iloc[0]
            assert s["n"] == len(x) == 3000
            assert x.var(ddof=1) > 1e-3 * x.mean() ** 2  # a variance the tolerance can resolve
            assert s["mean"] == pytest.approx(x.mean(), rel=tol)
            assert s["variance"] == pytest.approx(x.var(ddof=1), rel=tol)
            assert s["sd"] == pytest.approx(x.std(ddof=1), rel=tol)
            assert s["min"] == pytest.approx(x.min(), rel=eps) and s["max"] == pytest.approx(x.max(), rel=eps)


# calibrate --defensive ----------------------------------------------------------------------------

SMALL = dict(points=16, runs=300, refine=1, refine_points=16, draws=20, top=3)


def _weights_are_the_normalised_likelihoods(cal):
    """With defensive = 1 every proposal is the prior, so the deterministic-mixture weights
    L_i / sum_s (N_s/N) q_s(θ_i)/p(θ_i) reduce to L_i / sum_j L_j (docs/calibration.md)."""
    pts = cal.points
    lik = pts["likelihood"].to_numpy(dtype=float)
    w = pts["weight"].to_numpy(dtype=float)
    return np.allclose(w, lik / lik.sum(), rtol=1e-9, atol=1e-15)


def test_defensive_reaches_the_refinement_python_and_command_line():
    full = wedge.calibrate(EXAMPLE, threads=2, defensive=1.0, **SMALL)
    default = wedge.calibrate(EXAMPLE, threads=2, **SMALL)
    assert (full.points["stage"] == 1).sum() == SMALL["refine_points"]
    assert np.allclose(full.points["proposal"].to_numpy(dtype=float), 1.0)
    assert _weights_are_the_normalised_likelihoods(full)
    assert not np.allclose(default.points["proposal"].to_numpy(dtype=float), 1.0)
    assert not _weights_are_the_normalised_likelihoods(default)
    # The refinement's points are drawn from another proposal.
    a = full.points[full.points["stage"] == 1].drop(columns=["weight"], errors="ignore")
    b = default.points[default.points["stage"] == 1].drop(columns=["weight"], errors="ignore")
    assert not a.equals(b)
    # The command line gives the same document for the same option.
    out = run_wedge("calibrate", EXAMPLE, *cli_options(SMALL), "--defensive", 1.0, "--threads", 1, "--json")
    doc = json.loads(out.stdout)
    for d in (doc, full.document):
        d.pop("seconds", None), d.pop("experiment", None)
    assert doc == full.document


@pytest.mark.parametrize("setting", ["defensive", "refine_points"])
def test_refinement_settings_without_a_refinement_stage_are_refused(setting):
    """defensive and refine_points act on the refinement stages only: with refine = 0 they would do
    nothing, so they are refused (as the command line's --defensive, --refine-points are)."""
    value = {"defensive": 0.5, "refine_points": 8}[setting]
    with pytest.raises(wedge._core.ConfigError, match=rf"^{setting} applies to the refinement stages, "
                                                      r"and there are none \(refine is 0\): set refine=N"):
        wedge.calibrate(EXAMPLE, points=8, runs=10, refine=0, **{setting: value})


# check --seed -------------------------------------------------------------------------------------

def _check(*args):
    return json.loads(run_wedge("check", "--runs", 4000, "--json", *args).stdout)


def _estimates(doc):
    return [c["estimate"] for t in doc["targets"] for c in t["conditions"]]


def test_check_seed_selects_the_streams(tmp_path):
    five = _check("--seed", 5)
    assert five["seed"] == 5
    assert _check("--seed", 5) == five                      # same seed, same output
    six = _check("--seed", 6)
    assert six["seed"] == 6
    assert _estimates(six) != _estimates(five)              # another seed, other estimates
    # Without --seed, the file's seed (the baseline's is 1); a file with seed = 5 equals --seed 5.
    assert _check() == _check("--seed", 1)
    seeded = tmp_path / "seed5.toml"
    seeded.write_text(f'extends = "{ROOT / "experiments" / "scenarios" / "baseline.toml"}"\n[run]\nseed = 5\n')
    assert _check(seeded) == five
    assert _check(seeded, "--seed", 6) == six


def test_defensive_in_the_file_equals_the_option(tmp_path):
    text = EXAMPLE.read_text().replace('"../scenarios/baseline.toml"',
                                       f'"{ROOT / "experiments" / "scenarios" / "baseline.toml"}"')
    assert "refine_points = 512\n" in text
    path = tmp_path / "defensive.toml"
    path.write_text(text.replace("refine_points = 512\n", "refine_points = 512\ndefensive = 1.0\n"))
    by_file = wedge.calibrate(path, threads=2, **SMALL)
    by_option = wedge.calibrate(EXAMPLE, threads=2, defensive=1.0, **SMALL)
    assert np.allclose(by_file.points["proposal"].to_numpy(dtype=float), 1.0)
    for d in (by_file.document, by_option.document):
        d.pop("seconds", None), d.pop("experiment", None)
    assert by_file.document == by_option.document


# every other calibrate option reaches the computation -------------------------------------------

def test_calibrate_options_reach_the_design():
    """Each option overrides the file's [calibrate] table (512 points, 4000 runs, refine 1 with 512
    points, sobol) and shows in what is computed, not only in the echoed settings."""
    opts = dict(design="lhs", points=12, runs=150, refine=2, refine_points=6, draws=25, top=4)
    cal = wedge.calibrate(EXAMPLE, threads=2, **opts)
    d, pts = cal.document, cal.points
    assert (d["design"], d["points"], d["runs"], d["refine"], d["refine_points"], d["draws"]) == \
        ("lhs", 12, 150, 2, 6, 25)
    assert list(pts.groupby("stage").size()) == [12, 6, 6]      # points, then refine x refine_points
    assert (pts["runs"] == 150).all() and d["runs_total"] == 150 * 24
    assert len(d["best"]) == 4 and len(cal.best()) == 4
    # lhs and sobol place the first stage's points differently (same seed).
    first_stage = {k: v for k, v in opts.items() if k != "refine_points"}  # refused with refine = 0
    sobol = wedge.calibrate(EXAMPLE, threads=2, **dict(first_stage, design="sobol", refine=0))
    assert not np.allclose(sobol.points[cal.keys].to_numpy()[:12], pts[cal.keys].to_numpy()[:12])
    # The command line's options are the same options.
    out = run_wedge("calibrate", EXAMPLE, *cli_options(opts), "--threads", 1, "--json")
    doc = json.loads(out.stdout)
    for x in (doc, d):
        x.pop("seconds", None), x.pop("experiment", None)
    assert doc == d


def test_calibrate_seed_and_set_reach_the_runs():
    small = dict(points=8, runs=200, refine=0, draws=20)
    base = wedge.calibrate(EXAMPLE, threads=2, **small)
    assert base.document["seed"] == 1956                       # the file's seed
    other = wedge.calibrate(EXAMPLE, threads=2, seed=7, **small)
    assert other.document["seed"] == 7
    assert list(other.points["matches"]) != list(base.points["matches"])
    again = json.loads(run_wedge("calibrate", EXAMPLE, *cli_options(small), "--seed", 7, "--json").stdout)
    assert [p["matches"] for p in again["design_points"]] == [p["matches"] for p in other.document["design_points"]]
    # --set of a key that is not swept (tact scales the backlash of coercion) changes the runs.
    tactless = json.loads(run_wedge("calibrate", EXAMPLE, *cli_options(small), "--set", "dulles.tact=0",
                                    "--json").stdout)
    assert [p["matches"] for p in tactless["design_points"]] != \
        [p["matches"] for p in base.document["design_points"]]


def test_calibrate_crn_shares_the_streams_across_points():
    """--crn: replicate r draws the same stream at every design point, so point 0 (whose streams
    are the same either way) keeps its count and the other points' counts change."""
    args = (EXAMPLE, "--points", 6, "--runs", 300, "--refine", 0, "--draws", 20, "--json")
    plain = json.loads(run_wedge("calibrate", *args).stdout)["design_points"]
    crn = json.loads(run_wedge("calibrate", *args, "--crn").stdout)["design_points"]
    assert crn == json.loads(run_wedge("calibrate", *args, "--crn").stdout)["design_points"]
    assert crn[0]["matches"] == plain[0]["matches"]
    assert [p["matches"] for p in crn[1:]] != [p["matches"] for p in plain[1:]]


# params --set, validate's options -------------------------------------------------------------------

def _values(*args):
    return {p["key"]: p["value"] for p in json.loads(run_wedge("params", *args, "--json").stdout)}


def test_params_shows_the_values_set():
    default = _values()
    assert default["dulles.tact"] == 0.3
    assert _values("--set", "dulles.tact=0.9")["dulles.tact"] == 0.9
    baseline = ROOT / "experiments" / "scenarios" / "baseline.toml"
    assert _values(baseline, "--set", "dulles.tact=0.8", "--set", "negotiation.rounds=5") == \
        dict(default, **{"dulles.tact": 0.8, "negotiation.rounds": 5})


def test_validate_reports_runs_seed_and_set():
    baseline = ROOT / "experiments" / "scenarios" / "baseline.toml"
    out = run_wedge("validate", baseline, "--runs", 123, "--seed", 9).stdout
    assert "1 point; 123 replicates per point, seed 9\ntotal runs: 123\n" in out
    sweep = ROOT / "experiments" / "sweeps" / "threat_rewards_grid.toml"
    assert "total runs: 1200\n" in run_wedge("validate", sweep, "--runs", 100).stdout
    # --set is applied before validation: an out-of-range value is refused with exit 2.
    bad = run_wedge("validate", baseline, "--set", "dulles.tact=2", check=False)
    assert bad.returncode == 2 and "dulles.tact" in bad.stderr


# compare --set-a / --set-b, merge --force (a second fresh-clone tester's finds) --------------------

BASELINE = ROOT / "experiments" / "scenarios" / "baseline.toml"


def _compare(*args):
    return json.loads(run_wedge("compare", BASELINE, BASELINE, "--runs", 2000, "--seed", 4, "--json",
                                "--quiet", *args).stdout)


def _treaty(arm):
    return arm["results"]["points"][0]["counts"]["format"]["treaty"]


def test_compare_set_a_and_set_b_reach_their_arm():
    """--set-a changes scenario A only, --set-b scenario B only; with one and the same file, setting
    A's key equals setting B's with the arms swapped (paired streams: the same seed per pair)."""
    plain = _compare()
    set_a = _compare("--set-a", "dulles.threat_strength=0")
    set_b = _compare("--set-b", "dulles.threat_strength=0")
    assert _treaty(plain["a"]) == _treaty(plain["b"])       # the same file twice: identical arms
    assert _treaty(set_a["b"]) == _treaty(plain["b"])       # B untouched by --set-a
    assert _treaty(set_a["a"]) != _treaty(plain["a"])       # A changed by it
    assert _treaty(set_a["a"]) == _treaty(set_b["b"])       # the same scenario, the same streams
    assert _treaty(set_b["a"]) == _treaty(plain["a"])


def test_merge_force_replaces_an_existing_file(tmp_path):
    parts = []
    for i in range(2):
        part = tmp_path / f"s{i}.h5"
        run_wedge("run", "--runs", 1000, "--shard", f"{i}/2", "--out", part, "--quiet")
        parts.append(part)
    merged = tmp_path / "m.h5"
    run_wedge("merge", *parts, "--out", merged)
    with h5py.File(merged, "r") as f:
        first = f["summary"]["format"]["counts"][()].tolist()
    refused = run_wedge("merge", *parts, "--out", merged, check=False)
    assert refused.returncode == 3 and "use --force" in refused.stderr
    replaced = run_wedge("merge", *parts, "--out", merged, "--force", check=False)
    assert replaced.returncode == 0, replaced.stderr
    with h5py.File(merged, "r") as f:
        assert f["summary"]["format"]["counts"][()].tolist() == first
