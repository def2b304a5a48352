"""Every `wedge run` flag does what README.md says, tested so that the test fails when the flag is
ignored or wrong (issue 19, item 4): --crn, --precision-outcomes, the --store default, progress,
seeds, --threads, --runs, --max-runs, --precision's first batch, the --json document, and per-run
thread invariance of the real model. The ranges of the parameters are in test_cli_bounds.py.
docs/testing.md maps each README promise to its test.
"""
import json
import math
import re
import time

import h5py
import numpy as np
import pytest

import wedge as wedge_py
from conftest import ROOT, SWEEPS, cli_json, wedge

BASELINE = ROOT / "experiments" / "scenarios" / "baseline.toml"
BLOCK = 2048  # replicates per block of the plan (engine::DEFAULT_BLOCK_SIZE; the file's block_size)


def write(path, text):
    path.write_text(text)
    return path


def twin_points(tmp_path, crn_line=""):
    """An experiment with two design points of equal parameters (a list design)."""
    return write(tmp_path / f"twins{'_crn' if crn_line else ''}.toml", f'extends = "{BASELINE}"\n[run]\nseed = 5\n{crn_line}\n'
                                          '[sweep]\ndesign = "list"\n[sweep.keys]\n"dulles.tact" = [0.3, 0.3]\n')


def outcome(point):
    return {"counts": point["counts"], "stats": point["stats"]}


# --crn -------------------------------------------------------------------------------------------

def test_crn_gives_equal_points_identical_results(tmp_path):
    twins = twin_points(tmp_path)
    a, b = cli_json(twins, "--runs", 20000, "--crn")["points"]
    assert outcome(a) == outcome(b)
    # Without common random numbers the two points are independent samples.
    a, b = cli_json(twins, "--runs", 20000)["points"]
    assert outcome(a) != outcome(b)
    # The file's `crn = true` does the same; so does wedge.simulate(crn=True).
    a, b = cli_json(twin_points(tmp_path, "crn = true"), "--runs", 20000)["points"]
    assert outcome(a) == outcome(b)
    a, b = wedge_py.simulate(twins, runs=20000, crn=True)["points"]
    assert outcome(a) == outcome(b)
    a, b = wedge_py.simulate(twins, runs=20000)["points"]
    assert outcome(a) != outcome(b)


def test_crn_pairs_every_run_and_the_trace(tmp_path):
    twins = twin_points(tmp_path)
    out = tmp_path / "crn.h5"
    wedge("run", twins, "--runs", 3000, "--crn", "--out", out, "--quiet")
    with h5py.File(out) as f:
        assert f.attrs["crn"] == 1
        runs = {k: f["runs"][k][()] for k in f["runs"]}
    first, second = runs["point"] == 0, runs["point"] == 1
    assert first.sum() == second.sum() == 3000
    order0, order1 = np.argsort(runs["replicate"][first]), np.argsort(runs["replicate"][second])
    for name, column in runs.items():
        if name not in ("point",):
            assert np.array_equal(column[first][order0], column[second][order1]), name
    # The trace of a run uses the same stream as the run: replicate r of point 1 under CRN is
    # replicate r of point 0.
    t0 = json.loads(wedge("trace", twins, "--crn", "--point", 0, "--replicate", 17, "--json").stdout)
    t1 = json.loads(wedge("trace", twins, "--crn", "--point", 1, "--replicate", 17, "--json").stdout)
    assert t0["record"] == t1["record"]
    t1 = json.loads(wedge("trace", twins, "--point", 1, "--replicate", 17, "--json").stdout)
    assert t0["rounds"] != t1["rounds"]


# --precision, --precision-outcomes, --max-runs ------------------------------------------------------

def half_width(point, field):
    n = point["runs"]
    k = np.array(list(point["counts"][field].values()))
    low, high = wedge_py.wilson(k, n)
    return float(np.max((high - low) / 2))


def test_precision_outcomes_choose_where_the_target_applies():
    e = 0.004
    runs = {}
    for outcomes in (None, "format,alliance", "format", "okinawa", "alliance,okinawa"):
        args = ["--precision", e] + (["--precision-outcomes", outcomes] if outcomes else [])
        (point,) = cli_json(*args)["points"]
        runs[outcomes] = point["runs"]
        for field in (outcomes or "format,alliance").split(","):
            assert half_width(point, field) <= e, (outcomes, field)
        if outcomes == "okinawa":
            # Stopped as soon as okinawa (p ~ 0.02) was precise enough, format still is not.
            assert half_width(point, "format") > e
    assert runs[None] == runs["format,alliance"] == runs["format"]
    assert runs["okinawa"] < runs["alliance,okinawa"] < runs["format"]
    r = wedge("run", "--precision", e, "--precision-outcomes", "alignment", check=False)
    assert r.returncode == 2 and "unknown outcome 'alignment'" in r.stderr


def test_precision_first_batch_and_max_runs():
    # The first batch is --runs if given, else 10,000 (whole blocks); a loose target stops there.
    assert cli_json("--precision", 0.5)["points"][0]["runs"] == math.ceil(10000 / BLOCK) * BLOCK
    assert cli_json("--precision", 0.5, "--runs", 3000)["points"][0]["runs"] == math.ceil(3000 / BLOCK) * BLOCK
    # --max-runs caps a target that cannot be met, and says so, also under --quiet (a missed
    # target is never silent: one line on stderr, and "precision" in the JSON).
    r = wedge("run", "--precision", 0.001, "--max-runs", 20000, "--json")
    assert json.loads(r.stdout)["points"][0]["runs"] == 20000
    assert "warning: precision 0.001 not reached at every point within --max-runs 20000" in r.stderr
    r = wedge("run", "--precision", 0.001, "--max-runs", 20000, "--json", "--quiet")
    assert r.stderr.count("\n") == 1 and "not reached" in r.stderr
    assert json.loads(r.stdout)["precision"]["reached"] is False
    # --max-runs applies to every point of a sweep.
    points = cli_json(SWEEPS / "threat_rewards_grid.toml", "--precision", 0.001, "--max-runs", 5000)["points"]
    assert [p["runs"] for p in points] == [5000] * 12


@pytest.mark.parametrize("flag,value,ok", [
    ("--precision", "1e-6", True), ("--precision", "9.99e-7", False), ("--precision", "0.5", True),
    ("--precision", "0.5000001", False), ("--max-runs", "1", True), ("--max-runs", "0", False),
    ("--max-runs", "4294967296", True), ("--max-runs", "4294967297", False),
])
def test_precision_and_max_runs_bounds(flag, value, ok):
    extra = ["--max-runs", "3000"] if flag == "--precision" else ["--precision", "0.5"]
    r = wedge("run", flag, value, *extra, "--json", "--quiet", check=False)
    if ok:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("error: ") and flag in r.stderr, r.stderr


# --runs, --threads --------------------------------------------------------------------------------

def test_runs_bounds():
    assert cli_json("--runs", 1)["points"][0]["runs"] == 1
    # 2^32 replicates per point is the most (the stream's replicate counter): accepted by
    # validate (without running them), one more refused before anything runs.
    assert wedge("validate", BASELINE, "--runs", 2**32).returncode == 0
    for args in (("run", "--runs", 2**32 + 1), ("validate", BASELINE, "--runs", 2**32 + 1), ("run", "--runs", 0)):
        r = wedge(*args, check=False)
        assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("error: ") and "--runs" in r.stderr, r.stderr


def test_threads_bounds_and_use(tmp_path):
    for t in (1, 3):
        out = tmp_path / f"t{t}.h5"
        wedge("run", "--runs", 3000, "--threads", t, "--out", out, "--quiet")
        with h5py.File(out) as f:
            assert f.attrs["threads"] == t
    assert wedge("run", "--runs", 1000, "--threads", 1024, "--quiet").returncode == 0
    for bad in (0, 1025, -1):
        r = wedge("run", "--runs", 1000, "--threads", bad, check=False)
        assert r.returncode == 2 and r.stdout == "" and "--threads" in r.stderr, r.stderr


def test_per_run_records_are_identical_on_1_and_2_threads(tmp_path):
    """The real model's per-run records (not only its summaries) are bit-identical across thread
    counts, for a single scenario and for a sweep."""
    for name, args in (("baseline", ["--runs", 100_000]), ("lhs", [SWEEPS / "coercion_lhs.toml", "--runs", 3000])):
        files = []
        for threads in (1, 2):
            out = tmp_path / f"{name}-{threads}.h5"
            wedge("run", *args, "--threads", threads, "--out", out, "--quiet")
            files.append(out)
        with h5py.File(files[0]) as a, h5py.File(files[1]) as b:
            assert a.attrs["threads"] == 1 and b.attrs["threads"] == 2
            assert sorted(a["runs"]) == sorted(b["runs"]) and len(a["runs"]) == 16
            for column in a["runs"]:
                x, y = a["runs"][column][()], b["runs"][column][()]
                assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), f"{name}: /runs/{column} differs"
            assert len(a["runs/format"]) == a.attrs["runs_done"]

            def visit(group_a, group_b, path):
                for k in group_a:
                    if isinstance(group_a[k], h5py.Group):
                        visit(group_a[k], group_b[k], f"{path}/{k}")
                    else:
                        x, y = group_a[k][()], group_b[k][()]
                        assert x.dtype == y.dtype and x.shape == y.shape, f"{path}/{k}"
                        if x.dtype.kind == "O":  # labels (variable-length strings): compare the values
                            assert x.tolist() == y.tolist(), f"{path}/{k}"
                        else:  # numbers: bit for bit
                            assert x.tobytes() == y.tobytes(), f"{path}/{k}"
            visit(a["summary"], b["summary"], "/summary")


# --store ----------------------------------------------------------------------------------------

def stored(tmp_path, *args):
    out = tmp_path / "store.h5"
    wedge("run", *args, "--out", out, "--force", "--quiet")
    with h5py.File(out) as f:
        store = f.attrs["store"].decode() if isinstance(f.attrs["store"], bytes) else str(f.attrs["store"])
        records = len(f["runs/format"]) if "runs" in f else None
        return store, records, int(f.attrs["runs_done"])


def test_store_default_is_records_up_to_ten_million_runs(tmp_path):
    """README: --store runs (per-run records) by default up to 10^7 runs, summaries only beyond.
    In precision mode the worst case (--max-runs x points) decides, before anything runs."""
    store, records, done = stored(tmp_path, "--runs", 5000)
    assert (store, records) == ("runs", done) and done == 5000
    # Precision mode, one point: the default cap 10^7 is at the limit (records), one more is beyond.
    store, records, done = stored(tmp_path, "--precision", 0.05)
    assert (store, records) == ("runs", done)
    store, records, done = stored(tmp_path, "--precision", 0.05, "--max-runs", 10_000_000)
    assert (store, records) == ("runs", done)
    store, records, done = stored(tmp_path, "--precision", 0.05, "--max-runs", 10_000_001)
    assert (store, records) == ("summary", None) and done > 0
    # Many points: 12 x 833,334 > 10^7 in the worst case.
    store, records, _ = stored(tmp_path, SWEEPS / "threat_rewards_grid.toml", "--precision", 0.05, "--max-runs", 833_334)
    assert (store, records) == ("summary", None)
    store, records, done = stored(tmp_path, SWEEPS / "threat_rewards_grid.toml", "--precision", 0.05, "--max-runs", 833_333)
    assert (store, records) == ("runs", done)
    # The explicit choice wins either way.
    assert stored(tmp_path, "--precision", 0.05, "--max-runs", 10_000_001, "--store", "runs")[0] == "runs"
    assert stored(tmp_path, "--runs", 5000, "--store", "summary")[:2] == ("summary", None)


# progress ---------------------------------------------------------------------------------------

# The ETA is "?" until it has a sound basis (engine::Progress::eta_seconds, tested in test_runner.cpp).
PROGRESS = re.compile(r"^\d+/\d+ runs \(\d+\.\d%\), [0-9.e+]+ runs/s, ETA (\d+s|\?)$", re.M)
TIMING = re.compile(r"^(\d+) runs in ([0-9.]+) s \([0-9.e+]+ runs/s\)$", re.M)


def long_run(*flags, runs=None):
    """Runs the baseline on one thread for over 1.2 s (by wedge's own clock, and the test's), so
    that the check holds on a machine of any speed instead of passing by luck on a fast one: the
    number of runs comes from the rate of a first, short run, and grows until the run is long
    enough. Returns the process and the number of runs."""
    if runs is None:
        probe = wedge("run", "--runs", 500_000, "--threads", 1, "--seed", 3)
        rate = float(TIMING.search(probe.stderr).group(1)) / float(TIMING.search(probe.stderr).group(2))
        runs = int(rate * 1.6)
    for _ in range(6):
        start = time.monotonic()
        r = wedge("run", "--runs", runs, "--threads", 1, "--seed", 3, *flags)
        wall = time.monotonic() - start
        timing = TIMING.search(r.stderr)
        seconds = float(timing.group(2)) if timing else wall
        if seconds > 1.2 and wall > 1.2:
            return r, runs
        runs *= 2
    pytest.fail("could not make a run last more than 1.2 s")


def test_progress_goes_to_stderr_for_runs_longer_than_a_second():
    r, runs = long_run()
    assert PROGRESS.search(r.stderr), r.stderr
    assert not PROGRESS.search(r.stdout) and "format" in r.stdout  # stdout keeps the table
    # --quiet: nothing on stderr, however long the run.
    r, _ = long_run("--quiet", runs=runs)
    assert r.stderr == ""
    # --json: stdout holds one JSON document and nothing else (README; progress may go to stderr).
    r, runs = long_run("--json", runs=runs)
    assert json.loads(r.stdout)["points"][0]["runs"] == runs and r.stdout.count("\n") == 1


def test_no_progress_for_a_short_run():
    # Short by wedge's own clock (the one its progress rule reads: a line only once 1 s has
    # passed), not the test's wall clock, which process start-up on a loaded machine stretches.
    for _ in range(5):
        r = wedge("run", "--runs", 2000)
        timing = TIMING.search(r.stderr)
        assert timing and timing.group(1) == "2000", r.stderr
        if float(timing.group(2)) < 1.0:
            assert not PROGRESS.search(r.stderr), r.stderr
            return
    pytest.fail("a 2000-run command never finished within 1 s by its own clock")


# seeds ------------------------------------------------------------------------------------------

def test_seeds_select_the_streams(tmp_path):
    docs = {s: cli_json("--runs", 20000, "--seed", s) for s in (1, 2, 3, 7, 2**40 + 7)}
    outcomes = {s: json.dumps(outcome(d["points"][0]), sort_keys=True) for s, d in docs.items()}
    assert len(set(outcomes.values())) == len(docs), "two different seeds gave identical results"
    assert all(d["seed"] == s for s, d in docs.items())
    # The same seed gives the same results; --seed 7 is the file's seed = 7 and simulate(seed=7).
    assert cli_json("--runs", 20000, "--seed", 7) == docs[7]
    seven = write(tmp_path / "seven.toml", f'extends = "{BASELINE}"\n[run]\nseed = 7\n')
    assert cli_json(seven, "--runs", 20000) == docs[7]
    assert cli_json(seven, "--runs", 20000, "--seed", 8) == cli_json("--runs", 20000, "--seed", 8)
    sim = wedge_py.simulate(runs=20000, seed=7)
    assert {k: sim[k] for k in ("seed", "points")} == docs[7]
    # The high 32 bits of the seed count too (the Philox key is 64 bits).
    assert outcomes[7] != outcomes[2**40 + 7]


def test_the_trace_replays_the_run_of_its_seed(tmp_path):
    out = tmp_path / "seed7.h5"
    wedge("run", "--runs", 50, "--seed", 7, "--out", out, "--quiet")
    with h5py.File(out) as f:
        assert f.attrs["seed"] == 7
        runs = {k: f["runs"][k][()] for k in f["runs"]}
    for replicate in (0, 3, 49):
        (i,) = np.nonzero(runs["replicate"] == replicate)[0]
        trace = json.loads(wedge("trace", "--seed", 7, "--replicate", replicate, "--json").stdout)["record"]
        # (the trace prints alignment with 7 significant digits)
        assert trace["rounds"] == runs["rounds"][i] and trace["alignment"] == pytest.approx(runs["alignment"][i], rel=1e-6)
        other = json.loads(wedge("trace", "--seed", 8, "--replicate", replicate, "--json").stdout)["record"]
        assert other["alignment"] != trace["alignment"]


# --json -----------------------------------------------------------------------------------------

FIELDS = {"format": ["none", "declaration", "treaty"], "end_reason": ["agreement", "deadline", "cabinet_fell"],
          "alliance": ["intact", "strained", "rupture_neutral", "rupture_realign"], "okinawa": ["residual", "us_claim"],
          "islands_promised": ["0", "2", "4"], "islands_transferred": ["0", "2", "4"], "straits_clause": ["0", "1"],
          "alliance_clause": ["0", "1"]}
ROUND_FIELDS = ["rounds", "threat_round", "shigemitsu_round", "two_island_round"]


def check_document(doc, seed, runs, rounds, params):
    assert list(doc) == ["seed", "points"] and doc["seed"] == seed
    assert [p["index"] for p in doc["points"]] == list(range(len(params)))
    for point, p in zip(doc["points"], params):
        assert list(point) == ["index", "params", "runs", "counts", "stats"]
        assert point["params"] == p and point["runs"] == runs
        assert list(point["counts"]) == [*FIELDS, *ROUND_FIELDS]
        for field, cats in FIELDS.items():
            assert list(point["counts"][field]) == cats
        assert list(point["counts"]["rounds"]) == [str(r) for r in range(1, rounds + 1)]
        for field in ROUND_FIELDS[1:]:
            assert list(point["counts"][field]) == [str(r) for r in range(0, rounds + 1)]
        for field, counts in point["counts"].items():
            assert all(type(c) is int and c >= 0 for c in counts.values())
            assert sum(counts.values()) == runs, field
        assert list(point["stats"]) == ["alignment", "reward_total"]
        for s in point["stats"].values():
            assert list(s) == ["mean", "sd", "min", "max"] and s["min"] <= s["mean"] <= s["max"] and s["sd"] >= 0


def test_json_document_has_the_documented_shape():
    r = wedge("run", "--runs", 3000, "--seed", 9, "--json", "--set", "negotiation.rounds=5", "--set",
              "dulles.threat_strength=0")
    assert r.stdout.endswith("}]}\n") and r.stdout.count("\n") == 1
    doc = json.loads(r.stdout)
    check_document(doc, 9, 3000, 5, [{}])
    # Zeros included: no threat, so every threat_round category but 0 is present with count 0.
    assert list(doc["points"][0]["counts"]["threat_round"].values()) == [3000, 0, 0, 0, 0, 0]
    grid = cli_json(SWEEPS / "threat_rewards_grid.toml", "--runs", 500)
    powers = [0.2, 0.2 + 1.3 / 3, 0.2 + 2.6 / 3, 1.5]
    params = [{"dulles.threat_strength": t, "dulles.reward_power": w} for t in (0, 1, 2) for w in powers]
    for got, want in zip(grid["points"], params):
        assert got["params"]["dulles.threat_strength"] == want["dulles.threat_strength"]
        assert got["params"]["dulles.reward_power"] == pytest.approx(want["dulles.reward_power"], rel=1e-12)
    check_document(grid, 7, 500, 8, [p["params"] for p in grid["points"]])


# defaults ---------------------------------------------------------------------------------------

def test_defaults_are_a_million_runs_and_seed_1(tmp_path):
    """README: --runs defaults to the file's, else 1,000,000; --seed to 1."""
    doc = cli_json()
    assert doc["seed"] == 1 and doc["points"][0]["runs"] == 1_000_000
    assert cli_json("--runs", 2000) == cli_json("--runs", 2000, "--seed", 1)
    # A file without [run] takes the defaults; the file's runs and seed win over them.
    bare = write(tmp_path / "bare.toml", "[dulles]\ntact = 0.5\n")
    assert "1000000 replicates per point, seed 1\n" in wedge("validate", bare).stdout
    assert "100000 replicates per point, seed 7\n" in wedge("validate", SWEEPS / "threat_rewards_grid.toml").stdout


# the outcome table --------------------------------------------------------------------------------

def test_the_table_prints_each_probability_with_its_wilson_interval():
    """README: `wedge run` prints each outcome's probability with a 95% Wilson interval (and the
    median number of rounds); the numbers equal the JSON counts of the same run."""
    table = wedge("run", "--runs", 20000, "--seed", 11, "--quiet").stdout
    (point,) = cli_json("--runs", 20000, "--seed", 11)["points"]
    n = point["runs"]
    rows = re.findall(r"^  (\S+)?\s+(\S+)\s+(\d+)\s+(\d\.\d{4})\s+\[(\d\.\d{4}), (\d\.\d{4})\]$", table, re.M)
    fields = ["format", "end_reason", "alliance", "okinawa", "islands_promised", "islands_transferred"]
    assert len(rows) == sum(len(point["counts"][f]) for f in fields), table
    field = None
    for name, category, count, p, low, high in rows:
        field = name or field
        k = point["counts"][field][category]
        lo, hi = wedge_py.wilson(k, n)
        assert (int(count), p, low, high) == (k, f"{k / n:.4f}", f"{float(lo):.4f}", f"{float(hi):.4f}"), (field, category)
    issued = re.search(r"^  okinawa threat\s+issued\s+(\d+)", table, re.M)
    assert int(issued.group(1)) == n - point["counts"]["threat_round"]["0"]
    cumulative, median = 0, None
    for r, k in point["counts"]["rounds"].items():
        cumulative += k
        if median is None and cumulative >= n / 2:
            median = r
    assert re.search(rf"^  median rounds\s+{median}$", table, re.M), table
