"""The benchmark peers (benchmarks/peers) implement the same model: their outcome distributions
equal wedge's within Monte Carlo error (two-proportion z-tests, fixed seeds, Bonferroni over every
comparison of a test at an overall 1% level)."""
import math
import sys
from statistics import NormalDist

import numpy as np
import pytest
from scipy.special import ndtr

from conftest import ROOT, cli_json

sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
import plain  # noqa: E402
import scenario  # noqa: E402
import skilled  # noqa: E402
import vectorized  # noqa: E402

CATEGORIES = [("format", 0), ("format", 1), ("format", 2), ("alliance", 0), ("alliance", 1), ("okinawa", 1)]
NAMES = {"format": ["none", "declaration", "treaty"], "alliance": ["intact", "strained", "rupture_neutral", "rupture_realign"],
         "okinawa": ["residual", "us_claim"]}


def z_score(k1, n1, k2, n2):
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return abs(k1 / n1 - k2 / n2) / se if se > 0 else 0.0


def check(ref, n_wedge, peers):
    """z-tests of every peer's CATEGORIES against wedge's counts `ref` (Bonferroni over all of
    them); every peer's format, alliance and okinawa counts each sum to its number of runs."""
    tests = len(CATEGORIES) * len(peers)
    z_crit = NormalDist().inv_cdf(1 - 0.01 / (2 * tests))
    for name, (counts, n) in peers.items():
        for field in NAMES:
            assert sum(counts[field]) == n, f"{name}: {field} counts {counts[field]} do not sum to {n}"
        for field, c in CATEGORIES:
            k_ref = ref[field][NAMES[field][c]]
            z = z_score(counts[field][c], n, k_ref, n_wedge)
            assert z < z_crit, f"{name}: {field}={NAMES[field][c]}: {counts[field][c] / n:.4f} vs {k_ref / n_wedge:.4f} (z = {z:.2f})"


def test_peers_match_wedge_within_monte_carlo_error():
    n_wedge, n_numpy, n_plain = 400_000, 200_000, 20_000
    ref = cli_json("--runs", n_wedge, "--seed", 5)["points"][0]["counts"]
    check(ref, n_wedge, {"numpy": (vectorized.simulate(n_numpy, seed=5), n_numpy),
                         "plain": (plain.simulate(n_plain, seed=5), n_plain),
                         "skilled numpy": (skilled.simulate(n_numpy, seed=6), n_numpy),
                         "skilled numpy, blocks of 10,000": (skilled.simulate(n_numpy, seed=7, block=10_000), n_numpy),
                         "skilled numpy, NumPy's normals": (skilled.simulate(n_numpy, seed=10, numpy_normals=True), n_numpy)})


# MODEL.md §7's counterfactuals, which take the skilled peer down paths the baseline rarely or never
# does: no coercion (kappa = 0), heavy tactless coercion, four islands on offer half the time,
# no clauses (every run's table rows without S and N), SG's minimum 0 (no softening).
SCENARIOS = {"C2 no threat": {"dulles.threat_strength": 0.0},
             "C4 heavy tactless coercion": {"dulles.threat_strength": 2.0, "dulles.tact": 0.0},
             "C7 four islands": {"soviet.four_island_prob": 0.5},
             "no clauses, SG at 0, 3 rounds": {"soviet.straits_clause": False, "soviet.alliance_clause": False,
                                               "japan.factions.SG.min_islands": 0, "negotiation.rounds": 3}}


@pytest.mark.parametrize("name", SCENARIOS)
def test_skilled_peer_matches_wedge_off_baseline(name):
    n_wedge, n_numpy = 400_000, 200_000
    overrides = SCENARIOS[name]
    sets = [a for key, value in overrides.items() for a in ("--set", f"{key}={str(value).lower()}")]
    ref = cli_json("--runs", n_wedge, "--seed", 8, *sets)["points"][0]["counts"]
    p = scenario.load()
    for key, value in overrides.items():
        if key.startswith("japan.factions."):
            p["factions"][scenario.FACTIONS.index(key.split(".")[2])][key.split(".")[3]] = value
        else:
            p[key] = value
    check(ref, n_wedge, {f"skilled numpy, {name}": (skilled.simulate(n_numpy, seed=9, params=p), n_numpy)})


def test_skilled_phi_is_the_normal_cdf():
    """The skilled peer's float32 Φ (Numerical Recipes' erfcc, fractional error < 1.2e-7) is within
    3e-7 of SciPy's ndtr (double) on [-12, 12] and keeps Φ(-z) = 1 - Φ(z) within the same bound."""
    z = np.linspace(-12, 12, 240_001).astype(np.float32)
    got = skilled.phi(z).astype(float)
    assert np.abs(got - ndtr(z.astype(float))).max() < 3e-7
    assert np.abs(got + skilled.phi(-z).astype(float) - 1).max() < 3e-7
    assert got[0] < 1e-30 and got[-1] == 1.0


def test_skilled_box_muller_is_standard_normal():
    """The skilled peer's Box-Muller normals: float32, as many as asked (odd and even counts), mean
    0, variance 1, the normal's masses below five points, and a pair's cosine and sine halves
    uncorrelated, within Monte Carlo error (|z| < 5 at 10^6 draws, fixed seed)."""
    rng = np.random.Generator(np.random.SFC64(3))
    odd, even = skilled.box_muller(rng, 499_999), skilled.box_muller(rng, 500_000)
    assert odd.dtype == even.dtype == np.float32 and odd.shape == (499_999,) and even.shape == (500_000,)
    x = np.concatenate([odd, even]).astype(float)
    n = x.size
    assert abs(x.mean()) < 5 / math.sqrt(n)
    assert abs(x.var() - 1) < 5 * math.sqrt(2 / n)
    for c in (-2.5, -1.0, 0.0, 0.5, 2.0):
        p = ndtr(c)
        assert abs(np.mean(x < c) - p) < 5 * math.sqrt(p * (1 - p) / n), c
    cos, sin = even[:250_000].astype(float), even[250_000:].astype(float)
    assert abs(np.corrcoef(cos, sin)[0, 1]) < 5 / math.sqrt(cos.size)


def test_skilled_bernoulli_draws_from_raw_words():
    """The skilled peer's Bernoulli(p) draws: u < floor(p 2^32) on uniform uint32 words, so never
    for p = 0, always for p = 1, the threshold exact, and the frequency p within Monte Carlo error
    (|z| < 5 at 10^6 words of each row, fixed seed)."""
    rng = np.random.Generator(np.random.SFC64(4))
    u = skilled.words(rng, 3, 1_000_001)
    assert u.dtype == np.uint32 and u.shape == (3, 1_000_001)
    assert not skilled.below(u, 0.0).any() and skilled.below(u, 1.0).all()
    t = int(0.35 * 2**32)
    assert skilled.below(np.array([t - 1, t], np.uint32), 0.35).tolist() == [True, False]
    for row, p in zip(u, (0.35, 0.014, 0.7)):
        assert abs(skilled.below(row, p).mean() - p) < 5 * math.sqrt(p * (1 - p) / row.size), p
    assert abs(np.corrcoef(u[0].astype(float), u[1].astype(float))[0, 1]) < 5 / math.sqrt(u.shape[1])
