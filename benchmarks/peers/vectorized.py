"""The Tug of War model (MODEL.md) vectorised across runs with NumPy, the way a skilled user
writes it: blocks of 65,536 runs (arrays stay in cache), every round advancing all runs still in
play with masks and compacted index arrays. A peer for benchmarks: it must give the same outcome
distribution as wedge within Monte Carlo error."""
import numpy as np
from scipy_free_erfc import erfc

from numpy_rounds import backlash, count_outcomes, end_round, reward_power, soviet_moves, start
from scenario import load


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
    outcomes, idx, A, S, N, q, threatened, c = start(p, n, rng)
    F = np.zeros(n)
    m_sg = np.full(n, float(p["factions"][1]["min_islands"]))
    for r in range(1, p["negotiation.rounds"] + 1):
        k = idx.size
        if k == 0:
            break
        u, z, soft, four, available, g = soviet_moves(p, r, k, rng, S, N)
        islands = np.where(soft, np.where(four, 4.0, 2.0), 0.0)
        wt = support(p, w, total, S, N, F, m_sg, A, q, islands, True)
        est = np.clip(0.5 * erfc(-(wt - theta) / sd / np.sqrt(2)) + p["dulles.estimate_noise_sd"] * z[0], 0, 1)
        reward = est * g > p["dulles.bind_threshold"]
        A = np.where(reward, np.minimum(1.0, A + p["dulles.reward_gain"] * reward_power(p, r)), A)
        wt2 = support(p, w, total, S, N, F, m_sg, A, q, islands, True)
        est2 = np.clip(0.5 * erfc(-(wt2 - theta) / sd / np.sqrt(2)) + p["dulles.estimate_noise_sd"] * z[1], 0, 1)
        coerce = reward & (est2 * g > p["dulles.coerce_threshold"]) & ~threatened & (p["dulles.threat_strength"] > 0)
        threatened |= coerce
        q = np.where(coerce, np.minimum(1.0, c * p["dulles.threat_strength"]), q)
        A = np.where(coerce, np.maximum(0.0, A - backlash(p)), A)
        vt = support(p, w, total, S, N, F, m_sg, A, q, islands, True) + sd * z[2]
        vd = support(p, w, total, S, N, F, m_sg, A, q, islands, False) + sd * z[3]
        treaty_ok = (islands > 0) & (vt >= theta)
        decl_ok = available & (vd >= theta)
        treaty, decl, claimed, stall, ended, A = end_round(p, r, u, z, treaty_ok, decl_ok, vt, vd, A, S, N, q)
        F = np.where(stall, (u[7] < p["soviet.fisheries_pressure_prob"]).astype(float), F)
        m_sg = np.where(stall & (m_sg == 4) & (u[8] < p["shigemitsu.soften_hazard"]), 2.0, m_sg)
        keep = outcomes.record(idx, ended, treaty, decl, claimed, A, S, N)
        idx, A, S, N, F, m_sg, q, threatened, c = (idx[keep], A[keep], S[keep], N[keep], F[keep], m_sg[keep],
                                                    q[keep], threatened[keep], c[keep])
    return outcomes.fmt, outcomes.alliance(p), outcomes.claim


def simulate(runs: int, seed: int = 1):
    """Counts of format, alliance and okinawa over `runs` histories, in blocks of 65,536."""
    p = load()
    return count_outcomes(runs, seed, lambda n, rng: simulate_block(p, n, rng))
