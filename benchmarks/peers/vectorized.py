"""The Tug of War model (MODEL.md) vectorised across runs with NumPy, the way a skilled user
writes it: blocks of 65,536 runs (arrays stay in cache), every round advancing all runs still in
play with masks and compacted index arrays. A peer for benchmarks: it must give the same outcome
distribution as wedge within Monte Carlo error."""
import numpy as np
from scipy_free_erfc import erfc

from scenario import load

BLOCK = 65536


def support(p, w, total, S, N, F, m_sg, A, q, islands, treaty):
    """W for each run: factions along axis 0, runs along axis 1."""
    pressure = 1.0 + p["soviet.fisheries_boost"] * F
    side = p["_side"][:, None] * pressure[None, :]
    if treaty:
        damage = p["japan.damage_treaty"] + p["japan.damage_straits"] * S + p["japan.damage_alliance_clause"] * N
        m = np.broadcast_to(p["_min"][:, None], (5, A.size)).copy()
        m[1] = m_sg
        u = (p["_terr"][:, None] * (islands[None, :] - m) / 4 + side
             - p["_alli"][:, None] * (A * damage)[None, :] - p["_oki"][:, None] * q[None, :])
    else:
        u = side - p["_alli"][:, None] * (A * p["japan.damage_declaration"])[None, :]
    x = np.clip(p["japan.logit_sharpness"] * u, -700, 700)
    return (w[:, None] / (1.0 + np.exp(-x))).sum(axis=0) / total


def simulate_block(p, n, rng):
    w = np.array([f["weight"] for f in p["factions"]])
    p["_side"] = np.array([f["side"] * p["soviet.carrots"] for f in p["factions"]])
    p["_min"] = np.array([f["min_islands"] for f in p["factions"]], dtype=float)
    p["_terr"] = np.array([f["territory"] for f in p["factions"]])
    p["_alli"] = np.array([f["alliance"] for f in p["factions"]])
    p["_oki"] = np.array([f["okinawa"] for f in p["factions"]])
    total = w.sum()
    theta, sd = p["japan.ratify_threshold"], p["japan.vote_noise_sd"]
    fmt = np.zeros(n, np.int8)
    claim = np.zeros(n, np.int8)
    final_A = np.zeros(n)
    final_S = np.zeros(n, bool)
    final_N = np.zeros(n, bool)
    idx = np.arange(n)
    A = np.full(n, p["alliance.initial"])
    S = np.full(n, bool(p["soviet.straits_clause"]))
    N = np.full(n, bool(p["soviet.alliance_clause"]))
    F = np.zeros(n)
    m_sg = np.full(n, float(p["factions"][1]["min_islands"]))
    q = np.zeros(n)
    threatened = np.zeros(n, bool)
    c = rng.uniform(p["dulles.credibility_min"], p["dulles.credibility_max"], n)
    for r in range(1, p["negotiation.rounds"] + 1):
        k = idx.size
        if k == 0:
            break
        u = rng.random((10, k))
        z = rng.standard_normal((5, k))
        if r >= 2:
            S &= ~(u[0] < p["soviet.straits_drop_hazard"])
            N &= ~(u[1] < p["soviet.alliance_drop_hazard"])
        soft = u[2] < p["soviet.soft_line_prob"]
        islands = np.where(soft, np.where(u[3] < p["soviet.four_island_prob"], 4.0, 2.0), 0.0)
        accept = u[4] < (p["soviet.declaration_accept_early"] if r < p["soviet.declaration_switch_round"]
                         else p["soviet.declaration_accept_late"])
        available = accept & (u[5] < p["matsumoto.formula_prob"])
        g = 1 + p["dulles.gravity_straits"] * S + p["dulles.gravity_alliance_clause"] * N
        wt = support(p, w, total, S, N, F, m_sg, A, q, islands, True)
        est = np.clip(0.5 * erfc(-(wt - theta) / sd / np.sqrt(2)) + p["dulles.estimate_noise_sd"] * z[0], 0, 1)
        reward = est * g > p["dulles.bind_threshold"]
        power = p["dulles.reward_power"] * (p["dulles.suez_factor"] if r >= p["dulles.suez_round"] else 1.0)
        A = np.where(reward, np.minimum(1.0, A + p["dulles.reward_gain"] * power), A)
        wt2 = support(p, w, total, S, N, F, m_sg, A, q, islands, True)
        est2 = np.clip(0.5 * erfc(-(wt2 - theta) / sd / np.sqrt(2)) + p["dulles.estimate_noise_sd"] * z[1], 0, 1)
        coerce = reward & (est2 * g > p["dulles.coerce_threshold"]) & ~threatened & (p["dulles.threat_strength"] > 0)
        threatened |= coerce
        q = np.where(coerce, np.minimum(1.0, c * p["dulles.threat_strength"]), q)
        A = np.where(coerce, np.maximum(0.0, A - p["dulles.backlash"] * p["dulles.threat_strength"] * (1 - p["dulles.tact"])), A)
        vt = support(p, w, total, S, N, F, m_sg, A, q, islands, True) + sd * z[2]
        vd = support(p, w, total, S, N, F, m_sg, A, q, islands, False) + sd * z[3]
        treaty_ok = (islands > 0) & (vt >= theta)
        decl_ok = available & (vd >= theta)
        treaty = treaty_ok & (~decl_ok | (vt >= vd))
        decl = decl_ok & ~treaty
        A = np.where(treaty, np.maximum(0.0, A - p["alliance.treaty_cost"] * (1 + S + N)), A)
        A = np.where(decl, np.maximum(0.0, A - p["alliance.declaration_cost"]), A)
        claimed = treaty & (q > 0) & (u[6] < q)
        stall = ~treaty & ~decl
        F = np.where(stall, (u[7] < p["soviet.fisheries_pressure_prob"]).astype(float), F)
        m_sg = np.where(stall & (m_sg == 4) & (u[8] < p["shigemitsu.soften_hazard"]), 2.0, m_sg)
        A = np.where(stall, np.clip(A + p["alliance.drift_sd"] * z[4], 0, 1), A)
        hazard = p["hatoyama.fall_hazard_early"] if r < p["hatoyama.fall_switch_round"] else p["hatoyama.fall_hazard_late"]
        ended = treaty | decl | (stall & ((u[9] < hazard) | (r >= p["negotiation.rounds"])))
        out = idx[ended]
        fmt[out] = np.where(treaty[ended], 2, np.where(decl[ended], 1, 0))
        claim[out] = claimed[ended]
        final_A[out], final_S[out], final_N[out] = A[ended], S[ended], N[ended]
        keep = ~ended
        idx, A, S, N, F, m_sg, q, threatened, c = (idx[keep], A[keep], S[keep], N[keep], F[keep], m_sg[keep],
                                                    q[keep], threatened[keep], c[keep])
    alliance = np.where((fmt == 2) & final_S & final_N & (final_A < p["alliance.realign_below"]), 3,
                        np.where(final_A < p["alliance.rupture_below"], 2,
                                 np.where(final_A < p["alliance.strained_below"], 1, 0)))
    return fmt, alliance, claim


def simulate(runs: int, seed: int = 1):
    """Counts of format, alliance and okinawa over `runs` histories, in blocks of 65,536."""
    p = load()
    rng = np.random.default_rng(seed)
    counts = {"format": np.zeros(3, np.int64), "alliance": np.zeros(4, np.int64), "okinawa": np.zeros(2, np.int64)}
    for start in range(0, runs, BLOCK):
        fmt, alliance, claim = simulate_block(p, min(BLOCK, runs - start), rng)
        counts["format"] += np.bincount(fmt, minlength=3)
        counts["alliance"] += np.bincount(alliance, minlength=4)
        counts["okinawa"] += np.bincount(claim, minlength=2)
    return {k: v.tolist() for k, v in counts.items()}
