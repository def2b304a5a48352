import numpy as np
import pytest

import wedge

# Ishigami function (a = 7, b = 0.1) on [-pi, pi]^3: known first-order and total indices.
S1_TRUE = np.array([0.3139, 0.4424, 0.0])
ST_TRUE = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x):
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_a_function_with_known_indices():
    rng = np.random.default_rng(12345)
    n, d = 20000, 3
    a = rng.uniform(-np.pi, np.pi, (n, d))
    b = rng.uniform(-np.pi, np.pi, (n, d))
    rows = []
    for j in range(n):  # wedge's Saltelli layout: A_j, AB_j^(1..d), B_j
        rows.append(a[j])
        for k in range(d):
            ab = a[j].copy()
            ab[k] = b[j, k]
            rows.append(ab)
        rows.append(b[j])
    y = ishigami(np.array(rows))
    table = wedge.sobol_from_outputs(y, d, n_bootstrap=300, confidence=0.99, seed=1)
    # The true values lie inside the 99% bootstrap intervals (fixed seed).
    assert ((table["S1_low"] <= S1_TRUE) & (S1_TRUE <= table["S1_high"])).all(), table
    assert ((table["ST_low"] <= ST_TRUE) & (ST_TRUE <= table["ST_high"])).all(), table
    with pytest.raises(ValueError):
        wedge.sobol_from_outputs(y[:-1], d)


def test_sobol_indices_from_a_saltelli_results_file(files):
    with wedge.open(files["saltelli"]) as r:
        table = wedge.sobol_indices(r, "format", "treaty", n_bootstrap=200)
        assert list(table.index) == ["dulles.reward_power", "dulles.threat_strength", "dulles.tact"]
        assert (table["ST"] >= -0.05).all()
        # The threat, not the rewards or tact, drives P(treaty) (the sweep's grid shows it too).
        assert table["ST"].idxmax() == "dulles.threat_strength"
    with wedge.open(files["grid"]) as r, pytest.raises(ValueError, match="saltelli"):
        wedge.sobol_indices(r)


def test_main_effects_of_grid_and_lhs_sweeps(files):
    with wedge.open(files["grid"]) as r:
        effects = wedge.main_effects(r, "format", "treaty")
        eta = effects.groupby("key")["eta2"].first()
        assert ((eta >= 0) & (eta <= 1)).all()
        assert eta["dulles.threat_strength"] > eta["dulles.reward_power"]
        means = effects[effects["key"] == "dulles.threat_strength"].set_index("value")["p"]
        assert means.loc[0.0] > means.loc[2.0]
    with wedge.open(files["lhs"]) as r:
        effects = wedge.main_effects(r, "alliance", "intact", bins=4)
        assert set(effects["key"]) == set(r.swept_keys)
        assert (effects.groupby("key")["points"].sum() == 64).all()
    with wedge.open(files["baseline"]) as r, pytest.raises(ValueError, match="sweep"):
        wedge.main_effects(r)
