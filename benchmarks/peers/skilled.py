"""The Tug of War model (MODEL.md) in NumPy as a skilled user writes it for speed (issue 13: "NumPy
vectorised across runs in blocks of 65,536, written the way a skilled NumPy user would
(table-driven support, NumPy's own exp)"); a peer for benchmarks, checked against wedge's outcome
distribution by `tests/python/test_peers.py`. Plain NumPy throughout: no SciPy, Numba, Cython or
numexpr; every transcendental function is NumPy's own (tanh, exp, log1p, sqrt, cos, sin).

What makes it fast (each measured here, CPU seconds, n = 524,288; docs/performance.md):
- Runs advance together in blocks (`block` runs, default BLOCK = 65,536); each round works on the
  runs still in play, compacted once a round to three arrays: A and q (float32) and a uint8 code
  holding the discrete state (S, N, F, m_SG = 4, threatened). Outcomes go straight into counts;
  no per-run record is kept.
- Draws only where a run uses them: Bernoulli events as raw 32-bit words of the SFC64 bit
  generator against integer thresholds (`words`, `below`; 4 a run and round, 3 more where the
  round stalled); normals (`box_muller`) only for the second estimate where Dulles rewarded and
  has not yet threatened, the treaty vote where a treaty is on offer, the declaration vote where
  one is available, the drift where the round stalled; the credibility c when a threat is made
  (it is used nowhere else); the Okinawa claim where a treaty meets a threat. One word decides
  the islands (hard / two / four: u < soft x four, u < soft) and one whether a declaration is
  available (P = accept x formula); every distribution stays as MODEL.md states it.
- Japan's support table-driven: each faction's logistic argument is a table entry for the
  discrete state (islands x S x N x F x m_SG: 48 rows) plus two coefficients times A and q; the
  logistic as tanh (σ(x) = (1 + tanh(x / 2)) / 2) with the weights, θ and σ_v folded in, so a
  support comes out as z = (W - θ) / σ_v, the argument of Dulles's Φ and, with the vote noise in
  the same units, of the vote (W + ε ≥ θ  <=>  z + ε/σ_v ≥ 0). Supports are recomputed only where
  the state changed and the value is used (rewarded, coerced).
- float32 everywhere: the support is a weighted mean of logistics in [0, 1] compared with θ under
  noise of sd σ_v = 0.05; float32's relative 6e-8 changes no outcome distribution measurably.
- Φ by Numerical Recipes' erfcc in float32 (`phi`, half of SciPy ndtr's cost on the model's z),
  normals by Box-Muller in float32 (7 against NumPy standard_normal's 12 ns; `numpy_normals=True`
  uses NumPy's own).

One Generator(SFC64(seed)) feeds a whole simulation: the counts depend on runs, seed, block and
the normals' source only. MODEL.md §4's ordering of the thresholds is assumed (realign_below <=
rupture_below < strained_below; bind and coerce thresholds >= 0).
"""
import numpy as np
from scenario import load

BLOCK = 65536

F32 = np.float32
# Bits of the per-run state code.
S_BIT, N_BIT, F_BIT, SG4_BIT, THREAT_BIT = 1, 2, 4, 8, 16


class Model:
    """The scenario as the tables and per-round constants the block loop needs."""

    def __init__(self, p):
        self.p = p
        fs = p["factions"]
        half = p["japan.logit_sharpness"] / 2.0
        sd = p["japan.vote_noise_sd"]
        w = np.array([f["weight"] for f in fs], dtype=float)
        w /= w.sum()
        # z = (W - θ)/σ_v = z0 + Σ_f wz_f tanh(y_f), y_f = λ u_f / 2.
        self.wz = (0.5 * w / sd).astype(F32)
        self.z0 = F32((0.5 - p["japan.ratify_threshold"]) / sd)
        terr = half * np.array([f["territory"] for f in fs]) / 4.0
        side = half * p["soviet.carrots"] * np.array([f["side"] for f in fs])
        self.cA = (-half * np.array([f["alliance"] for f in fs])).astype(F32)
        self.cq = (-half * np.array([f["okinawa"] for f in fs])).astype(F32)
        minimum = np.array([f["min_islands"] for f in fs], dtype=float)
        boost = p["soviet.fisheries_boost"]
        # Treaty rows: key = 16 x tc + (code & 15), tc = 0, 1, 2 for T = 0, 2, 4.
        self.base = np.empty((len(fs), 48), F32)
        self.damage = np.empty(48, F32)
        self.gravity = np.empty(48, F32)
        for key in range(48):
            tc, code = divmod(key, 16)
            s, n, fish, sg4 = (code >> 0) & 1, (code >> 1) & 1, (code >> 2) & 1, (code >> 3) & 1
            m = minimum.copy()
            m[1] = 4.0 if sg4 else min(minimum[1], 2.0)  # m_SG: 4 until softened to 2; 2 or 0 stays
            self.base[:, key] = terr * (2.0 * tc - m) + side * (1.0 + boost * fish)
            self.damage[key] = p["japan.damage_treaty"] + p["japan.damage_straits"] * s + p["japan.damage_alliance_clause"] * n
            self.gravity[key] = 1.0 + p["dulles.gravity_straits"] * s + p["dulles.gravity_alliance_clause"] * n
        # Declaration rows by F (code bit 2): no territory, no Okinawa term.
        self.base_decl = np.stack([side, side * (1.0 + boost)], axis=1).astype(F32)
        self.damage_decl = F32(p["japan.damage_declaration"])
        # Alignment lost by a treaty, by S + N (1 + S + N clauses' worth).
        self.treaty_cost = np.array([p["alliance.treaty_cost"] * (1 + (c & 1) + (c >> 1)) for c in range(4)], F32)
        self.code0 = np.uint8(S_BIT * bool(p["soviet.straits_clause"]) + N_BIT * bool(p["soviet.alliance_clause"])
                              + SG4_BIT * (fs[1]["min_islands"] == 4))
        self.softens = fs[1]["min_islands"] == 4  # m_SG = 2 or 0 never changes

    def z_treaty(self, key, A, q):
        """z = (W_treaty - θ)/σ_v for runs with table rows `key` (intp) and state A, q (float32,
        k each; q None when no run has a threat in force)."""
        return self._z(np.take(self.base, key, axis=1), np.take(self.damage, key) * A, q)

    def z_declaration(self, fish, A):
        """z = (W_decl - θ)/σ_v for runs with fisheries pressure `fish` (0/1, intp) and alignment A."""
        return self._z(np.take(self.base_decl, fish, axis=1), self.damage_decl * A, None)

    def _z(self, y, dA, q):
        """z0 + Σ_f wz_f tanh(y_f + cA_f dA + cq_f q) for y the (factions, k) table part; faction by
        faction (rows of k), which keeps the temporaries in cache where whole (factions, k)
        temporaries at k = 65,536 (1.3 MB each in float32) took 2.5x as long on this VM."""
        t = np.empty(dA.size, F32)
        for f in range(y.shape[0]):
            y[f] += np.multiply(dA, self.cA[f], out=t)
            if q is not None:
                y[f] += np.multiply(q, self.cq[f], out=t)
        np.tanh(y, out=y)
        z = np.einsum("f,fk->k", self.wz, y)
        z += self.z0
        return z


# Numerical Recipes' erfcc (Press et al., 2nd ed., §6.2; fractional error < 1.2e-7), the rational
# Chebyshev fit a NumPy user pastes in for erfc; in float32 its Φ is within 2.1e-7 of SciPy's
# ndtr on z in [-12, 12] (checked by tests/python/test_peers.py), at half ndtr's cost here
# (10.5 against 21 ns a value on the model's z, this VM).
ERFCC = [F32(c) for c in (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
                          -1.13520398, 1.48851587, -0.82215223, 0.17087277)]


def phi(z):
    """Φ(z), the standard normal CDF, for a float32 array z (any shape): 0.5 erfcc(-z/√2)."""
    x = np.abs(z)
    x *= F32(1 / np.sqrt(2))
    t = x * F32(0.5)
    t += F32(1)
    np.reciprocal(t, out=t)
    s = t * ERFCC[9]
    for c in ERFCC[8:0:-1]:
        s += c
        s *= t
    s += ERFCC[0]
    s -= np.square(x, out=x)
    np.exp(s, out=s)
    s *= t
    s *= F32(0.5)  # Φ(-|z|)
    # Φ(z) = 0.5 + sign(z) (0.5 - Φ(-|z|)): copysign, 5x cheaper than np.where on float32 here.
    np.subtract(F32(0.5), s, out=s)
    np.copysign(s, z, out=s)
    s += F32(0.5)
    return s


TWO_PI = F32(2 * np.pi)


def box_muller(rng, m):
    """m standard normals (float32) by the Box-Muller transform (Box and Muller, Ann. Math.
    Statist. 29, 1958) of float32 uniforms u1, u2: sqrt(-2 ln(1 - u1)) (cos, sin)(2π u2), with
    NumPy's own log1p, sqrt, cos and sin. 1 - u1 >= 2^-24 truncates the tails at 5.77 sd
    (P = 8e-9). 7 against NumPy's 12 ns a normal (standard_normal, float32) here."""
    h = (m + 1) // 2
    u = rng.random((2, h), dtype=F32)
    r = np.log1p(np.negative(u[0], out=u[0]), out=u[0])
    r *= F32(-2)
    np.sqrt(r, out=r)
    t = u[1]
    t *= TWO_PI
    out = np.empty(2 * h, F32)
    np.multiply(r, np.cos(t), out=out[:h])
    np.multiply(r, np.sin(t, out=t), out=out[h:])
    return out[:m]


def numpy_normal(rng, m):
    """m standard normals (float32) from NumPy's own generator (ziggurat)."""
    return rng.standard_normal(m, dtype=F32)


def words(rng, rows, k):
    """A (rows, k) array of uniform uint32 words: the halves of rng's raw 64-bit outputs (SFC64's
    every bit is usable), 1.1 against the 3 ns of a float32 `rng.random` here."""
    return rng.bit_generator.random_raw((rows * k + 1) // 2).view(np.uint32)[:rows * k].reshape(rows, k)


def below(u, p):
    """The Bernoulli(p) events u < p·2^32 for uniform uint32 words u: P = floor(p·2^32)/2^32,
    within 2^-32 of p, exactly 0 for p = 0 and 1 for p >= 1."""
    if p >= 1.0:
        return np.ones(u.shape, bool)
    return u < np.uint32(int(p * 2.0**32))


def simulate_block(m, n, rng, counts, normal):
    """Plays n runs and adds their outcomes to `counts` (format[3], alliance[4], okinawa[2]);
    normal(rng, m) draws m standard normals (float32)."""
    p = m.p
    rounds = p["negotiation.rounds"]
    est_sd, bind, coerce = F32(p["dulles.estimate_noise_sd"]), p["dulles.bind_threshold"], p["dulles.coerce_threshold"]
    kappa = p["dulles.threat_strength"]
    backlash = F32(p["dulles.backlash"] * kappa * (1 - p["dulles.tact"]))
    strained, rupture = F32(p["alliance.strained_below"]), F32(p["alliance.rupture_below"])
    realign = F32(p["alliance.realign_below"])
    drift = F32(p["alliance.drift_sd"])
    p_soft = p["soviet.soft_line_prob"]
    p_four = p_soft * p["soviet.four_island_prob"]
    A = np.full(n, p["alliance.initial"], F32)
    q = np.zeros(n, F32)
    code = np.full(n, m.code0, np.uint8)
    fmt, alliance, okinawa = counts["format"], counts["alliance"], counts["okinawa"]

    def classify(a, realigned=None, ended=None):
        """Adds the alliance categories of ended runs with final alignment `a` (of those where
        `ended`, if given); `realigned`: the treaties with both clauses and A < realign_below."""
        below_s, below_r = a < strained, a < rupture
        if ended is not None:
            below_s &= ended
            below_r &= ended
        below_s, below_r = np.count_nonzero(below_s), np.count_nonzero(below_r)
        # Every realigned run is below rupture_below too (realign_below <= rupture_below).
        n_real = 0 if realigned is None else np.count_nonzero(realigned)
        alliance[0] += (a.size if ended is None else np.count_nonzero(ended)) - below_s
        alliance[1] += below_s - below_r
        alliance[2] += below_r - n_real
        alliance[3] += n_real

    for r in range(1, rounds + 1):
        k = A.size
        if k == 0:
            break
        u = words(rng, 4, k)
        # Soviet moves: clauses dropped (from round 2), islands, declaration available.
        if r >= 2:
            code -= below(u[0], p["soviet.straits_drop_hazard"]).view(np.uint8) & code & S_BIT
            code -= (below(u[1], p["soviet.alliance_drop_hazard"]).view(np.uint8) << 1) & code & N_BIT
        tc = below(u[2], p_soft).view(np.uint8) + below(u[2], p_four).view(np.uint8)
        late = r >= p["soviet.declaration_switch_round"]
        accept = p["soviet.declaration_accept_late"] if late else p["soviet.declaration_accept_early"]
        available = below(u[3], accept * p["matsumoto.formula_prob"])
        key = (tc << 4).astype(np.intp)
        key += code & 15
        # Dulles: first estimate and the reward. His estimate clamp(Φ + e, 0, 1) is compared with
        # thresholds >= 0 (MODEL.md §4), where the clamp at 0 changes no comparison.
        threatened = (code & THREAT_BIT) != 0
        any_q = bool(threatened.any())
        z = m.z_treaty(key, A, q if any_q else None)
        g = np.take(m.gravity, key)
        est = phi(z)
        est += est_sd * normal(rng, k)
        np.minimum(est, F32(1), out=est)
        reward = est * g > bind
        suez = p["dulles.suez_factor"] if r >= p["dulles.suez_round"] else 1.0
        gain = p["dulles.reward_gain"] * p["dulles.reward_power"] * suez
        A += F32(gain) * reward  # 10x faster than np.add(..., where=reward) here
        np.minimum(A, F32(1), out=A)
        # The support after the reward: for the second estimate (not yet threatened) and the vote
        # (a treaty on offer).
        re = np.flatnonzero(reward & (~threatened | (tc > 0)))
        z[re] = m.z_treaty(key[re], A[re], q[re] if any_q else None)
        if kappa > 0:
            cand = re[~threatened[re]]
            est2 = phi(z[cand])
            est2 += est_sd * normal(rng, cand.size)
            np.minimum(est2, F32(1), out=est2)
            co = cand[est2 * g[cand] > coerce]
            if co.size:
                code[co] |= THREAT_BIT
                c = rng.uniform(p["dulles.credibility_min"], p["dulles.credibility_max"], co.size).astype(F32)
                q[co] = np.minimum(F32(1), c * F32(kappa))
                A[co] = np.maximum(F32(0), A[co] - backlash)
                co = co[tc[co] > 0]
                z[co] = m.z_treaty(key[co], A[co], q[co])
        # Japan votes, in z units (W + ε ≥ θ  <=>  z + ε/σ_v ≥ 0).
        zt = np.full(k, -np.inf, F32)
        on = np.flatnonzero(tc)
        zt[on] = z[on] + normal(rng, on.size)
        zd = np.full(k, -np.inf, F32)
        av = np.flatnonzero(available)
        zd[av] = m.z_declaration(((code[av] >> 2) & 1).astype(np.intp), A[av]) + normal(rng, av.size)
        treaty_ok = zt >= 0
        decl_ok = zd >= 0
        treaty = treaty_ok & (~decl_ok | (zt >= zd))
        decl = decl_ok & ~treaty
        # Runs ending in a deal; the Okinawa claim (probability q) drawn where a threat is in force.
        i = np.flatnonzero(treaty)
        if i.size:
            ci = code[i]
            a = np.maximum(F32(0), A[i] - np.take(m.treaty_cost, ci & 3))
            fmt[2] += i.size
            j = i[(ci & THREAT_BIT) != 0]
            claims = np.count_nonzero(rng.random(j.size, dtype=F32) < q[j])
            okinawa[1] += claims
            okinawa[0] += i.size - claims
            classify(a, ((ci & 3) == 3) & (a < realign))
        i = np.flatnonzero(decl)
        if i.size:
            a = np.maximum(F32(0), A[i] - F32(p["alliance.declaration_cost"]))
            fmt[1] += i.size
            okinawa[0] += i.size
            classify(a)
        # Stalled runs: fisheries pressure, Shigemitsu, drift, the cabinet, the deadline.
        st = np.flatnonzero(~(treaty | decl))
        us = words(rng, 3, st.size)
        cs = code[st]
        cs &= ~np.uint8(F_BIT)
        cs |= below(us[0], p["soviet.fisheries_pressure_prob"]).view(np.uint8) << 2
        if m.softens:
            cs &= ~(below(us[1], p["shigemitsu.soften_hazard"]).view(np.uint8) << 3)
        a = A[st]
        a += drift * normal(rng, st.size)
        np.maximum(a, F32(0), out=a)
        np.minimum(a, F32(1), out=a)
        if r >= rounds:
            fmt[0] += st.size
            okinawa[0] += st.size
            classify(a)
            break
        late = r >= p["hatoyama.fall_switch_round"]
        hazard = p["hatoyama.fall_hazard_late"] if late else p["hatoyama.fall_hazard_early"]
        fell = below(us[2], hazard)
        n_fell = np.count_nonzero(fell)
        fmt[0] += n_fell
        okinawa[0] += n_fell
        classify(a, None, fell)
        keep = np.flatnonzero(~fell)
        A, q, code = a[keep], q[st[keep]], cs[keep]


def simulate(runs: int, seed: int = 1, block: int = BLOCK, params: dict | None = None,
             numpy_normals: bool = False):
    """Counts of format, alliance and okinawa over `runs` histories:
    {"format": [none, declaration, treaty], "alliance": [intact, strained, rupture_neutral,
    rupture_realign], "okinawa": [residual, us_claim]}, each summing to `runs`.

    The runs are played in blocks of `block` (default BLOCK = 65,536, the issue's size; 32,768
    measured the same within noise here, 16,384 and 8,192 0.8x and 0.5x: per-round overhead) from
    one NumPy Generator(SFC64(seed)); the same runs, seed, block and normals give the same counts.
    Normals by Box-Muller (box_muller) unless `numpy_normals`, then NumPy's standard_normal.
    `params`: the scenario as scenario.load() returns it (default: the baseline), with
    realign_below <= rupture_below < strained_below and bind_threshold, coerce_threshold >= 0 as
    MODEL.md §4 requires."""
    p = load() if params is None else params
    m = Model(p)
    rng = np.random.Generator(np.random.SFC64(seed))
    normal = numpy_normal if numpy_normals else box_muller
    counts = {"format": [0] * 3, "alliance": [0] * 4, "okinawa": [0] * 2}
    for first in range(0, runs, block):
        simulate_block(m, min(block, runs - first), rng, counts, normal)
    return counts
