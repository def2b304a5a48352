"""The benchmark peers (benchmarks/peers) implement the same model: their outcome distributions
equal wedge's within Monte Carlo error (two-proportion z-tests, fixed seeds, Bonferroni over every
comparison at an overall 1% level)."""
import math
import sys
from statistics import NormalDist

from conftest import ROOT, cli_json

sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
import plain  # noqa: E402
import skilled  # noqa: E402
import vectorized  # noqa: E402

CATEGORIES = [("format", 0), ("format", 1), ("format", 2), ("alliance", 0), ("okinawa", 1)]
NAMES = {"format": ["none", "declaration", "treaty"], "alliance": ["intact", "strained", "rupture_neutral", "rupture_realign"],
         "okinawa": ["residual", "us_claim"]}


def z_score(k1, n1, k2, n2):
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return abs(k1 / n1 - k2 / n2) / se if se > 0 else 0.0


def test_peers_match_wedge_within_monte_carlo_error():
    n_wedge, n_numpy, n_plain = 400_000, 200_000, 20_000
    ref = cli_json("--runs", n_wedge, "--seed", 5)["points"][0]["counts"]
    peers = {"numpy": (vectorized.simulate(n_numpy, seed=5), n_numpy), "plain": (plain.simulate(n_plain, seed=5), n_plain),
             "skilled numpy": (skilled.simulate(n_numpy, seed=6), n_numpy)}
    tests = len(CATEGORIES) * len(peers)
    z_crit = NormalDist().inv_cdf(1 - 0.01 / (2 * tests))
    for name, (counts, n) in peers.items():
        assert sum(counts["format"]) == n
        for field, c in CATEGORIES:
            k_ref = ref[field][NAMES[field][c]]
            z = z_score(counts[field][c], n, k_ref, n_wedge)
            assert z < z_crit, f"{name}: {field}={NAMES[field][c]}: {counts[field][c] / n:.4f} vs {k_ref / n_wedge:.4f} (z = {z:.2f})"
