import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import wedge
from wedge import sensitivity

# Ishigami function (a = 7, b = 0.1) on [-pi, pi]^3: known first-order and total indices.
S1_TRUE = np.array([0.3139, 0.4424, 0.0])
ST_TRUE = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x):
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def saltelli_rows(a, b):
    """wedge's (and SALib's) Saltelli layout: per base point j, A_j, AB_j^(1..d), B_j."""
    n, d = a.shape
    rows = np.repeat(a[:, None, :], d + 2, axis=1)
    rows[:, d + 1] = b
    for k in range(d):
        rows[:, k + 1, k] = b[:, k]
    return rows.reshape(-1, d)


def inside(table, name, truth):
    return (table[f"{name}_low"] <= truth) & (truth <= table[f"{name}_high"])


def test_sobol_indices_of_the_ishigami_function():
    rng = np.random.default_rng(12345)
    n, d = 4096, 3
    y = ishigami(saltelli_rows(rng.uniform(-np.pi, np.pi, (n, d)), rng.uniform(-np.pi, np.pi, (n, d))))
    table = wedge.sobol_from_outputs(y, d, n_bootstrap=500, confidence=0.99, seed=1)
    # The true values lie inside the 99% bootstrap intervals (fixed seed), and the intervals are
    # narrow enough for that to mean something.
    assert inside(table, "S1", S1_TRUE).all(), table
    assert inside(table, "ST", ST_TRUE).all(), table
    assert ((table["S1_high"] - table["S1_low"]) < 0.12).all()
    assert ((table["ST_high"] - table["ST_low"]) < 0.12).all()
    # A deterministic function: nothing to correct, no noise.
    assert np.allclose(table["S1"], table["S1_uncorrected"]) and (table["noise_share"] == 0).all()
    # x3 has no first-order effect: its interval contains 0 and it is flagged.
    assert table.loc[2, "S1_noise"] and not table.loc[0, "S1_noise"]
    with pytest.raises(ValueError, match="multiple"):
        wedge.sobol_from_outputs(y[:-1], d)


def test_sobol_indices_of_the_g_function():
    # Sobol's G-function: prod_i (|4 x_i - 2| + a_i) / (1 + a_i) on [0, 1]^d, with
    # V_i = 1 / (3 (1 + a_i)^2), S1_i = V_i / V, ST_i = V_i prod_{j != i} (1 + V_j) / V.
    a_coef = np.array([0.0, 0.5, 3.0, 9.0, 99.0, 99.0])
    vi = 1 / (3 * (1 + a_coef) ** 2)
    v = np.prod(1 + vi) - 1
    s1_true = vi / v
    st_true = vi * np.prod(1 + vi) / (1 + vi) / v
    rng = np.random.default_rng(7)
    n, d = 4096, len(a_coef)
    x = saltelli_rows(rng.random((n, d)), rng.random((n, d)))
    y = np.prod((np.abs(4 * x - 2) + a_coef) / (1 + a_coef), axis=1)
    table = wedge.sobol_from_outputs(y, d, n_bootstrap=500, confidence=0.99, seed=2)
    assert inside(table, "S1", s1_true).all(), table
    assert inside(table, "ST", st_true).all(), table
    assert ((table["ST_high"] - table["ST_low"]) < 0.15).all()


def test_the_estimator_is_centred():
    # A constant added to every output changes no index and no interval (the uncentred estimator
    # of Saltelli 2010 would widen its intervals by the constant times mean(AB - A)).
    rng = np.random.default_rng(3)
    y = ishigami(saltelli_rows(rng.uniform(-np.pi, np.pi, (256, 3)), rng.uniform(-np.pi, np.pi, (256, 3))))
    base = wedge.sobol_from_outputs(y, 3, n_bootstrap=200, seed=4)
    shifted = wedge.sobol_from_outputs(y + 1000.0, 3, n_bootstrap=200, seed=4)
    cols = ["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
    assert np.allclose(base[cols], shifted[cols], atol=1e-6)


def linear_probability(x):
    # p(x) = 0.2 + 0.3 x1 + 0.15 x2 (+ 0 x3) on [0, 1]^3: additive, so S1 = ST = (0.8, 0.2, 0).
    return 0.2 + 0.3 * x[:, 0] + 0.15 * x[:, 1]


P_S_TRUE = np.array([0.8, 0.2, 0.0])


def test_noise_corrected_intervals_have_their_coverage():
    # 100 independent experiments (300 base points, 50 binomial runs per point): the 95% intervals
    # of the corrected indices contain the true indices of p about 95% of the time (4 binomial
    # standard deviations: >= 86%), while the uncorrected ST of the key with no effect never does.
    hits, raw_hits, reps = np.zeros((2, 3)), 0, 100
    for rep in range(reps):
        rng = np.random.default_rng(500 + rep)
        p = linear_probability(saltelli_rows(rng.random((300, 3)), rng.random((300, 3))))
        k = rng.binomial(50, p)
        t = wedge.sobol_from_outputs(k / 50, 3, n_bootstrap=200, seed=rep, warn=False,
                                     noise_var=sensitivity.binomial_noise_var(k, np.full(k.size, 50)))
        hits += [inside(t, "S1", P_S_TRUE), inside(t, "ST", P_S_TRUE)]
        raw_hits += t.loc[2, "ST_uncorrected"] <= 0
    assert (hits / reps >= 0.95 - 4 * np.sqrt(0.95 * 0.05 / reps)).all(), hits
    assert raw_hits == 0


def test_noise_correction_recovers_the_indices_of_the_probability():
    # (A seed whose 99% intervals hold the truth; the test above checks how often they do.)
    rng = np.random.default_rng(12)
    n, d, runs = 4000, 3, 50
    p = linear_probability(saltelli_rows(rng.random((n, d)), rng.random((n, d))))
    k = rng.binomial(runs, p)
    y = k / runs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = wedge.sobol_from_outputs(y, d, n_bootstrap=500, confidence=0.99, seed=5,
                                         noise_var=sensitivity.binomial_noise_var(k, np.full(y.size, runs)),
                                         runs=runs, label="P(test)")
    # Corrected: the true indices of p are inside the 99% intervals.
    assert inside(table, "S1", P_S_TRUE).all(), table
    assert inside(table, "ST", P_S_TRUE).all(), table
    # Uncorrected: noise inflates Var(Y) (S1 too small) and the ST numerators (ST too large);
    # both lie outside the corrected intervals, and far from the truth.
    assert table.loc[0, "S1_uncorrected"] < table.loc[0, "S1_low"]
    assert table.loc[0, "S1_uncorrected"] < P_S_TRUE[0] - 0.2
    assert (table["ST_uncorrected"] > table["ST_high"]).all()
    assert (table["ST_uncorrected"][1:] > P_S_TRUE[1:] + 0.2).all()
    # The noise share: E[p(1-p)/n] / (Var(p) + E[p(1-p)/n]) for this p and n.
    noise = np.mean(p * (1 - p)) / runs
    share_true = noise / (np.var(p) + noise)
    assert table.attrs["noise_share_low"] <= share_true <= table.attrs["noise_share_high"]
    # The key with no effect: intervals contain 0 and the noise flag is set; the others are not.
    assert table.loc[2, "S1_low"] <= 0 <= table.loc[2, "S1_high"]
    assert table.loc[2, "ST_low"] <= 0 <= table.loc[2, "ST_high"]
    assert table.loc[2, "S1_noise"] and table.loc[2, "ST_noise"]
    assert not table.loc[0, "ST_noise"] and not table.loc[1, "ST_noise"]
    # A third of Var(Y) is noise: one warning names the runs per point that would bring it to 5%.
    messages = [str(w.message) for w in caught if issubclass(w.category, sensitivity.SensitivityWarning)]
    expected = (f"P(test): {table.attrs['noise_share']:.0%} of Var(Y) is Monte Carlo noise at 50 runs per "
                f"point; --runs {int(np.ceil(sensitivity.runs_for_noise_share(table.attrs['noise_share'], 50) / 1000)) * 1000}"
                " would bring it to 5%")
    assert expected in messages and len(messages) == 1, messages


def test_noise_correction_from_records_with_common_random_numbers():
    # Replicate r shares a latent normal across points (common random numbers): the noise of
    # different points is correlated, which the binomial correction ignores. The covariances
    # estimated from the per-replicate outputs remove the bias: averaged over independent
    # experiments, the corrected ST recovers the truth within 4 standard errors; the binomial
    # correction does not.
    d, n, runs, rho, reps = 3, 400, 40, 0.8, 30
    records, binomial = [], []
    for rep in range(reps):
        rng = np.random.default_rng(1000 + rep)
        p = linear_probability(saltelli_rows(rng.random((n, d)), rng.random((n, d))))
        shared = rng.standard_normal(runs)
        latent = rho * shared[None, :] + np.sqrt(1 - rho ** 2) * rng.standard_normal((p.size, runs))
        y_r = (latent < norm.ppf(p)[:, None]).astype(float)
        y = y_r.mean(axis=1)
        records.append(wedge.sobol_from_outputs(y, d, n_bootstrap=20, replicates=y_r, warn=False)["ST"].to_numpy())
        binomial.append(wedge.sobol_from_outputs(y, d, n_bootstrap=20, warn=False,
                                                 noise_var=sensitivity.binomial_noise_var(y * runs, np.full(y.size, runs)))
                        ["ST"].to_numpy())
    records, binomial = np.array(records), np.array(binomial)
    se = records.std(axis=0, ddof=1) / np.sqrt(reps)
    assert (np.abs(records.mean(axis=0) - P_S_TRUE) < 4 * se + 1e-3).all(), (records.mean(axis=0), se)
    assert (np.abs(binomial.mean(axis=0) - P_S_TRUE) > 10 * se).any()


def test_warnings_for_indices_outside_0_1_and_undefined_indices():
    # Outputs built so that f(B)(f(AB) - f(A)) < 0 at every base point: S1 below 0 beyond its interval.
    c = np.linspace(1, 2, 50)
    y = np.column_stack([c, -c, c]).ravel()  # A = c, AB = -c, B = c (d = 1)
    with pytest.warns(sensitivity.SensitivityWarning, match=r"Y: S1 of 0 = .* lies below 0 beyond its 95% interval"):
        table = wedge.sobol_from_outputs(y, 1, n_bootstrap=100)
    assert table.loc[0, "S1_high"] < 0
    with pytest.warns(sensitivity.SensitivityWarning, match="does not vary"):
        flat = wedge.sobol_from_outputs(np.ones(30), 1, n_bootstrap=100)
    assert flat["S1"].isna().all()


def test_sobol_indices_from_a_saltelli_results_file(files):
    with wedge.open(files["saltelli"]) as r, warnings.catch_warnings():
        warnings.simplefilter("ignore", sensitivity.SensitivityWarning)
        table = wedge.sobol_indices(r, "format", "treaty", n_bootstrap=200)
        assert list(table.index) == ["dulles.reward_power", "dulles.threat_strength", "dulles.tact"]
        assert (table["ST"] >= -0.05).all()
        # The threat, not the rewards or tact, drives P(treaty) (the sweep's grid shows it too).
        assert table["ST"].idxmax() == "dulles.threat_strength"
        assert not table.loc["dulles.threat_strength", "ST_noise"]
        # Noise: binomial (the file has no common random numbers), a small share at 1000 runs.
        assert table.attrs["noise_method"] == "binomial"
        assert 0 < table.attrs["noise_share"] < 0.2
        # Degenerate base points (A = B) are left out, whether or not the design has them.
        x = r.design.sort_index().to_numpy().reshape(-1, 5, 3)
        assert table.attrs["dropped_base_points"] == int(np.all(x[:, 0] == x[:, 4], axis=1).sum())
        assert table.attrs["base_points"] == len(x) - table.attrs["dropped_base_points"]
        # Every category of format and alliance at once; equal to the one-category call.
        all_of_them = wedge.sobol_table(r, ("format", "alliance"), n_bootstrap=200)
        assert set(zip(all_of_them["outcome"], all_of_them["category"])) == \
            {(o, c) for o in ("format", "alliance") for c in r.fields[o]}
        treaty = all_of_them[all_of_them["category"] == "treaty"].set_index("key")
        assert np.allclose(treaty[["S1", "ST", "S1_low", "ST_high"]], table[["S1", "ST", "S1_low", "ST_high"]])
        # The records estimate agrees with the binomial one when points have their own streams.
        rec = wedge.sobol_indices(r, "format", "treaty", n_bootstrap=200, noise="records")
        assert rec.attrs["noise_method"] == "records"
        assert abs(rec.attrs["noise_share"] - table.attrs["noise_share"]) < 0.5 * table.attrs["noise_share"] + 1e-3
        with pytest.raises(KeyError, match="no category"):
            wedge.sobol_indices(r, "format", "peace")
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


def test_main_effects_noise_reference_flags_a_key_with_no_effect(files):
    with wedge.open(files["lhs"]) as r:
        k, n = sensitivity._counts(r, "format", "treaty")
        y = k / n
        design = r.design.sort_index().copy()
        effects = wedge.main_effects(r, "format", "treaty").groupby("key").first()
        table = wedge.main_effects_table(r)
        assert set(zip(table["outcome"], table["category"])) == \
            {(o, c) for o in ("format", "alliance", "okinawa") for c in r.fields[o]}
    # The threat drives P(treaty) far above the reference.
    assert not effects.loc["dulles.threat_strength", "below_noise"]
    assert effects.loc["dulles.threat_strength", "eta2"] > 3 * effects.loc["dulles.threat_strength", "eta2_ref"]
    # 8 bins of 64 points: a key with no effect scores about (8 - 1)/(64 - 1) = 0.11 (the issue's
    # dummy key), which the permutation reference reproduces.
    assert abs(effects["eta2_null"] - 7 / 63).max() < 0.01
    # Random dummy keys: their mean eta^2 is the reference's mean, and about 5% of them exceed
    # the 95% reference (binomial tolerance: 4 standard deviations of 200 draws).
    rng = np.random.default_rng(42)
    scores, above = [], 0
    for i in range(200):
        design["dummy"] = rng.random(len(design))
        row = wedge.main_effects_from_outputs(design[["dummy"]], y, n_permutations=200, seed=i).iloc[0]
        scores.append(row["eta2"])
        above += not row["below_noise"]
    assert abs(np.mean(scores) - 7 / 63) < 4 * np.std(scores) / np.sqrt(200)
    assert abs(above - 10) <= 4 * np.sqrt(200 * 0.05 * 0.95), above
    # The seeded dummy of the kind lands under the reference.
    design["dummy"] = np.random.default_rng(0).random(len(design))
    dummy = wedge.main_effects_from_outputs(design, y).groupby("key").first().loc["dummy"]
    assert dummy["below_noise"] and dummy["eta2"] <= dummy["eta2_ref"]


def test_runs_for_noise_share():
    # share 0.5 at 1000 runs: noise variance must fall 19-fold to make 5% of the total.
    assert sensitivity.runs_for_noise_share(0.5, 1000) == pytest.approx(19000)
    assert sensitivity.runs_for_noise_share(0.01, 1000) == 1000
    assert sensitivity.runs_for_noise_share(1.0, 1000) == np.inf
    frame = pd.DataFrame({"a": [0.0, 1.0] * 10})
    with pytest.raises(ValueError, match="outputs"):
        wedge.main_effects_from_outputs(frame, np.ones(5))


def test_grid_noise_reference_detects_small_effects_a_permutation_misses():
    # A balanced 4 x 4 grid, 400 binomial runs per point: P = 0.2 + 0.4 a + 0.06 b (+ 0 c via a
    # third factor of 2 levels). b's effect is small but real; c has none. In a balanced grid a
    # key with no effect differs between its levels by replicate noise only, so the noise
    # reference flags c and not b; permuting the outputs (the reference for random designs) lets
    # a's large effect leak into b's levels and misses b.
    levels = np.linspace(0, 1, 4)
    a, b, c = (g.ravel() for g in np.meshgrid(levels, levels, [0.0, 1.0], indexing="ij"))
    design = pd.DataFrame({"a": a, "b": b, "c": c})
    p = 0.2 + 0.4 * a + 0.06 * b
    runs = 400
    below = {"b": 0, "c": 0}
    missed_by_permutation = 0
    reps = 100
    for rep in range(reps):
        k = np.random.default_rng(700 + rep).binomial(runs, p)
        y = k / runs
        nv = sensitivity.binomial_noise_var(k, np.full(k.size, runs))
        noise = wedge.main_effects_from_outputs(design, y, nv, n_permutations=200, seed=rep,
                                                reference="noise").groupby("key").first()
        perm = wedge.main_effects_from_outputs(design, y, nv, n_permutations=200, seed=rep).groupby("key").first()
        for key in below:
            below[key] += noise.loc[key, "below_noise"]
        missed_by_permutation += perm.loc["b", "below_noise"]
        assert not noise.loc["a", "below_noise"]
    assert below["b"] <= 5  # b is detected nearly always
    assert below["c"] >= 95 - 4 * np.sqrt(reps * 0.05 * 0.95)  # c under its 95% reference ~95% of the time
    assert missed_by_permutation >= 90


def test_grid_main_effects_of_the_engine(files):
    # The example: reward power's effect on the alliance (eta² about 0.2 on the grid)
    # must show, and the grid (common random numbers, records stored) uses the records' noise.
    with wedge.open(files["grid"]) as r:
        effects = wedge.main_effects(r, "alliance", "intact").groupby("key").first()
    assert (effects["reference"] == "noise").all()
    reward = effects.loc["dulles.reward_power"]
    assert 0.1 < reward["eta2"] < 0.35 and not reward["below_noise"]
    assert reward["eta2_ref"] < 0.05
    assert 0 <= reward["noise_share"] < 0.05


# -- faults found by the fresh-clone verification (issue 12) -------------------------------------

# P(alliance = rupture_realign) on experiments/sweeps/binding_saltelli.toml with points = 32
# (160 points x 10,000 runs, seed 17): 33 events in 1.6M runs, at these design points.
RUPTURE_REALIGN = {16: 1, 18: 1, 67: 2, 85: 13, 86: 2, 102: 1, 108: 1, 132: 1, 134: 3, 146: 1, 147: 2, 148: 4,
                   149: 1}


def rupture_realign_outputs():
    k = np.zeros(160)
    for point, count in RUPTURE_REALIGN.items():
        k[point] = count
    n = np.full(160, 10000.0)
    return k / n, sensitivity.binomial_noise_var(k, n)


def test_an_outcome_too_rare_for_the_design_is_flagged_unreliable():
    y, nv = rupture_realign_outputs()
    with pytest.warns(sensitivity.SensitivityWarning, match=r"rests on about 1\.1 of 32 base points.*unreliable") as w:
        table = wedge.sobol_from_outputs(y, 3, noise_var=nv, label="P(alliance = rupture_realign)")
    # Before the fix these read ST 1.065 [0, 118.3] with no warning (the noise share, 0.096, is
    # just under 10%): every index is now flagged, and its interval is not read as an estimate.
    assert table.loc[2, "ST_high"] > 100 and table.attrs["noise_share"] < sensitivity.NOISE_WARN
    assert table["S1_unreliable"].all() and table["ST_unreliable"].all()
    assert table.attrs["effective_base_points"] < sensitivity.MIN_EFFECTIVE_BASE_POINTS
    assert all(x.filename == __file__ for x in w)  # the warning names this line, not sensitivity.py
    # A well-sampled output (Ishigami, 256 base points) is not flagged: no false alarm.
    rng = np.random.default_rng(3)
    ish = ishigami(saltelli_rows(rng.uniform(-np.pi, np.pi, (256, 3)), rng.uniform(-np.pi, np.pi, (256, 3))))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sensitivity.SensitivityWarning)
        good = wedge.sobol_from_outputs(ish, 3, n_bootstrap=300)
    assert not good["S1_unreliable"].any() and not good["ST_unreliable"].any()
    assert good.attrs["effective_base_points"] > 50


def test_noise_flags_take_a_numerically_zero_lower_bound_as_zero():
    # The same outputs: ST_low of the second key is 1.9e-15 (a resample without the base points
    # that vary, up to rounding), which a strict "> 0" read as a key told apart from noise.
    y, nv = rupture_realign_outputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sensitivity.SensitivityWarning)
        table = wedge.sobol_from_outputs(y, 3, noise_var=nv)
    assert 0 < table.loc[1, "ST_low"] < 1e-12
    assert table["ST_noise"].all()
    # A clear effect still counts as one (Ishigami: x1 and x2 have ST far from 0).
    rng = np.random.default_rng(4)
    ish = ishigami(saltelli_rows(rng.uniform(-np.pi, np.pi, (256, 3)), rng.uniform(-np.pi, np.pi, (256, 3))))
    good = wedge.sobol_from_outputs(ish, 3, n_bootstrap=300)
    assert not good.loc[0, "ST_noise"] and not good.loc[1, "ST_noise"]


def test_an_index_above_1_by_more_than_its_standard_error_warns():
    # Y = x1 + small replicate noise, 32 base points (d = 3): the true S1 of x1 is 1 and the others
    # 0. With seed 4 (the first of 0..199 where it happens) S1 of x1 comes out at 1.236
    # [0.880, 1.586]: above 1 by more than its bootstrap standard error while its interval still
    # reaches below 1, the case the old "whole interval outside [0, 1]" rule let through (from
    # the engine: S1 of threat = 1.221 [0.845, 1.648], no warning).
    d, n = 3, 32
    rng = np.random.default_rng(4)
    y = saltelli_rows(rng.random((n, d)), rng.random((n, d)))[:, 0] + rng.normal(0, 0.03, n * (d + 2))
    with pytest.warns(sensitivity.SensitivityWarning, match=r"Y: S1 of 0 = .* lies above 1 by more than its standard "
                                                             r"error .*use more base points than 32"):
        t = wedge.sobol_from_outputs(y, d, n_bootstrap=400, noise_var=np.full(y.size, 0.03 ** 2))
    se = (t.loc[0, "S1_high"] - t.loc[0, "S1_low"]) / (2 * 1.96)
    assert t.loc[0, "S1_low"] < 1 < t.loc[0, "S1"] - se
    assert t.loc[0, "S1_unreliable"]
    # The keys with no effect are not warned about, though their estimates may fall below 0.
    assert not t.loc[[1, 2], "S1_unreliable"].any()


def test_the_report_uses_the_api_defaults():
    import inspect

    from wedge import report
    assert inspect.signature(report.write_report).parameters["n_bootstrap"].default == sensitivity.N_BOOTSTRAP
    assert inspect.signature(wedge.sobol_table).parameters["n_bootstrap"].default == sensitivity.N_BOOTSTRAP
    assert inspect.signature(wedge.sobol_indices).parameters["n_bootstrap"].default == sensitivity.N_BOOTSTRAP
    # test_report.py::test_report_in_a_browser checks that the page's Sobol table equals
    # sobol_table(...) with these defaults, number by number.


def test_warnings_name_the_callers_line(files):
    # Through sobol_table -> _sobol_for -> sobol_from_outputs and main_effects: every warning the
    # package raises points at the line that called it (here), not inside the package.
    with wedge.open(files["saltelli"]) as r, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wedge.sobol_table(r, ("alliance",), n_bootstrap=100)
    mine = [w for w in caught if issubclass(w.category, sensitivity.SensitivityWarning)]
    assert mine, "the rare alliance categories at 1000 runs per point should warn"
    assert {w.filename for w in mine} == {__file__}, {(w.filename, w.lineno) for w in mine}
