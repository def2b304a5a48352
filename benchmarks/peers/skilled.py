"""The Tug of War model (MODEL.md) in NumPy as a skilled user writes it for speed: blocks of 65,536
runs, every round advancing the runs still in play; Japan's support table-driven (each faction's
logistic argument is a table lookup by the discrete state, islands x m_SG x F, plus two
coefficients times the continuous state A and q, with the sharpness folded in), one `np.exp` and
one matrix-vector product per support; supports recomputed only for the runs whose state changed
(rewarded, then coerced) and needed only where they matter; Dulles's normal CDF from SciPy's
`ndtr` when SciPy is there. A peer for benchmarks: `tests/python/test_peers.py` checks that it
gives wedge's outcome distribution within Monte Carlo error."""
import numpy as np

try:
    from scipy.special import ndtr
except ImportError:  # the pasted-in erfcc (fractional error < 1.2e-7)
    from scipy_free_erfc import erfc

    def ndtr(x):
        return 0.5 * erfc(-x / np.sqrt(2.0))

from numpy_rounds import backlash, count_outcomes, end_round, reward_power, soviet_moves, start
from scenario import load


class Tables:
    """The scenario's support as tables: t[state, f] + a[f] A damage + o[f] q, with
    state = 4 * (T / 2) + 2 * (m_SG == 4) + F for treaties and F for the declaration, and W the
    weighted mean of 1 / (1 + exp(-t)) (weights normalised)."""

    def __init__(self, p, softens=1):
        fs = p["factions"]
        lam = p["japan.logit_sharpness"]
        w = np.array([f["weight"] for f in fs])
        self.w = w / w.sum()
        terr = lam * np.array([f["territory"] for f in fs]) / 4
        side = lam * p["soviet.carrots"] * np.array([f["side"] for f in fs])
        self.alli = -lam * np.array([f["alliance"] for f in fs])
        self.oki = -lam * np.array([f["okinawa"] for f in fs])
        minimum = np.array([f["min_islands"] for f in fs], dtype=float)
        self.treaty = np.empty((12, len(fs)))
        for t_half in range(3):
            for soft in range(2):
                for fish in range(2):
                    m = minimum.copy()
                    m[softens] = 4.0 if soft else 2.0
                    pressure = 1.0 + p["soviet.fisheries_boost"] * fish
                    self.treaty[4 * t_half + 2 * soft + fish] = terr * (2 * t_half - m) + side * pressure
        self.declaration = np.stack([side, side * (1.0 + p["soviet.fisheries_boost"])])

    def support(self, base, exposure, q=None):
        """W for rows of `base` (runs x factions); exposure = A x damage; q the threat or None."""
        x = base + exposure[:, None] * self.alli
        if q is not None:
            x += q[:, None] * self.oki
        np.negative(x, out=x)
        np.clip(x, -700, 700, out=x)
        np.exp(x, out=x)
        x += 1.0
        np.reciprocal(x, out=x)
        return x @ self.w


def simulate_block(p, n, rng, tab):
    theta, sd = p["japan.ratify_threshold"], p["japan.vote_noise_sd"]
    est_sd = p["dulles.estimate_noise_sd"]
    outcomes, idx, A, S, N, q, threatened, c = start(p, n, rng)
    F = np.zeros(n, np.int64)
    sg4 = np.full(n, 1, np.int64)  # 1 while m_SG = 4
    d_treaty, d_straits, d_clause = p["japan.damage_treaty"], p["japan.damage_straits"], p["japan.damage_alliance_clause"]
    for r in range(1, p["negotiation.rounds"] + 1):
        k = idx.size
        if k == 0:
            break
        u, z, soft, four, available, g = soviet_moves(p, r, k, rng, S, N)
        t_half = np.where(soft, np.where(four, 2, 1), 0)
        damage = d_treaty + d_straits * S + d_clause * N
        base = tab.treaty[4 * t_half + 2 * sg4 + F]
        # Dulles's first estimate, for every run.
        wt = tab.support(base, A * damage, q)
        est = np.clip(ndtr((wt - theta) / sd) + est_sd * z[0], 0, 1)
        reward = est * g > p["dulles.bind_threshold"]
        rw = np.flatnonzero(reward)
        A[rw] = np.minimum(1.0, A[rw] + p["dulles.reward_gain"] * reward_power(p, r))
        # His estimate after rewarding matters only where he rewarded; the support changed there.
        wt[rw] = tab.support(base[rw], A[rw] * damage[rw], q[rw])
        est2 = np.clip(ndtr((wt[rw] - theta) / sd) + est_sd * z[1, rw], 0, 1)
        co = rw[(est2 * g[rw] > p["dulles.coerce_threshold"]) & ~threatened[rw] & (p["dulles.threat_strength"] > 0)]
        threatened[co] = True
        q[co] = np.minimum(1.0, c[co] * p["dulles.threat_strength"])
        A[co] = np.maximum(0.0, A[co] - backlash(p))
        wt[co] = tab.support(base[co], A[co] * damage[co], q[co])
        vt = wt + sd * z[2]
        vd = np.full(k, -np.inf)
        av = np.flatnonzero(available)
        vd[av] = tab.support(tab.declaration[F[av]], A[av] * p["japan.damage_declaration"]) + sd * z[3, av]
        treaty_ok = (t_half > 0) & (vt >= theta)
        decl_ok = vd >= theta
        treaty, decl, claimed, stall, ended, A = end_round(p, r, u, z, treaty_ok, decl_ok, vt, vd, A, S, N, q)
        F = np.where(stall, u[7] < p["soviet.fisheries_pressure_prob"], F)
        sg4 = np.where(stall & (sg4 == 1) & (u[8] < p["shigemitsu.soften_hazard"]), 0, sg4)
        keep = outcomes.record(idx, ended, treaty, decl, claimed, A, S, N)
        idx, A, S, N, F, sg4, q, threatened, c = (idx[keep], A[keep], S[keep], N[keep], F[keep], sg4[keep],
                                                  q[keep], threatened[keep], c[keep])
    return outcomes.fmt, outcomes.alliance(p), outcomes.claim


def simulate(runs: int, seed: int = 1):
    """Counts of format, alliance and okinawa over `runs` histories, in blocks of 65,536."""
    p = load()
    tab = Tables(p)
    return count_outcomes(runs, seed, lambda n, rng: simulate_block(p, n, rng, tab))
