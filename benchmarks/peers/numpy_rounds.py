"""The round protocol of MODEL.md §2 for the straightforward NumPy peer (vectorized.py; until
2026-11-30 also for skilled.py, which now carries its own faster round): a block's starting state,
each round's draws and Soviet moves, Japan's decision and the end of the round, the outcomes of the
runs that ended, the alliance's final category, and the outcome counts over blocks. Arrays run
along the runs still in play (k of them in a round); the draws come from a NumPy Generator in a
fixed order, so a peer's counts depend only on its seed."""
import numpy as np

BLOCK = 65536


class Outcomes:
    """The outcomes of a block's n runs, filled in as runs end: the format (0 none, 1 declaration,
    2 treaty), the Okinawa claim, and the final alignment A and clauses S, N."""

    def __init__(self, n):
        self.fmt = np.zeros(n, np.int8)
        self.claim = np.zeros(n, np.int8)
        self.A = np.zeros(n)
        self.S = np.zeros(n, bool)
        self.N = np.zeros(n, bool)

    def record(self, idx, ended, treaty, decl, claimed, A, S, N):
        """Stores the runs that ended this round (`idx`: their places in the block); returns the
        positions, among this round's runs, of those still in play."""
        out = idx[ended]
        self.fmt[out] = np.where(treaty[ended], 2, np.where(decl[ended], 1, 0))
        self.claim[out] = claimed[ended]
        self.A[out], self.S[out], self.N[out] = A[ended], S[ended], N[ended]
        return np.flatnonzero(~ended)

    def alliance(self, p):
        """The alliance at the end (0 intact, 1 strained, 2 rupture_neutral, 3 rupture_realign)."""
        return np.where((self.fmt == 2) & self.S & self.N & (self.A < p["alliance.realign_below"]), 3,
                        np.where(self.A < p["alliance.rupture_below"], 2,
                                 np.where(self.A < p["alliance.strained_below"], 1, 0)))


def start(p, n, rng):
    """A block of n runs before round 1: its Outcomes and, per run, the place in the block (idx),
    A, S, N, the threat q in force, whether Dulles has threatened, and the threat's credibility c
    (drawn here, once per run)."""
    idx = np.arange(n)
    A = np.full(n, p["alliance.initial"])
    S = np.full(n, bool(p["soviet.straits_clause"]))
    N = np.full(n, bool(p["soviet.alliance_clause"]))
    q = np.zeros(n)
    threatened = np.zeros(n, bool)
    c = rng.uniform(p["dulles.credibility_min"], p["dulles.credibility_max"], n)
    return Outcomes(n), idx, A, S, N, q, threatened, c


def soviet_moves(p, r, k, rng, S, N):
    """Round r's draws for its k runs (u: 10 x k uniforms, then z: 5 x k normals) and the Soviet
    moves: the clauses' drops (from round 2, in place in S and N), whether the soft line prevails
    and whether it offers four islands, whether a declaration is available (the USSR accepts the
    format and Matsumoto proposes it), and the gravity g Dulles gives the treaty on offer."""
    u = rng.random((10, k))
    z = rng.standard_normal((5, k))
    if r >= 2:
        S &= u[0] >= p["soviet.straits_drop_hazard"]
        N &= u[1] >= p["soviet.alliance_drop_hazard"]
    soft = u[2] < p["soviet.soft_line_prob"]
    four = u[3] < p["soviet.four_island_prob"]
    accept = u[4] < (p["soviet.declaration_accept_early"] if r < p["soviet.declaration_switch_round"]
                     else p["soviet.declaration_accept_late"])
    available = accept & (u[5] < p["matsumoto.formula_prob"])
    g = 1 + p["dulles.gravity_straits"] * S + p["dulles.gravity_alliance_clause"] * N
    return u, z, soft, four, available, g


def reward_power(p, r):
    """Dulles's reward power in round r (reduced from the Suez round on)."""
    return p["dulles.reward_power"] * (p["dulles.suez_factor"] if r >= p["dulles.suez_round"] else 1.0)


def backlash(p):
    """The alignment a threat costs: backlash x kappa x (1 - tact)."""
    return p["dulles.backlash"] * p["dulles.threat_strength"] * (1 - p["dulles.tact"])


def end_round(p, r, u, z, treaty_ok, decl_ok, vt, vd, A, S, N, q):
    """Japan's decision, given which options pass the vote (realized supports vt, vd against θ):
    the treaty when both pass and it has at least the declaration's support (MODEL.md §2.4); the
    deal's cost to A, the Okinawa claim after a treaty under threat, a stalled run's drift of A, and
    whether each run ended (a deal, the cabinet's fall, the deadline). Returns treaty, decl,
    claimed, stall, ended and A after the round."""
    treaty = treaty_ok & (~decl_ok | (vt >= vd))
    decl = decl_ok & ~treaty
    A = np.where(treaty, np.maximum(0.0, A - p["alliance.treaty_cost"] * (1 + S + N)), A)
    A = np.where(decl, np.maximum(0.0, A - p["alliance.declaration_cost"]), A)
    claimed = treaty & (q > 0) & (u[6] < q)
    stall = ~treaty & ~decl
    A = np.where(stall, np.clip(A + p["alliance.drift_sd"] * z[4], 0, 1), A)
    hazard = p["hatoyama.fall_hazard_early"] if r < p["hatoyama.fall_switch_round"] else p["hatoyama.fall_hazard_late"]
    ended = treaty | decl | (stall & ((u[9] < hazard) | (r >= p["negotiation.rounds"])))
    return treaty, decl, claimed, stall, ended, A


def count_outcomes(runs, seed, simulate_block):
    """Counts of format, alliance and okinawa over `runs` histories, in blocks of 65,536:
    simulate_block(n, rng) plays n runs and returns their (format, alliance, claim) arrays."""
    rng = np.random.default_rng(seed)
    counts = {"format": np.zeros(3, np.int64), "alliance": np.zeros(4, np.int64), "okinawa": np.zeros(2, np.int64)}
    for first in range(0, runs, BLOCK):
        fmt, alliance, claim = simulate_block(min(BLOCK, runs - first), rng)
        counts["format"] += np.bincount(fmt, minlength=3)
        counts["alliance"] += np.bincount(alliance, minlength=4)
        counts["okinawa"] += np.bincount(claim, minlength=2)
    return {k: v.tolist() for k, v in counts.items()}
