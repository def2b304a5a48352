"""wedge.compare and `wedge compare`: paired differences against a direct computation from both
scenarios' per-run records, pairing's gain, a scenario against itself, coverage of a known
difference, the command line's table and errors."""
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import ROOT, wedge as cli  # noqa: E402

import wedge  # noqa: E402

SCENARIOS = ROOT / "experiments" / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"
C2 = SCENARIOS / "c2_no_okinawa_threat.toml"
Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def c2_vs_baseline():
    return wedge.compare(BASELINE, C2, runs=30_000, seed=11)


def test_paired_interval_is_narrower_than_the_unpaired_one(c2_vs_baseline):
    t = c2_vs_baseline
    treaty = t[(t.outcome == "format") & (t.category == "treaty")].iloc[0]
    assert treaty["diff"] > 0.1  # MODEL.md §7, C2: P(treaty) rises by at least 0.1
    assert treaty["paired_high"] - treaty["paired_low"] < 0.8 * (treaty["unpaired_high"] - treaty["unpaired_low"])
    assert treaty["variance_ratio"] > 1.5
    # Every category whose two sides differ run by run gains from pairing (positively correlated runs).
    moving = t[(t.a_only + t.b_only > 100) & (t.outcome.isin(["format", "alliance", "islands_promised"]))]
    assert len(moving) >= 6
    assert (moving["paired_se"] < moving["unpaired_se"]).all()
    assert t.attrs["runs"] == 30_000 and t.attrs["seed"] == 11
    assert t.attrs["a"].startswith("Baseline") and t.attrs["b"].startswith("C2")
    assert "threat_strength = 0.0" in t.attrs["b_experiment"]


def test_paired_differences_equal_a_direct_computation_from_the_records(c2_vs_baseline):
    t = c2_vs_baseline
    a = wedge.simulate(BASELINE, runs=30_000, seed=11, records=True)
    b = wedge.simulate(C2, runs=30_000, seed=11, records=True)
    # Each side is the run of that scenario alone: the same document.
    assert t.attrs["a_results"] == {k: a[k] for k in ("seed", "points")}
    assert t.attrs["b_results"] == {k: b[k] for k in ("seed", "points")}
    fields = {f["name"]: f for f in wedge._core.fields()}
    n = 30_000
    for outcome in ("format", "alliance", "okinawa", "islands_promised", "end_reason", "rounds"):
        ra, rb = a["records"][outcome], b["records"][outcome]
        joint = pd.crosstab(ra, rb).reindex(index=range(len(t.attrs["joint"][outcome])),
                                            columns=range(len(t.attrs["joint"][outcome])), fill_value=0)
        assert joint.to_numpy().tolist() == t.attrs["joint"][outcome]
        for _, row in t[t.outcome == outcome].iterrows():
            c = fields[outcome]["categories"].index(str(row["category"]))
            d = (rb == c).astype(float) - (ra == c).astype(float)
            se = d.std(ddof=1) / np.sqrt(n)
            se_u = np.sqrt(((ra == c).astype(float).var(ddof=1) + (rb == c).astype(float).var(ddof=1)) / n)
            assert row["p_a"] == pytest.approx((ra == c).mean(), abs=1e-15)
            assert row["p_b"] == pytest.approx((rb == c).mean(), abs=1e-15)
            assert row["diff"] == pytest.approx(d.mean(), abs=1e-15)
            assert row["paired_low"] == pytest.approx(d.mean() - Z95 * se, abs=1e-12)
            assert row["paired_high"] == pytest.approx(d.mean() + Z95 * se, abs=1e-12)
            assert row["unpaired_low"] == pytest.approx(d.mean() - Z95 * se_u, abs=1e-12)
            assert row["a_only"] == int(((ra == c) & (rb != c)).sum())
            assert row["b_only"] == int(((rb == c) & (ra != c)).sum())
            lo, hi = wedge.wilson(int((ra == c).sum()), n)
            assert (row["a_low"], row["a_high"]) == pytest.approx((float(lo), float(hi)), abs=1e-15)
    for field in ("alignment", "reward_total"):
        d = b["records"][field] - a["records"][field]
        m = t.attrs["means"][field]
        se = d.std(ddof=1) / np.sqrt(n)
        assert m["diff"] == pytest.approx(d.mean(), rel=1e-9, abs=1e-12)
        assert m["paired_high"] - m["paired_low"] == pytest.approx(2 * Z95 * se, rel=1e-9)
        se_u = np.sqrt((a["records"][field].var(ddof=1) + b["records"][field].var(ddof=1)) / n)
        assert m["unpaired_high"] - m["unpaired_low"] == pytest.approx(2 * Z95 * se_u, rel=1e-9)
    # Categories follow the package's label rule: integers for numeric fields.
    assert list(t[t.outcome == "islands_promised"]["category"]) == [0, 2, 4]
    # The round fields stop at negotiation.rounds (8), as `wedge run --json`.
    assert list(t[t.outcome == "rounds"]["category"]) == list(range(1, 9))


def test_a_scenario_against_itself_differs_by_exactly_zero():
    t = wedge.compare(C2, C2, runs=5_000, seed=3)
    assert (t["diff"] == 0).all()
    assert (t["paired_low"] == 0).all() and (t["paired_high"] == 0).all()
    assert ((t["a_only"] + t["b_only"]) == 0).all()
    inner = t[(t.p_a > 0) & (t.p_a < 1)]
    assert np.isinf(inner["variance_ratio"]).all() and (inner["unpaired_high"] > 0).all()
    for m in t.attrs["means"].values():
        assert m["diff"] == 0 and m["paired_low"] == 0 and m["paired_high"] == 0
    # The baseline as None, a dict and overrides on one side.
    t2 = wedge.compare(None, {"dulles": {"threat_strength": 0.0}}, runs=5_000, seed=3)
    t3 = wedge.compare(None, None, runs=5_000, seed=3, set_b={"dulles.threat_strength": 0.0})
    t4 = wedge.compare(BASELINE, C2, runs=5_000, seed=3)
    for other in (t3, t4):
        assert np.array_equal(t2["diff"].to_numpy(), other["diff"].to_numpy())
        assert np.array_equal(t2["paired_low"].to_numpy(), other["paired_low"].to_numpy())
    assert t2.attrs["a"] == "baseline"


def test_paired_interval_covers_the_true_difference():
    """Coverage of P(treaty)'s paired 95% interval over 150 seeds of 2,000 pairs, against the
    difference from 400,000 pairs (whose own standard error, ~0.0007, is a fourteenth of one
    seed's; it moves the coverage by well under 1%): within four standard errors (0.071) of 0.95."""
    truth = wedge.compare(BASELINE, C2, runs=400_000, seed=999)
    true_diff = truth[(truth.outcome == "format") & (truth.category == "treaty")]["diff"].iloc[0]
    covered = covered_unpaired = 0
    seeds = range(1, 151)
    for seed in seeds:
        t = wedge.compare(BASELINE, C2, runs=2_000, seed=seed)
        row = t[(t.outcome == "format") & (t.category == "treaty")].iloc[0]
        covered += row["paired_low"] <= true_diff <= row["paired_high"]
        covered_unpaired += row["unpaired_low"] <= true_diff <= row["unpaired_high"]
    coverage = covered / len(seeds)
    assert abs(coverage - 0.95) < 4 * np.sqrt(0.95 * 0.05 / len(seeds))
    assert covered_unpaired >= covered  # the unpaired interval is wider than it needs to be


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"dulles.tact = 1.4: must be \[0, 1\]"):
        wedge.compare(None, None, runs=100, set_b={"dulles.tact": 1.4})
    with pytest.raises(ValueError, match="compare takes two single-point scenarios"):
        wedge.compare(ROOT / "experiments" / "sweeps" / "threat_rewards_grid.toml", None, runs=100)
    with pytest.raises(ValueError, match=r"^runs = 0: must be an integer in \[1, 4294967296\]$"):
        wedge.compare(None, None, runs=0)
    with pytest.raises(ValueError, match=r"^seed = -1: must be an integer in \[0, 9223372036854775807\]$"):
        wedge.compare(None, None, runs=100, seed=-1)
    with pytest.raises(ValueError, match=r"^threads = 0: must be an integer in \[1, 1024\]$"):
        wedge.compare(None, None, runs=100, threads=0)
    with pytest.raises(TypeError, match=r"^runs must be an integer \(an integer in \[1, 4294967296\]\), not float$"):
        wedge.compare(None, None, runs=1.5)
    with pytest.raises(TypeError, match="set_a must be a dict"):
        wedge.compare(None, None, runs=100, set_a="dulles.tact=0.5")


def test_paired_difference_plot(c2_vs_baseline):
    fig = wedge.plots.paired_difference(c2_vs_baseline)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "format = none" and "okinawa = us_claim" in labels
    assert "C2" in ax.get_title() and "30000 runs each, seed 11" in ax.get_title()
    matplotlib.pyplot.close(fig)


def test_command_line_prints_the_paired_table():
    """The issue's check: baseline against C2 with 200,000 runs prints the paired table; --json
    gives the same numbers as wedge.compare."""
    out = cli("compare", BASELINE, C2, "--runs", 200_000, "--quiet").stdout
    assert "paired comparison: 200000 runs per scenario, seed 1" in out
    assert "paired 95% CI" in out and "unpaired 95% CI" in out
    t = wedge.compare(BASELINE, C2, runs=200_000)
    treaty = t[(t.outcome == "format") & (t.category == "treaty")].iloc[0]
    line = next(l for l in out.splitlines() if l.split()[:1] == ["treaty"])
    assert line.split()[1:4] == [f"{treaty.p_a:.4f}", f"{treaty.p_b:.4f}", f"{treaty['diff']:+.4f}"]
    assert f"[{treaty.paired_low:+.4f}, {treaty.paired_high:+.4f}]" in line
    document = json.loads(cli("compare", BASELINE, C2, "--runs", 2000, "--seed", 4, "--json").stdout)
    frame = wedge.paired.comparison_frame(document)
    t = wedge.compare(BASELINE, C2, runs=2000, seed=4)
    pd.testing.assert_frame_equal(frame, t, check_like=False)
    # --set on both sides, --set-a / --set-b on one.
    both = json.loads(cli("compare", BASELINE, BASELINE, "--runs", 2000, "--seed", 4, "--json", "--set-b",
                          "dulles.threat_strength=0").stdout)
    assert both["categorical"] == document["categorical"]
    same = json.loads(cli("compare", BASELINE, C2, "--runs", 2000, "--json", "--set", "dulles.tact=0.9").stdout)
    t = wedge.compare(BASELINE, C2, runs=2000, set={"dulles.tact": 0.9})
    assert [r["diff"] for r in same["categorical"]] == list(t["diff"])


def test_command_line_errors():
    grid = ROOT / "experiments" / "sweeps" / "threat_rewards_grid.toml"
    r = cli("compare", grid, C2, "--runs", 100, check=False)
    assert r.returncode == 2 and r.stderr.startswith("error: compare: A (") and "single-point" in r.stderr
    r = cli("compare", BASELINE, C2, "--set-b", "dulles.tcat=1", check=False)
    assert r.returncode == 2
    run = cli("run", "--set", "dulles.tcat=1", check=False)
    assert r.stderr == run.stderr  # the same message as `wedge run`
    r = cli("compare", BASELINE, check=False)
    assert r.returncode == 2 and "needs B.toml (scenario B), and none was given" in r.stderr and "usage: wedge compare" in r.stderr


def test_command_line_interrupted_by_ctrl_c():
    """SIGINT stops both sides at a block boundary: exit code 130, nothing printed on stdout."""
    import signal
    import subprocess
    import time

    from conftest import WEDGE

    proc = subprocess.Popen([str(WEDGE), "compare", BASELINE, C2, "--runs", str(2**31), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # 2^31 pairs take many minutes: it is still running
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out == ""
    assert err.startswith("error: interrupted by SIGINT after ") and f"of {2**31} pairs; nothing was written" in err


def test_python_front_door_compare():
    """`python3 -m wedge compare` (an installed package without the binary) prints the same
    numbers as wedge.compare, and bad input exits 2 with the argument named."""
    import subprocess
    import sys

    env = {"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "wedge", "compare", "baseline", str(C2), "--runs", "3000",
                        "--seed", "5", "--json"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    shown = pd.DataFrame(json.loads(r.stdout))
    t = wedge.compare(None, C2, runs=3000, seed=5)
    assert list(shown["diff"]) == list(t["diff"]) and list(shown["paired_low"]) == list(t["paired_low"])
    r = subprocess.run([sys.executable, "-m", "wedge", "compare", "baseline", str(C2), "--runs", "3000"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0 and "3000 pairs, seed 1" in r.stdout and "variance_ratio" in r.stdout
    r = subprocess.run([sys.executable, "-m", "wedge", "compare", "baseline", "baseline", "--seed", "-1"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.startswith("error: seed = -1: must be an integer in [0, 9223372036854775807]")
    r = subprocess.run([sys.executable, "-m", "wedge", "--help"], capture_output=True, text=True, env=env)
    assert "compare" in r.stdout and "explore" in r.stdout
