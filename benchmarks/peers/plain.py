"""The Tug of War model (MODEL.md) the way a Mesa-style user writes it: plain Python, one run at a
time, agents as small objects stepping through the round protocol. A peer for benchmarks: it
must give the same outcome distribution as wedge within Monte Carlo error."""
import math
import random

from scenario import load

FORMATS = ("none", "declaration", "treaty")
ALLIANCE = ("intact", "strained", "rupture_neutral", "rupture_realign")


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


class Japan:
    def __init__(self, p):
        self.p = p
        self.total = sum(f["weight"] for f in p["factions"])

    def support(self, st, islands, treaty):
        p = self.p
        pressure = 1.0 + p["soviet.fisheries_boost"] * st["F"]
        w = 0.0
        for i, f in enumerate(p["factions"]):
            side = f["side"] * p["soviet.carrots"] * pressure
            if treaty:
                m = st["m_sg"] if i == 1 else f["min_islands"]
                damage = p["japan.damage_treaty"] + p["japan.damage_straits"] * st["S"] + p["japan.damage_alliance_clause"] * st["N"]
                u = f["territory"] * (islands - m) / 4 + side - f["alliance"] * st["A"] * damage - f["okinawa"] * st["q"]
            else:
                u = side - f["alliance"] * st["A"] * p["japan.damage_declaration"]
            w += f["weight"] * logistic(p["japan.logit_sharpness"] * u)
        return w / self.total


class Dulles:
    def __init__(self, p, japan):
        self.p, self.japan = p, japan

    def estimate(self, st, islands, rng):
        p = self.p
        w = self.japan.support(st, islands, True)
        phi = 0.5 * math.erfc(-(w - p["japan.ratify_threshold"]) / p["japan.vote_noise_sd"] / math.sqrt(2))
        return min(1.0, max(0.0, phi + rng.gauss(0.0, p["dulles.estimate_noise_sd"])))

    def act(self, st, r, islands, rng):
        p = self.p
        g = 1 + p["dulles.gravity_straits"] * st["S"] + p["dulles.gravity_alliance_clause"] * st["N"]
        if self.estimate(st, islands, rng) * g <= p["dulles.bind_threshold"]:
            return
        reward = p["dulles.reward_power"] * (p["dulles.suez_factor"] if r >= p["dulles.suez_round"] else 1.0)
        st["A"] = min(1.0, st["A"] + p["dulles.reward_gain"] * reward)
        if (self.estimate(st, islands, rng) * g > p["dulles.coerce_threshold"] and p["dulles.threat_strength"] > 0
                and not st["threatened"]):
            st["threatened"] = True
            st["threat_round"] = r
            st["q"] = min(1.0, st["c"] * p["dulles.threat_strength"])
            st["A"] = max(0.0, st["A"] - p["dulles.backlash"] * p["dulles.threat_strength"] * (1 - p["dulles.tact"]))


def run(p, rng):
    """One history; returns (format, alliance, okinawa_claim, rounds, threat_round)."""
    japan = Japan(p)
    dulles = Dulles(p, japan)
    st = {"A": p["alliance.initial"], "S": int(p["soviet.straits_clause"]), "N": int(p["soviet.alliance_clause"]),
          "F": 0, "m_sg": p["factions"][1]["min_islands"], "q": 0.0, "threatened": False, "threat_round": 0,
          "c": rng.uniform(p["dulles.credibility_min"], p["dulles.credibility_max"])}
    fmt, claim, r = 0, 0, 0
    while True:
        r += 1
        if r >= 2:
            if st["S"] and rng.random() < p["soviet.straits_drop_hazard"]:
                st["S"] = 0
            if st["N"] and rng.random() < p["soviet.alliance_drop_hazard"]:
                st["N"] = 0
        islands = (4 if rng.random() < p["soviet.four_island_prob"] else 2) if rng.random() < p["soviet.soft_line_prob"] else 0
        accept = rng.random() < (p["soviet.declaration_accept_early"] if r < p["soviet.declaration_switch_round"]
                                 else p["soviet.declaration_accept_late"])
        available = accept and rng.random() < p["matsumoto.formula_prob"]
        dulles.act(st, r, islands, rng)
        theta, sd = p["japan.ratify_threshold"], p["japan.vote_noise_sd"]
        wt = japan.support(st, islands, True) + rng.gauss(0.0, sd)
        wd = japan.support(st, islands, False) + rng.gauss(0.0, sd) if available else -1.0
        treaty_ok, decl_ok = islands > 0 and wt >= theta, available and wd >= theta
        if treaty_ok and (not decl_ok or wt >= wd):
            fmt = 2
            st["A"] = max(0.0, st["A"] - p["alliance.treaty_cost"] * (1 + st["S"] + st["N"]))
            claim = int(st["q"] > 0 and rng.random() < st["q"])
            break
        if decl_ok:
            fmt = 1
            st["A"] = max(0.0, st["A"] - p["alliance.declaration_cost"])
            break
        st["F"] = int(rng.random() < p["soviet.fisheries_pressure_prob"])
        if st["m_sg"] == 4 and rng.random() < p["shigemitsu.soften_hazard"]:
            st["m_sg"] = 2
        st["A"] = min(1.0, max(0.0, st["A"] + rng.gauss(0.0, p["alliance.drift_sd"])))
        hazard = p["hatoyama.fall_hazard_early"] if r < p["hatoyama.fall_switch_round"] else p["hatoyama.fall_hazard_late"]
        if rng.random() < hazard or r >= p["negotiation.rounds"]:
            break
    a = st["A"]
    if fmt == 2 and st["S"] and st["N"] and a < p["alliance.realign_below"]:
        alliance = 3
    elif a < p["alliance.rupture_below"]:
        alliance = 2
    elif a < p["alliance.strained_below"]:
        alliance = 1
    else:
        alliance = 0
    return fmt, alliance, claim, r, st["threat_round"]


def simulate(runs: int, seed: int = 1):
    """Counts of format, alliance and okinawa over `runs` histories."""
    p = load()
    rng = random.Random(seed)
    counts = {"format": [0] * 3, "alliance": [0] * 4, "okinawa": [0] * 2}
    for _ in range(runs):
        fmt, alliance, claim, _, _ = run(p, rng)
        counts["format"][fmt] += 1
        counts["alliance"][alliance] += 1
        counts["okinawa"][claim] += 1
    return counts
