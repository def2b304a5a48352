import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import wedge  # noqa: E402
from wedge import discovery  # noqa: E402


def synthetic(runs=400, p_in=0.8, p_out=0.1, m=1000, seed=0):
    """Points uniform on [0, 1]^3; P = p_in inside the answer box a >= 0.6, b <= 0.3 (any c),
    p_out outside; k successes of `runs` binomial runs at each point."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((m, 3)), columns=["a", "b", "c"])
    inside = (x["a"] >= 0.6) & (x["b"] <= 0.3)
    p = np.where(inside, p_in, p_out)
    return x, inside.to_numpy(), rng.binomial(runs, p), np.full(m, runs)


def test_prim_finds_the_known_box():
    x, inside, k, n = synthetic()
    y, draws, cases = discovery.cases_of_interest(k, n, 0.5)
    assert (cases["straddles"] == 0).all()  # 400 runs: every point clear of the threshold
    box = discovery.Prim(x, y, draws=draws).find_box()
    limits = box.limits()
    # a and b restricted, c not; the limits within the points' spacing (1000 points: ~0.02) of
    # the true edges.
    assert list(limits.index) == ["a", "b"], limits
    assert abs(limits.loc["a", "lower"] - 0.6) < 0.02 and limits.loc["a", "upper"] == x["a"].max()
    assert abs(limits.loc["b", "upper"] - 0.3) < 0.02 and limits.loc["b", "lower"] == x["b"].min()
    assert box.coverage > 0.97 and box.density > 0.97
    assert box.mass == pytest.approx(inside.mean(), abs=0.01)
    # The trajectory starts from the whole design and trades coverage for density.
    t = box.peeling_trajectory
    assert t.loc[0, "mass"] == 1 and t.loc[0, "coverage"] == 1 and t.loc[0, "res_dim"] == 0
    assert t.loc[0, "density"] == pytest.approx(y.mean())
    assert (np.diff(t.loc[t["pasted"] == False, "mass"]) < 0).all()  # noqa: E712
    assert t["mass"].min() >= 0.05
    # The user can select another box; printing and saving work.
    text = str(box.select(3))
    assert text.startswith("PRIM box 3 of") and "coverage" in text
    saved = json.loads(json.dumps(box.to_dict()))
    assert saved["selected"] == 3 and len(saved["trajectory"]) == len(t)


def test_cart_finds_the_known_box():
    x, inside, k, n = synthetic()
    y, draws, _ = discovery.cases_of_interest(k, n, 0.5)
    cart = discovery.CartResult(x, y, draws, max_depth=3)
    leaves = cart.boxes[cart.boxes["of_interest"]]
    assert len(leaves) == 1
    leaf = int(leaves["id"].iloc[0])
    limits = cart.limits(leaf)
    assert list(limits.index) == ["a", "b"]
    assert abs(limits.loc["a", "lower"] - 0.6) < 0.02 and abs(limits.loc["b", "upper"] - 0.3) < 0.02
    assert leaves["coverage"].iloc[0] > 0.97 and leaves["density"].iloc[0] > 0.97
    assert "CART leaf" in str(cart) and "a <=" in cart.rules
    json.dumps(cart.to_dict())


def test_points_straddling_the_threshold():
    # 40 runs at p = 0.55 inside and 0.35 outside, threshold 0.5: many points' intervals straddle.
    x, inside, k, n = synthetic(runs=40, p_in=0.55, p_out=0.35)
    labels = {mode: discovery.cases_of_interest(k, n, 0.5, mode)[0] for mode in discovery.STRADDLING}
    _, draws, cases = discovery.cases_of_interest(k, n, 0.5)
    assert cases["straddles"].mean() > 0.5
    assert (labels["out"] <= labels["estimate"]).all() and (labels["estimate"] <= labels["in"]).all()
    assert labels["out"].sum() < labels["weight"].sum() < labels["in"].sum()
    # weight = the posterior probability of p >= threshold: 1/2 for k/n exactly at it (Jeffreys'
    # prior is symmetric), near 0 and 1 far from it.
    w = discovery.cases_of_interest(np.array([20, 0, 40]), np.array([40, 40, 40]), 0.5)[0]
    assert w[0] == pytest.approx(0.5) and w[1] < 1e-6 and w[2] > 1 - 1e-6
    # The box's statistics now carry the Monte Carlo uncertainty of the points.
    box = discovery.Prim(x, labels["weight"], draws=draws).find_box()
    s = box.stats()
    assert s["coverage_low"] < s["coverage"] < s["coverage_high"]
    assert s["density_low"] < s["density"] < s["density_high"]
    assert s["density_high"] - s["density_low"] > 0.02
    for i in range(len(box.box_lims)):  # every box of the trajectory has drawable intervals
        xerr, yerr = box.error_bars(i)
        assert (xerr >= 0).all() and (yerr >= 0).all()
    matplotlib.pyplot.close(box.select(len(box.box_lims) - 1).plot_trajectory())
    with pytest.raises(ValueError, match="straddling"):
        discovery.cases_of_interest(k, n, 0.5, "maybe")
    with pytest.raises(ValueError, match="threshold"):
        discovery.cases_of_interest(k, n, 1.5)


def test_discover_on_an_engine_sweep(files, tmp_path):
    with wedge.open(files["lhs"]) as r:
        box = wedge.discover(r, "format", "treaty", threshold=0.2)
        cart = wedge.discover(r, "format", "treaty", threshold=0.2, method="cart")
        with pytest.raises(KeyError, match="no category"):
            wedge.discover(r, "format", "peace", 0.2)
        with pytest.raises(ValueError, match="method"):
            wedge.discover(r, "format", "treaty", 0.2, method="svm")
        table = r.summary(["format"])
    # P(treaty) falls with the threat's strength (the LHS's main effect): the box bounds the
    # threat from above, and holds the points whose P(treaty) is high.
    limits = box.limits()
    assert "dulles.threat_strength" in limits.index
    assert limits.loc["dulles.threat_strength", "upper"] < limits.loc["dulles.threat_strength", "max"]
    p = table[table["category"] == "treaty"].set_index("point")["p"]
    assert (box.cases["p"].to_numpy() == p.sort_index().to_numpy()).all()
    assert box.density > box.peeling_trajectory.loc[0, "density"]
    assert "P(format = treaty) >= 0.2" in str(box) or "threshold=0.2" in str(box)
    assert "coverage" in str(cart)
    for fig, name in ((box.plot_trajectory(), "t.png"), (box.plot_box(), "b.png"), (cart.plot(), "c.png")):
        fig.savefig(tmp_path / name)
        assert (tmp_path / name).stat().st_size > 5000
    with wedge.open(files["baseline"]) as r, pytest.raises(ValueError, match="sweep"):
        wedge.discover(r, "format", "treaty", 0.2)


def test_box_intervals_hold_their_estimates():
    # Three certain cases of interest inside the box, one outside, and one point whose status is
    # 1 with probability 0.0005: coverage = 3 / 4.0005 = 0.74991, but nearly every redraw gives
    # 3/4, so the percentiles alone were [0.750, 0.750] and missed the estimate.
    y = np.array([1.0, 1.0, 1.0, 1.0, 0.0005])
    member = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    draws = (np.random.default_rng(0).random((1000, 5)) < y[None, :]).astype(float)
    s = discovery._stats(member, y, draws)
    assert s["coverage"][0] == pytest.approx(3 / 4.0005)
    for name in ("coverage", "density"):
        assert (s[f"{name}_low"] <= s[name]).all() and (s[name] <= s[f"{name}_high"]).all(), (name, s)
    # The same invariant on every box of a PRIM trajectory with straddling points (few runs).
    x, _, k, n = synthetic(runs=30)
    yw, dw, cases = discovery.cases_of_interest(k, n, 0.5)
    assert cases["straddles"].any()
    t = discovery.Prim(x, yw, draws=dw).find_box().peeling_trajectory
    for name in ("coverage", "density"):
        assert ((t[f"{name}_low"] <= t[name]) & (t[name] <= t[f"{name}_high"])).all(), name
