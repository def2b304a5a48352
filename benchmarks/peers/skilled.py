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

from scenario import load

BLOCK = 65536


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
    fmt = np.zeros(n, np.int8)
    claim = np.zeros(n, np.int8)
    final_A = np.zeros(n)
    final_S = np.zeros(n, bool)
    final_N = np.zeros(n, bool)
    idx = np.arange(n)
    A = np.full(n, p["alliance.initial"])
    S = np.full(n, bool(p["soviet.straits_clause"]))
    N = np.full(n, bool(p["soviet.alliance_clause"]))
    F = np.zeros(n, np.int64)
    sg4 = np.full(n, 1, np.int64)  # 1 while m_SG = 4
    q = np.zeros(n)
    threatened = np.zeros(n, bool)
    c = rng.uniform(p["dulles.credibility_min"], p["dulles.credibility_max"], n)
    d_treaty, d_straits, d_clause = p["japan.damage_treaty"], p["japan.damage_straits"], p["japan.damage_alliance_clause"]
    for r in range(1, p["negotiation.rounds"] + 1):
        k = idx.size
        if k == 0:
            break
        u = rng.random((10, k))
        z = rng.standard_normal((5, k))
        if r >= 2:
            S &= u[0] >= p["soviet.straits_drop_hazard"]
            N &= u[1] >= p["soviet.alliance_drop_hazard"]
        soft = u[2] < p["soviet.soft_line_prob"]
        t_half = np.where(soft, np.where(u[3] < p["soviet.four_island_prob"], 2, 1), 0)
        accept = u[4] < (p["soviet.declaration_accept_early"] if r < p["soviet.declaration_switch_round"]
                         else p["soviet.declaration_accept_late"])
        available = accept & (u[5] < p["matsumoto.formula_prob"])
        g = 1 + p["dulles.gravity_straits"] * S + p["dulles.gravity_alliance_clause"] * N
        damage = d_treaty + d_straits * S + d_clause * N
        base = tab.treaty[4 * t_half + 2 * sg4 + F]
        # Dulles's first estimate, for every run.
        wt = tab.support(base, A * damage, q)
        est = np.clip(ndtr((wt - theta) / sd) + est_sd * z[0], 0, 1)
        reward = est * g > p["dulles.bind_threshold"]
        power = p["dulles.reward_power"] * (p["dulles.suez_factor"] if r >= p["dulles.suez_round"] else 1.0)
        rw = np.flatnonzero(reward)
        A[rw] = np.minimum(1.0, A[rw] + p["dulles.reward_gain"] * power)
        # His estimate after rewarding matters only where he rewarded; the support changed there.
        wt[rw] = tab.support(base[rw], A[rw] * damage[rw], q[rw])
        est2 = np.clip(ndtr((wt[rw] - theta) / sd) + est_sd * z[1, rw], 0, 1)
        co = rw[(est2 * g[rw] > p["dulles.coerce_threshold"]) & ~threatened[rw] & (p["dulles.threat_strength"] > 0)]
        threatened[co] = True
        q[co] = np.minimum(1.0, c[co] * p["dulles.threat_strength"])
        A[co] = np.maximum(0.0, A[co] - p["dulles.backlash"] * p["dulles.threat_strength"] * (1 - p["dulles.tact"]))
        wt[co] = tab.support(base[co], A[co] * damage[co], q[co])
        vt = wt + sd * z[2]
        vd = np.full(k, -np.inf)
        av = np.flatnonzero(available)
        vd[av] = tab.support(tab.declaration[F[av]], A[av] * p["japan.damage_declaration"]) + sd * z[3, av]
        treaty_ok = (t_half > 0) & (vt >= theta)
        decl_ok = vd >= theta
        treaty = treaty_ok & (~decl_ok | (vt >= vd))
        decl = decl_ok & ~treaty
        A = np.where(treaty, np.maximum(0.0, A - p["alliance.treaty_cost"] * (1 + S + N)), A)
        A = np.where(decl, np.maximum(0.0, A - p["alliance.declaration_cost"]), A)
        claimed = treaty & (q > 0) & (u[6] < q)
        stall = ~treaty & ~decl
        F = np.where(stall, u[7] < p["soviet.fisheries_pressure_prob"], F)
        sg4 = np.where(stall & (sg4 == 1) & (u[8] < p["shigemitsu.soften_hazard"]), 0, sg4)
        A = np.where(stall, np.clip(A + p["alliance.drift_sd"] * z[4], 0, 1), A)
        hazard = p["hatoyama.fall_hazard_early"] if r < p["hatoyama.fall_switch_round"] else p["hatoyama.fall_hazard_late"]
        ended = treaty | decl | (stall & ((u[9] < hazard) | (r >= p["negotiation.rounds"])))
        out = idx[ended]
        fmt[out] = np.where(treaty[ended], 2, np.where(decl[ended], 1, 0))
        claim[out] = claimed[ended]
        final_A[out], final_S[out], final_N[out] = A[ended], S[ended], N[ended]
        keep = np.flatnonzero(~ended)
        idx, A, S, N, F, sg4, q, threatened, c = (idx[keep], A[keep], S[keep], N[keep], F[keep], sg4[keep],
                                                  q[keep], threatened[keep], c[keep])
    alliance = np.where((fmt == 2) & final_S & final_N & (final_A < p["alliance.realign_below"]), 3,
                        np.where(final_A < p["alliance.rupture_below"], 2,
                                 np.where(final_A < p["alliance.strained_below"], 1, 0)))
    return fmt, alliance, claim


def simulate(runs: int, seed: int = 1):
    """Counts of format, alliance and okinawa over `runs` histories, in blocks of 65,536."""
    p = load()
    tab = Tables(p)
    rng = np.random.default_rng(seed)
    counts = {"format": np.zeros(3, np.int64), "alliance": np.zeros(4, np.int64), "okinawa": np.zeros(2, np.int64)}
    for start in range(0, runs, BLOCK):
        fmt, alliance, claim = simulate_block(p, min(BLOCK, runs - start), rng, tab)
        counts["format"] += np.bincount(fmt, minlength=3)
        counts["alliance"] += np.bincount(alliance, minlength=4)
        counts["okinawa"] += np.bincount(claim, minlength=2)
    return {k: v.tolist() for k, v in counts.items()}
