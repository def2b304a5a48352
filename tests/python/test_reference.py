"""Power (issue 19, item 2): the outcome distributions of the baseline, counterfactuals C2, C4, C7 and
two points of a sweep, compared with a reference computed once from 10^8 runs per scenario
(tests/reference/reference.json, made by tests/reference/generate.py with another seed).

Every category of every categorical field is compared (two-proportion z-test, pooled standard
error of both samples), and the mean and sd of each continuous field (standard errors from the
reference's sd and kurtosis and both sample sizes), with a Bonferroni correction over all
comparisons at a family-wise level ALPHA. Categories too rare for the normal approximation
(expected count < 50 in the test's sample) get an exact binomial test against the reference
proportion instead.

Power, computed in `power()` below and asserted by test_the_comparison_has_power: with n = RUNS
runs per scenario in the test and N = 10^8 in the reference, the standard error of a difference
of proportions is at most sqrt(0.25 (1/n + 1/N)) (p = 0.5 is the worst case); with m comparisons
the two-sided threshold is z* = Phi^-1(1 - ALPHA / (2 m)); a shift of delta = 0.01 of any one
category is detected with probability Phi(delta / SE - z*) + Phi(-delta / SE - z*). For n = 200,000,
N = 10^8, m = 366, ALPHA = 0.001: SE = 0.00112, z* = 4.69, power = 0.99999. Rare categories (p below
2.5e-4 in the exact branch) shift by 0.01 only by growing a hundredfold, which the exact test
cannot miss.

This test sees only distributions: a change of the draw layout (a different run for the same
seed) does not fail it unless it changes a distribution; a false alarm happens with probability
ALPHA per change. The regression pins (issue 12) catch any change of a run; this catches a wrong
change that someone re-pinned.
"""
import json
import math
import os
import pathlib
from statistics import NormalDist

import pytest
from scipy import stats as scipy_stats

from conftest import ROOT, cli_json, wedge

REFERENCE = pathlib.Path(os.environ.get("WEDGE_REFERENCE", ROOT / "tests" / "reference" / "reference.json"))
RUNS = 200_000         # per scenario (per design point of the sweep)
SEED = 19561019        # 19 October 1956, the Joint Declaration; the reference used another seed
ALPHA = 0.001          # family-wise false-alarm probability
DELTA = 0.01           # the shift of one category the test must detect
MIN_POWER = 0.999
EXACT_BELOW = 50       # expected count in the test's sample below which the exact test is used
GRID = ROOT / "experiments" / "sweeps" / "threat_rewards_grid.toml"
GRID_POINTS = {"grid_point_0": (0, {"dulles.threat_strength": 0, "dulles.reward_power": 0.2}),
               "grid_point_11": (11, {"dulles.threat_strength": 2, "dulles.reward_power": 1.5})}


@pytest.fixture(scope="module")
def reference():
    return json.loads(REFERENCE.read_text())


def comparisons(reference):
    """Number of comparisons m: every category of every scenario plus mean and sd of each
    continuous field."""
    m = 0
    for sc in reference["scenarios"].values():
        m += sum(len(c) for c in sc["counts"].values()) + 2 * len(sc["stats"])
    return m


def power(n, big_n, m, alpha=ALPHA, delta=DELTA):
    """Probability that a shift `delta` of a category with p = 0.5 (the largest variance) is
    detected by the two-sided z-test at the Bonferroni threshold, and that threshold."""
    z_star = NormalDist().inv_cdf(1 - alpha / (2 * m))
    se = math.sqrt(0.25 * (1 / n + 1 / big_n))
    phi = NormalDist().cdf
    return phi(delta / se - z_star) + phi(-delta / se - z_star), z_star, se


def test_the_comparison_has_power(reference):
    m = comparisons(reference)
    big_n = min(sc["runs"] for sc in reference["scenarios"].values())
    p, z_star, se = power(RUNS, big_n, m)
    assert big_n >= 10**8 and m >= 300, (big_n, m)
    assert p >= MIN_POWER, f"power {p:.6f} for a {DELTA} shift (n = {RUNS}, N = {big_n}, m = {m}, z* = {z_star:.2f}, SE = {se:.5f})"
    assert reference["seed"] != SEED


def test_the_reference_is_for_this_model_version(reference):
    version = wedge("--version").stdout.split("model: tug_of_war version ")[1].split()[0]
    assert reference["model_version"] == version, (
        "MODEL.md's model version changed: regenerate tests/reference/reference.json (tests/reference/generate.py)")
    assert set(reference["scenarios"]) == {"baseline", "c2_no_okinawa_threat", "c4_tactless_coercion",
                                           "c7_four_island_offer", *GRID_POINTS}


def two_sided_p(k, n, k_ref, n_ref):
    """p-value of the difference between k/n (test) and k_ref/n_ref (reference)."""
    pooled = (k + k_ref) / (n + n_ref)
    if min(n * pooled, n * (1 - pooled)) >= EXACT_BELOW:
        se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_ref))
        z = (k / n - k_ref / n_ref) / se
        return 2 * NormalDist().cdf(-abs(z)), f"z = {z:+.2f}"
    # Rare (or nearly certain) category: exact binomial test of k against the reference proportion,
    # whose own standard error is then negligible beside the test's.
    return scipy_stats.binomtest(k, n, k_ref / n_ref).pvalue, "exact"


def compare(name, point, ref, m):
    """Failures of `point` (a --json point) against the reference scenario `ref`."""
    threshold = ALPHA / m
    n, big_n = point["runs"], ref["runs"]
    failures = []
    assert n == RUNS
    assert set(point["counts"]) == set(ref["counts"])
    for field, cats in ref["counts"].items():
        assert list(point["counts"][field]) == list(cats), f"{name}: {field}: categories differ"
        for cat, k_ref in cats.items():
            k = point["counts"][field][cat]
            p, how = two_sided_p(k, n, k_ref, big_n)
            if p < threshold:
                failures.append(f"{name}: {field} = {cat}: {k / n:.5f} vs reference {k_ref / big_n:.5f} "
                                f"({how}, p = {p:.2g} < {threshold:.2g})")
    for field, s in ref["stats"].items():
        got = point["stats"][field]
        scale = math.sqrt(1 / n + 1 / big_n)
        checks = [("mean", s["sd"] * scale)]
        if s["kurtosis"] is not None:
            # Delta method: Var(sample sd) ~ sd^2 (kurtosis - 1) / (4 n).
            checks.append(("sd", s["sd"] * math.sqrt((s["kurtosis"] - 1) / 4) * scale))
        for moment, se in checks:
            if se == 0:
                ok = got[moment] == s[moment]
                detail = "exactly"
            else:
                z = (got[moment] - s[moment]) / se
                ok = 2 * NormalDist().cdf(-abs(z)) >= threshold
                detail = f"z = {z:+.2f}"
            if not ok:
                failures.append(f"{name}: {field} {moment}: {got[moment]:.6g} vs reference {s[moment]:.6g} ({detail})")
    return failures


@pytest.fixture(scope="module")
def samples(reference):
    out = {}
    for name in ("baseline", "c2_no_okinawa_threat", "c4_tactless_coercion", "c7_four_island_offer"):
        (point,) = cli_json(ROOT / "experiments" / "scenarios" / f"{name}.toml",
                            "--runs", RUNS, "--seed", SEED)["points"]
        out[name] = point
    grid = cli_json(GRID, "--runs", RUNS, "--seed", SEED)["points"]
    for name, (index, params) in GRID_POINTS.items():
        assert grid[index]["params"] == params
        out[name] = grid[index]
    return out


@pytest.mark.parametrize("name", ["baseline", "c2_no_okinawa_threat", "c4_tactless_coercion",
                                  "c7_four_island_offer", *GRID_POINTS])
def test_distributions_equal_the_reference(reference, samples, name):
    failures = compare(name, samples[name], reference["scenarios"][name], comparisons(reference))
    assert not failures, "\n".join(failures)
