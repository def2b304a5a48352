"""Sensitivity of outcome probabilities to the swept keys, with the Monte Carlo noise stated.

- :func:`sobol_indices` / :func:`sobol_table` / :func:`sobol_from_outputs`: first-order and
  total Sobol indices from a ``saltelli`` sweep (Saltelli et al. 2010 for S1, Jansen 1999 for
  ST, on outputs centred by their mean, as SALib's ``sobol.analyze`` centres and scales them:
  scaling changes no index), with seeded bootstrap intervals, the share of the output variance that is
  replicate noise, and indices corrected for that noise.
- :func:`main_effects` / :func:`main_effects_table` / :func:`main_effects_from_outputs`: for any
  sweep, the mean outcome at each value (or quantile bin) of each key and the correlation ratio
  eta^2 = Var(E[Y|X]) / Var(Y), beside a noise reference: what a key with no effect scores for
  this design and these outputs (by permutation for random designs, from replicate noise for
  balanced grids).

Replicate noise
---------------
A stochastic model's output at design point x is an estimate Y(x) = p(x) + e(x) of the
probability p(x), from n(x) runs; e has mean 0 and variance p(1 - p) / n (binomial). Sobol indices
and eta^2 are meant for p; computed on Y they are biased because Var(Y) = Var(p) + E[Var(e)].
Write C_ik = Cov(e_i, e_k) for design rows i, k (diagonal when every point has its own random
streams; with common random numbers, ``crn = true``, replicate r shares its stream across points
and C has off-diagonal terms). For base point j of a Saltelli design with rows A_j, AB_j^(i), B_j
the estimators are means over j of

    S1 numerator   v_ji = Y(B_j) (Y(AB_j^i) - Y(A_j))          (Saltelli et al. 2010, eq. (b))
    ST numerator   t_ji = 1/2 (Y(A_j) - Y(AB_j^i))^2            (Jansen 1999)
    denominator    D    = variance of {Y(A_j), Y(B_j)}_j         (ddof 0, as SALib)

and, since e is independent of p given the design and has mean 0,

    E[v_ji] = (the same with p)   + C(B_j, AB_j^i) - C(B_j, A_j)
    E[t_ji] = (the same with p)   + 1/2 (C(A_j, A_j) + C(AB_j^i, AB_j^i) - 2 C(A_j, AB_j^i))
    E[D]    = (the same with p)   + mean_i C_ii - mean_{i,k} C_ik          (i, k over A and B rows)

The corrected indices subtract these noise terms from the numerators and the denominator:
S1 = mean_j (v_ji - bv_ji) / (D - bD), ST = mean_j (t_ji - bt_ji) / (D - bD). The noise share
of the outcome is bD / D. C is estimated either from the counts, C_ii = p(1 - p) / (n - 1)
(unbiased for p(1 - p)/n; C_ik = 0 for i != k, exact without common random numbers), or, when
per-run records are stored and every point has the same replicates, from the records:
C_ik = sum_r (y_ir - Y_i)(y_kr - Y_k) / (n (n - 1)), which is unbiased with or without common
random numbers. The bootstrap resamples base points with their noise terms, so its intervals
carry both the design's sampling error and the replicate noise.
"""
from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np
import pandas as pd

#: Default noise share of Var(Y) above which a warning is given.
NOISE_WARN = 0.10
#: The noise share the warning's advice aims at.
NOISE_TARGET = 0.05
#: Defaults of the bootstrap (resamples and interval level) and of the permutation reference:
#: every function here and the report (``python3 -m wedge report``) take them from these names,
#: so the report prints the numbers the API gives with its defaults.
N_BOOTSTRAP = 1000
CONFIDENCE = 0.95
N_PERMUTATIONS = 1000
#: An index whose bootstrap interval is wider than this (the width of [0, 1], the range of an
#: index) says nothing about the key: it is flagged unreliable.
WIDE_INTERVAL = 1.0
#: Fewer effective base points than this (Kish's n_eff of the base points' shares of Var(Y))
#: means the variance over the design, and every index, rests on a handful of base points: the
#: outcome is too rare (or too saturated) for the design, and all its indices are flagged.
MIN_EFFECTIVE_BASE_POINTS = 5.0
#: Share of bootstrap resamples with undefined indices (a resample that misses the few base
#: points carrying the variance) above which the intervals are flagged unreliable.
MAX_UNDEFINED_RESAMPLES = 0.01
#: Indices are shares of Var(Y); an interval end below this many units of the larger of 1 and
#: the index's terms over the variance is zero up to rounding (for the *_noise flags).
ZERO_TOLERANCE = 1e-9


class SensitivityWarning(UserWarning):
    """An index or effect that may mislead: an index outside [0, 1] beyond its noise, an
    interval too wide to say anything, an outcome too rare or saturated for the design, or an
    outcome whose variance is largely Monte Carlo noise."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised from the caller of this function point at
    the first frame outside the wedge package (the user's line), however deep the call."""
    frame, level = sys._getframe(2), 2  # level 1 is _warn, 2 its caller
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame, level = frame.f_back, level + 1
    return level


def _warn(message: str, category=None) -> None:
    """Every warning the package raises goes through here: it names the user's line."""
    warnings.warn(message, category or SensitivityWarning, stacklevel=_caller_stacklevel())


def runs_for_noise_share(share: float, runs: float, target: float = NOISE_TARGET) -> float:
    """Replicates per point that bring a noise share of Var(Y) down to ``target``.

    The noise variance falls as 1/runs while the variance of p stays, so with share s at n runs,
    n' = n * s (1 - t) / (t (1 - s)). Infinite when s >= 1 (the outcome does not vary beyond noise).
    """
    if not share > target:
        return float(runs)
    if share >= 1:
        return math.inf
    return runs * share * (1 - target) / (target * (1 - share))


def _noise_message(label: str, share: float, runs, target: float = NOISE_TARGET) -> str:
    if runs is None:
        factor = runs_for_noise_share(share, 1.0, target)
        fix = (f"about {factor:.3g}x the runs per point would bring it to {target:.0%}"
               if math.isfinite(factor) else "no number of runs can separate it from noise")
        return f"{label}: {share:.0%} of Var(Y) is Monte Carlo noise; {fix}"
    need = runs_for_noise_share(share, runs, target)
    fix = (f"--runs {int(math.ceil(need / 1000.0) * 1000)} would bring it to {target:.0%}"
           if math.isfinite(need) else "the outcome does not vary beyond noise")
    return f"{label}: {share:.0%} of Var(Y) is Monte Carlo noise at {int(runs)} runs per point; {fix}"


def _bootstrap_means(parts: np.ndarray, n_bootstrap: int, rng) -> np.ndarray:
    """Means over resampled rows: parts is (N, c); returns (n_bootstrap, c). Rows are drawn with
    replacement, as counts (multinomial weights), in chunks to bound memory."""
    n = parts.shape[0]
    out = np.empty((n_bootstrap, parts.shape[1]))
    chunk = max(1, int(4_000_000 // max(n, 1)))
    for start in range(0, n_bootstrap, chunk):
        stop = min(n_bootstrap, start + chunk)
        rows = stop - start
        idx = rng.integers(0, n, (rows, n)) + n * np.arange(rows)[:, None]
        weights = np.bincount(idx.ravel(), minlength=rows * n).reshape(rows, n)
        out[start:stop] = weights @ parts / n
    return out


def sobol_from_outputs(y, d: int, n_bootstrap: int = N_BOOTSTRAP, confidence: float = CONFIDENCE, seed: int = 0,
                       noise_var=None, replicates=None, names=None, label: str = "Y",
                       runs=None, warn: bool = True, noise_warn: float = NOISE_WARN) -> pd.DataFrame:
    """Sobol indices from model outputs laid out as wedge's (and SALib's) Saltelli design.

    The outputs are centred by their mean first (SALib's ``sobol.analyze`` also divides by their
    standard deviation, which changes no ratio), then S1 follows Saltelli et al. (2010),
    "Variance based sensitivity analysis of model output", Comput. Phys. Commun. 181, table 2 (b),
    and ST Jansen (1999), "Analysis of variance designs for model output", Comput. Phys. Commun.
    117 (table 2 (f) of Saltelli et al. 2010), as SALib's reference implementation
    (``SALib.analyze.sobol``: ``first_order``, ``total_order``) computes them; intervals are
    percentiles of a seeded bootstrap over base points (SALib resamples base points the same way
    but reports a normal interval, 1.96 standard deviations). With ``noise_var`` or
    ``replicates`` the indices are corrected for replicate noise (derivation in the module
    docstring).

    When intervals cannot be trusted. A bootstrap over base points describes the estimator's
    error only when many base points carry the variance of Y. An outcome that is rare (or nearly
    certain) over the design, e.g. 33 events in 1.6 million runs, varies at a handful of points:
    the estimates and their percentile intervals then swing with whichever of those points a
    resample draws (intervals such as [0, 118] for an index in [0, 1]). So the table flags, in
    S1_unreliable / ST_unreliable, every index whose interval is wider than ``WIDE_INTERVAL``
    (1, the whole range of an index), whose point estimate lies above 1 by more than its
    bootstrap standard error (read as an effect larger than the whole variance) or whose whole
    interval lies outside [0, 1], or whose bootstrap left more than ``MAX_UNDEFINED_RESAMPLES`` of the
    resamples undefined, and all indices of an outcome whose variance rests on fewer than
    ``MIN_EFFECTIVE_BASE_POINTS`` effective base points (Kish's n_eff = (sum w)^2 / sum w^2 of
    the base points' shares w_j = (Y(A_j)^2 + Y(B_j)^2) / 2 of the centred outputs' variance;
    ``attrs["effective_base_points"]``). Flagged values are kept in the table (they are what the
    estimator gives) but should not be read as estimates; more base points (``points``), or more
    runs for a rare outcome, fix them. The report shows them without interval bars.

    Parameters
    ----------
    y : array of length N * (d + 2)
        For each base point j, in order: f(A_j), f(AB_j^1), ..., f(AB_j^d), f(B_j).
    d : int
        Number of inputs.
    n_bootstrap : int
        Bootstrap resamples (>= 10).
    confidence : float
        Level of the intervals, in (0, 1).
    seed : int
        Seed of the bootstrap (the same seed gives the same intervals).
    noise_var : array of length N * (d + 2), optional
        Variance of each output's noise, independent across outputs (e.g. p(1 - p)/(n - 1)).
    replicates : array of shape (N * (d + 2), R), optional
        Per-replicate outputs whose row means are ``y``; noise covariances between outputs (common
        random numbers) are estimated from them. Exclusive with ``noise_var``.
    names : sequence of d str, optional
        Index of the result (default 0..d-1).
    label : str
        How warnings name the output, e.g. "P(format = treaty)".
    runs : int, optional
        Replicates per point, for the noise warning's advice.
    warn : bool
        Warn (:class:`SensitivityWarning`, one line each) when an index's point estimate lies
        above 1 by more than its bootstrap standard error, or its whole interval outside [0, 1]
        (an estimate below 0 whose interval reaches 0 is flagged ``*_noise``, read as 0),
        when indices are unreliable (see above: too few effective base points, intervals wider
        than 1, undefined resamples), or when more than ``noise_warn`` of Var(Y) is noise.

    Returns
    -------
    DataFrame indexed by input with columns S1, S1_low, S1_high, ST, ST_low, ST_high (corrected
    for noise when noise is given, else equal to the uncorrected ones), S1_uncorrected,
    ST_uncorrected, S1_noise and ST_noise (True when the index cannot be told from noise and the
    design's sampling error: its interval reaches 0, the value of a key with no effect; an
    interval end within ``ZERO_TOLERANCE`` of 0, relative to the index's scale, counts as
    reaching it), noise_share (bD / D, the same on every row), S1_unreliable and ST_unreliable
    (see "When intervals cannot be trusted"). ``attrs`` holds noise_share with its interval
    (noise_share_low, noise_share_high), variance (D, of the unscaled outputs), base_points,
    effective_base_points, undefined_resamples (share of bootstrap resamples with undefined
    indices).
    All indices are NaN when the outputs do not vary (D = 0) or vary by noise only (D <= bD).

    Raises
    ------
    ValueError
        If the lengths do not match the layout, or arguments are out of range.
    """
    y = np.asarray(y, dtype=float)
    if d < 1:
        raise ValueError(f"d = {d}: must be >= 1")
    if y.ndim != 1 or y.size == 0 or y.size % (d + 2):
        raise ValueError(f"{y.size} outputs is not a positive multiple of d + 2 = {d + 2}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence = {confidence}: must be in (0, 1)")
    if n_bootstrap < 10:
        raise ValueError(f"n_bootstrap = {n_bootstrap}: must be >= 10")
    if noise_var is not None and replicates is not None:
        raise ValueError("give noise_var or replicates, not both")
    if not np.isfinite(y).all():
        raise ValueError("outputs must be finite")
    n_base = y.size // (d + 2)
    names = list(range(d)) if names is None else list(names)
    if len(names) != d:
        raise ValueError(f"{len(names)} names for d = {d} inputs")

    mean, scale = float(y.mean()), float(y.std())
    rows = (y - mean).reshape(n_base, d + 2)
    scale2 = scale * scale
    a, ab, b = rows[:, 0], rows[:, 1:d + 1], rows[:, d + 1]
    # Per base point: S1 and ST numerators (d each), and the denominator's first two moments.
    v = b[:, None] * (ab - a[:, None])
    t = 0.5 * (a[:, None] - ab) ** 2
    m1 = 0.5 * (a + b)
    m2 = 0.5 * (a * a + b * b)
    bv = np.zeros_like(v)
    bt = np.zeros_like(t)
    bd = np.zeros(n_base)
    bd_common = 0.0  # mean_{i,k} C_ik over the A and B rows
    has_noise = noise_var is not None or replicates is not None
    if noise_var is not None:
        nv = np.asarray(noise_var, dtype=float)
        if nv.shape != y.shape or (nv < 0).any() or not np.isfinite(nv).all():
            raise ValueError("noise_var must be finite, >= 0 and shaped like y")
        nv = nv.reshape(n_base, d + 2)
        bt = 0.5 * (nv[:, [0]] + nv[:, 1:d + 1])
        bd = 0.5 * (nv[:, 0] + nv[:, d + 1])
        bd_common = float(bd.mean()) / (2 * n_base)
    elif replicates is not None:
        rep = np.asarray(replicates, dtype=float)
        if rep.ndim != 2 or rep.shape[0] != y.size or rep.shape[1] < 2:
            raise ValueError(f"replicates must have shape ({y.size}, R >= 2)")
        if not np.allclose(rep.mean(axis=1), y, rtol=0, atol=1e-9):
            raise ValueError("the row means of replicates must equal y")
        r = rep.shape[1]
        dev = (rep - y[:, None]).reshape(n_base, d + 2, r)
        norm = 1.0 / (r * (r - 1))
        da, dab, db = dev[:, 0, :], dev[:, 1:d + 1, :], dev[:, d + 1, :]
        bv = norm * np.einsum("jr,jir->ji", db, dab - da[:, None, :])
        bt = 0.5 * norm * ((da[:, None, :] - dab) ** 2).sum(axis=2)
        bd = 0.5 * norm * (da * da + db * db).sum(axis=1)
        bd_common = norm * float(((0.5 * (da + db)).mean(axis=0) ** 2).sum())
    # One table of per-base-point parts, so that the estimate and every bootstrap resample are
    # the same function of their column means.
    parts = np.column_stack([v, t, bv, bt, m1, m2, bd])

    def indices(means: np.ndarray):
        means = np.atleast_2d(means)
        mv, mt = means[:, :d], means[:, d:2 * d]
        mbv, mbt = means[:, 2 * d:3 * d], means[:, 3 * d:4 * d]
        var = means[:, 4 * d + 1] - means[:, 4 * d] ** 2
        noise = means[:, 4 * d + 2] - bd_common
        with np.errstate(invalid="ignore", divide="ignore"):
            good = var > 1e-300
            share = np.where(good, noise / np.where(good, var, 1), np.nan)
            signal = var - noise
            ok = good & (signal > 1e-15 * np.maximum(var, 1e-300))
            den = np.where(ok, signal, np.nan)[:, None]
            raw_den = np.where(good, var, np.nan)[:, None]
            return ((mv - mbv) / den, (mt - mbt) / den, mv / raw_den, mt / raw_den, share)

    s1, st, s1_raw, st_raw, share = (x[0] for x in indices(parts.mean(axis=0)))
    rng = np.random.default_rng(seed)
    boot = indices(_bootstrap_means(parts, n_bootstrap, rng))
    # Kish's effective number of base points carrying Var(Y) (module constants above).
    weight = m2
    n_eff = float(weight.sum() ** 2 / (weight * weight).sum()) if (weight > 0).any() else 0.0
    undefined = float(np.mean(~np.isfinite(boot[1]).all(axis=1)))
    # The scale of each index's terms relative to the variance, for the zero tolerance.
    means = parts.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        den0 = abs(means[4 * d + 1] - means[4 * d] ** 2)
        s1_scale = np.maximum(1.0, (np.abs(means[:d]) + np.abs(means[2 * d:3 * d])) / den0)
        st_scale = np.maximum(1.0, (np.abs(means[d:2 * d]) + np.abs(means[3 * d:4 * d])) / den0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        s1_se = np.nanstd(boot[0], axis=0) if np.isfinite(s1).all() else np.full(d, np.nan)
        st_se = np.nanstd(boot[1], axis=0) if np.isfinite(st).all() else np.full(d, np.nan)
    q = [(1 - confidence) / 2, 1 - (1 - confidence) / 2]

    def interval(samples):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanquantile(samples, q[0], axis=0), np.nanquantile(samples, q[1], axis=0)

    s1_low, s1_high = interval(boot[0]) if np.isfinite(s1).all() else (np.full(d, np.nan),) * 2
    st_low, st_high = interval(boot[1]) if np.isfinite(st).all() else (np.full(d, np.nan),) * 2
    share_low, share_high = interval(boot[4]) if np.isfinite(share) else (np.nan, np.nan)
    if not has_noise:
        share, share_low, share_high = 0.0, 0.0, 0.0
    sparse = n_eff < MIN_EFFECTIVE_BASE_POINTS
    flags = {}
    for idx, value, low, high, se in (("S1", s1, s1_low, s1_high, s1_se), ("ST", st, st_low, st_high, st_se)):
        with np.errstate(invalid="ignore"):
            outside = (value - 1 > se) | (high < 0) | (low > 1)
            wide = ~(high - low <= WIDE_INTERVAL)  # NaN counts as wide
        flags[idx] = (outside, wide)
    unreliable = {idx: (~np.isfinite(v)) | flags[idx][0] | flags[idx][1] | sparse | (undefined > MAX_UNDEFINED_RESAMPLES)
                  for idx, v in (("S1", s1), ("ST", st))}
    with np.errstate(invalid="ignore"):
        s1_zero = ~(s1_low > ZERO_TOLERANCE * s1_scale)
        st_zero = ~(st_low > ZERO_TOLERANCE * st_scale)
    table = pd.DataFrame({
        "S1": s1, "S1_low": s1_low, "S1_high": s1_high,
        "ST": st, "ST_low": st_low, "ST_high": st_high,
        "S1_uncorrected": s1_raw, "ST_uncorrected": st_raw,
        "S1_noise": s1_zero, "ST_noise": st_zero,
        "noise_share": share,
        "S1_unreliable": unreliable["S1"], "ST_unreliable": unreliable["ST"],
    }, index=pd.Index(names))
    table.attrs.update({"noise_share": float(share), "noise_share_low": float(np.asarray(share_low)),
                        "noise_share_high": float(np.asarray(share_high)), "variance": scale2,
                        "base_points": n_base, "confidence": confidence, "effective_base_points": n_eff,
                        "undefined_resamples": undefined})
    if warn:
        more = f"more base points than {n_base} (sweep.points)"
        if scale2 == 0:
            _warn(f"{label} does not vary over the design: Sobol indices are undefined")
        elif has_noise and not np.isfinite(s1).all():
            _warn(_noise_message(label, float(share), runs) + "; indices are undefined")
        else:
            if has_noise and share > noise_warn:
                _warn(_noise_message(label, float(share), runs))
            if sparse or undefined > MAX_UNDEFINED_RESAMPLES:
                _warn(f"{label}: its variance over the design rests on about {n_eff:.1f} of {n_base} base points "
                      f"({undefined:.0%} of the bootstrap resamples leave it undefined): the outcome is too rare "
                      f"or too saturated for this design, and its indices and intervals are unreliable; use "
                      f"{more}, or more runs per point")
            wide_names = []
            for i, name in enumerate(names):
                row = table.loc[name]
                for idx in ("S1", "ST"):
                    value, low, high = row[idx], row[f"{idx}_low"], row[f"{idx}_high"]
                    se = (s1_se if idx == "S1" else st_se)[i]
                    if high < 0 or low > 1:
                        side = "below 0" if high < 0 else "above 1"
                        _warn(f"{label}: {idx} of {name} = {value:.3g} [{low:.3g}, {high:.3g}] lies {side} "
                              f"beyond its {confidence:.0%} interval: {n_base} base points are too few "
                              f"for this estimator (use {more})")
                    elif flags[idx][0][i]:
                        side = "above 1"
                        _warn(f"{label}: {idx} of {name} = {value:.3g} [{low:.3g}, {high:.3g}] lies {side} by more "
                              f"than its standard error ({se:.2g}); an index lies in [0, 1], so {n_base} base "
                              f"points are too few for this estimator here (use {more})")
                    elif flags[idx][1][i] and not sparse:
                        wide_names.append(f"{idx} of {name} [{low:.3g}, {high:.3g}]")
            if wide_names:
                _warn(f"{label}: intervals wider than 1, the whole range of an index, are too wide to read: "
                      f"{'; '.join(wide_names)}; they are flagged unreliable (use {more})")
    return table


# -- results files ------------------------------------------------------------------------------

def _counts(results, outcome: str, category: str):
    """(k, n) per design point, in point order, for P(outcome = category)."""
    table = results.summary([outcome])
    if str(category) not in set(table["category"].astype(str)):
        raise KeyError(f"{outcome} has no category {category!r}; valid: {results.fields[outcome]}")
    n = table.groupby("point")["count"].sum().sort_index().to_numpy(dtype=float)
    rows = table[table["category"].astype(str) == str(category)].set_index("point").sort_index()
    return rows["count"].to_numpy(dtype=float), n


def binomial_noise_var(k, n):
    """Unbiased estimate of the variance p(1 - p)/n of a proportion k/n: p(1 - p)/(n - 1).

    ``E[p_hat (1 - p_hat)] = p (1 - p) (1 - 1/n)``, hence the n - 1. Zero where n < 2."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1), 0.0)
        return np.where(n > 1, p * (1 - p) / np.where(n > 1, n - 1, 1), 0.0)


def _replicate_matrix(results, outcome: str, categories, n_points: int, max_cells: int):
    """Per-run indicators {category: (points, R) float array}, or None when the file has no
    per-run records, the points have different replicate counts, or the matrix would be too big."""
    if results.runs_stored == 0:
        return None
    runs = results.runs(columns=[outcome])
    counts = np.bincount(runs["point"].to_numpy(), minlength=n_points)
    if len(counts) != n_points or counts.min() != counts.max() or counts[0] < 2:
        return None
    r = int(counts[0])
    if n_points * r * len(categories) > max_cells:
        return None
    order = np.lexsort((runs["replicate"].to_numpy(), runs["point"].to_numpy()))
    column = runs[outcome]
    codes = column.cat.codes.to_numpy()[order].reshape(n_points, r)
    names = [str(c) for c in column.cat.categories]
    return {c: (codes == names.index(str(c))).astype(float) for c in categories}


def _saltelli_layout(results):
    """(design values [P, K], base-point mask of non-degenerate base points) after checking that
    the design has the Saltelli layout (A_j, AB_j^1..K, B_j per base point)."""
    keys = results.swept_keys
    design = results.design.sort_index()
    x = design[keys].to_numpy(dtype=float)
    d = len(keys)
    if d == 0 or len(x) % (d + 2):
        raise ValueError(f"{len(x)} design points is not a multiple of K + 2 = {d + 2}: not a Saltelli layout")
    blocks = x.reshape(-1, d + 2, d)
    a, ab, b = blocks[:, 0], blocks[:, 1:d + 1], blocks[:, d + 1]
    expected = np.repeat(a[:, None, :], d, axis=1)
    expected[:, np.arange(d), np.arange(d)] = b
    if not np.allclose(ab, expected):
        raise ValueError("the design does not have the Saltelli layout (A, AB^1..K, B per base point)")
    keep = ~np.all(np.isclose(a, b), axis=1)
    return x, keep


def _noise_mode(results, noise: str) -> str:
    if noise not in ("auto", "binomial", "records", "none"):
        raise ValueError(f"noise = {noise!r}: must be 'auto', 'binomial', 'records' or 'none'")
    if noise != "auto":
        return noise
    crn = bool(results.experiment.get("run", {}).get("crn", False))
    return "records" if crn and results.runs_stored else "binomial"


def _sobol_for(results, outcome, categories, n_bootstrap, confidence, seed, noise, warn, max_cells,
               noise_warn):
    keys = results.swept_keys
    design = results.attrs["design"]
    if design != "saltelli":
        raise ValueError(f"Sobol indices need a saltelli design; this file's is {design!r} "
                         "(use main_effects for grid, lhs, sobol and list designs)")
    if outcome not in results.fields:
        raise KeyError(f"unknown outcome {outcome!r}; valid: {list(results.fields)}")
    x, keep = _saltelli_layout(results)
    d = len(keys)
    mode = _noise_mode(results, noise)
    table = results.summary([outcome])
    n = table.groupby("point")["count"].sum().sort_index().to_numpy(dtype=float)
    reps = None
    if mode == "records":
        reps = _replicate_matrix(results, outcome, categories, len(n), max_cells)
        if reps is None:
            if noise == "records":
                raise ValueError(f"{results.path}: per-run records are missing, uneven across points "
                                 "or too large for noise='records'")
            mode = "binomial"
            if warn and results.experiment.get("run", {}).get("crn", False):
                _warn(f"{results.path.name}: common random numbers without usable per-run records: "
                      "the binomial noise correction ignores the correlation between points")
    rows_keep = np.repeat(keep, d + 2)
    out = []
    for category in categories:
        k, _ = _counts(results, outcome, category)
        y = np.where(n > 0, k / np.maximum(n, 1), 0.0)
        kwargs = {}
        if mode == "binomial":
            kwargs["noise_var"] = binomial_noise_var(k, n)[rows_keep]
        elif mode == "records":
            kwargs["replicates"] = reps[category][rows_keep]
        label = f"P({outcome} = {category})"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SensitivityWarning)
            frame = sobol_from_outputs(y[rows_keep], d, n_bootstrap, confidence, seed, names=keys, label=label,
                                       runs=float(np.median(n)), warn=warn, noise_warn=noise_warn, **kwargs)
        for w in caught:
            text = str(w.message)
            if "rests on about" in text:
                text += (f" ({int(k.sum())} of {int(n.sum())} runs have {outcome} = {category}, "
                         f"{int(k.sum()) / len(k):.3g} per design point)")
            _warn(text)
        frame.index.name = "key"
        frame.attrs.update({"outcome": outcome, "category": category, "noise_method": mode,
                            "dropped_base_points": int((~keep).sum()), "runs_per_point": float(np.median(n))})
        out.append(frame)
    return out


def sobol_indices(results, outcome: str = "format", category: str = "treaty", n_bootstrap: int = N_BOOTSTRAP,
                  confidence: float = CONFIDENCE, seed: int = 0, noise: str = "auto", warn: bool = True,
                  max_cells: int = 200_000_000, noise_warn: float = NOISE_WARN) -> pd.DataFrame:
    """First-order and total Sobol indices of P(outcome = category) from a ``saltelli`` sweep,
    corrected for replicate noise.

    Parameters
    ----------
    results : wedge.Results
        A results file with a ``saltelli`` design.
    outcome, category : str
        Any categorical field of the run record (``results.fields``) and one of its categories.
    n_bootstrap, confidence, seed :
        Bootstrap resamples over base points, interval level, and the bootstrap's seed.
    noise : {"auto", "binomial", "records", "none"}
        How each point's Monte Carlo noise is estimated: "binomial" from its counts
        (p(1 - p)/(n - 1), independent across points), "records" from the per-run records
        (covariances between points included: needed with common random numbers), "none" (no
        correction). "auto" takes "records" for ``crn = true`` files with records, else "binomial".
    warn : bool
        Warn when an index lies above 1 by more than its standard error or its whole interval
        outside [0, 1], when indices are
        unreliable (an outcome too rare or saturated for the design: the warning gives its count
        of events; intervals wider than 1), or when the noise share exceeds ``noise_warn``
        (naming the runs per point that would bring it to 5%). See :func:`sobol_from_outputs`.

    Returns
    -------
    DataFrame indexed by the swept keys (``key``) with the columns of :func:`sobol_from_outputs`:
    S1, S1_low, S1_high, ST, ST_low, ST_high (noise-corrected), S1_uncorrected, ST_uncorrected,
    S1_noise, ST_noise, noise_share, S1_unreliable, ST_unreliable. ``attrs``: outcome, category,
    noise_share (with noise_share_low/high), effective_base_points, undefined_resamples,
    noise_method, base_points, dropped_base_points (degenerate base points
    with A = B, which carry no information and are left out), runs_per_point.

    Raises
    ------
    ValueError
        If the design is not ``saltelli`` or lacks its layout. KeyError for an unknown outcome or
        category.
    """
    if outcome in results.fields:
        category = results.category(outcome, category)  # KeyError for an unknown category
    return _sobol_for(results, outcome, [str(category)], n_bootstrap, confidence, seed, noise, warn, max_cells,
                      noise_warn)[0]


def sobol_table(results, outcomes=("format", "alliance"), n_bootstrap: int = N_BOOTSTRAP,
                confidence: float = CONFIDENCE,
                seed: int = 0, noise: str = "auto", warn: bool = True, max_cells: int = 200_000_000,
                noise_warn: float = NOISE_WARN) -> pd.DataFrame:
    """Sobol indices for every category of each outcome at once (a ``saltelli`` sweep).

    Returns a tidy DataFrame: outcome, category, key, then the columns of :func:`sobol_indices`
    (noise_share is per outcome and category), noise_share_low, noise_share_high and
    effective_base_points (per outcome and category). Categories that never vary get NaN indices
    (flagged unreliable).
    Arguments as :func:`sobol_indices`.
    """
    frames = []
    for outcome in outcomes:
        if outcome not in results.fields:
            raise KeyError(f"unknown outcome {outcome!r}; valid: {list(results.fields)}")
        for frame in _sobol_for(results, outcome, results.fields[outcome], n_bootstrap, confidence, seed, noise,
                                warn, max_cells, noise_warn):
            f = frame.reset_index()
            f.insert(0, "category", frame.attrs["category"])
            f.insert(0, "outcome", outcome)
            f["noise_share_low"] = frame.attrs["noise_share_low"]
            f["noise_share_high"] = frame.attrs["noise_share_high"]
            f["effective_base_points"] = frame.attrs["effective_base_points"]
            frames.append(f)
    return pd.concat(frames, ignore_index=True)


# -- main effects -------------------------------------------------------------------------------

def _groups(x: pd.Series, bins: int) -> np.ndarray:
    """Group labels of a key's values: the values themselves (few distinct values) or the centres
    of ``bins`` quantile bins."""
    if x.nunique() <= max(bins, 12):
        return x.to_numpy(dtype=float)
    return pd.qcut(x, bins, duplicates="drop").map(lambda iv: iv.mid).astype(float).to_numpy()


def main_effects_from_outputs(design: pd.DataFrame, y, noise_var=None, bins: int = 8,
                              n_permutations: int = N_PERMUTATIONS, confidence: float = CONFIDENCE, seed: int = 0,
                              reference: str = "permutation", noise_draws=None) -> pd.DataFrame:
    """Main effects of each column of ``design`` on the outputs ``y``, with a noise reference.

    Parameters
    ----------
    design : DataFrame, one row per design point, one column per key
    y : array of the design's length
        The output at each point (e.g. a probability).
    noise_var : array like y, optional
        Variance of each output's replicate noise; gives the noise share of Var(Y) (and the
        "noise" reference's draws when ``noise_draws`` is not given).
    bins : int
        Keys with more than max(bins, 12) distinct values are grouped into ``bins`` quantile bins.
    n_permutations, confidence, seed :
        Draws of the reference, its level, and its seed.
    reference : {"permutation", "noise"}
        What a key with no effect scores on this design with these outputs:

        - "permutation" (random designs: lhs, sobol, saltelli, list): eta^2 of the key's grouping
          after a seeded random permutation of y. A key with no effect whose values are random
          picks up the other keys' effects and the replicate noise by chance: for g groups of m
          points its mean is about (g - 1)/(m - 1) (7/63 = 0.11 for 8 bins of 64 points).
        - "noise" (balanced full-factorial grids): a key with no effect in a balanced grid has
          group means that differ only by replicate noise, so the reference is eta^2 of noise
          draws (``noise_draws``, or independent normal draws with variance ``noise_var``)
          grouped by the key, over the observed Var(Y).
    noise_draws : array (D x len(y)), optional
        Realisations of the outputs' replicate noise (e.g. a bootstrap over replicates, which
        keeps the correlation of common random numbers).

    Returns
    -------
    Tidy DataFrame: key, value (or bin centre), p (mean output), points, se (standard error of
    the mean: spread of the points in the group over sqrt(points)), eta2 (correlation ratio
    Var(E[Y|X]) / Var(Y), in [0, 1]), eta2_null (the reference's mean), eta2_ref (its
    ``confidence`` quantile), below_noise (eta2 <= eta2_ref: the key cannot be told from one with
    no effect), reference, noise_share (share of Var(Y) that is replicate noise, NaN without
    noise_var).
    """
    y = np.asarray(y, dtype=float)
    if len(design) != len(y):
        raise ValueError(f"{len(y)} outputs for {len(design)} design points")
    if not len(design.columns):
        raise ValueError("main effects need at least one swept key")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence = {confidence}: must be in (0, 1)")
    if reference not in ("permutation", "noise"):
        raise ValueError(f"reference = {reference!r}: must be 'permutation' or 'noise'")
    m = len(y)
    centred = y - y.mean()
    total = float((centred ** 2).sum())
    noise_share = np.nan
    nv = None
    if noise_var is not None:
        nv = np.asarray(noise_var, dtype=float)
        if nv.shape != y.shape:
            raise ValueError("noise_var must be shaped like y")
        noise_share = float(nv.mean() / (total / m)) if total > 0 else np.nan
    rng = np.random.default_rng(seed)
    if reference == "permutation":
        perms = np.argsort(rng.random((n_permutations, m)), axis=1)
        draws = centred[perms]  # (n_permutations, m)
    elif noise_draws is not None:
        draws = np.asarray(noise_draws, dtype=float)
        if draws.ndim != 2 or draws.shape[1] != m:
            raise ValueError(f"noise_draws must have shape (D, {m})")
    elif nv is not None:
        draws = rng.standard_normal((n_permutations, m)) * np.sqrt(nv)[None, :]
    else:
        raise ValueError("reference = 'noise' needs noise_var or noise_draws")
    draws = draws - draws.mean(axis=1, keepdims=True)
    frames = []
    for key in design.columns:
        groups = _groups(design[key].reset_index(drop=True), bins)
        labels, inverse = np.unique(groups, return_inverse=True)
        onehot = np.zeros((m, len(labels)))
        onehot[np.arange(m), inverse] = 1.0
        sizes = onehot.sum(axis=0)

        def eta2(values):
            sums = values @ onehot
            return (sums ** 2 / sizes).sum(axis=-1) / total if total > 0 else np.zeros(np.shape(values)[:-1])

        e = float(eta2(centred))
        null = eta2(draws)
        means = (y @ onehot) / sizes
        sq = ((y[:, None] - means[None, :]) ** 2 * onehot).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.where(sizes > 1, np.sqrt(sq / np.maximum(sizes - 1, 1) / sizes), np.nan)
        ref = float(np.quantile(null, confidence)) if total > 0 else 0.0
        frames.append(pd.DataFrame({"key": key, "value": labels.astype(float), "p": means,
                                    "points": sizes.astype(int), "se": se, "eta2": e,
                                    "eta2_null": float(null.mean()) if total > 0 else 0.0,
                                    "eta2_ref": ref, "below_noise": bool(e <= ref), "reference": reference,
                                    "noise_share": noise_share}))
    return pd.concat(frames, ignore_index=True)


def _replicate_noise(reps: np.ndarray, y: np.ndarray, n_draws: int, seed: int):
    """From per-run indicators (points x R): the noise variance of each point's mean as it shows
    across points (mean_i C_ii - mean_{i,k} C_ik, spread over the points as C_ii minus the common
    part) and ``n_draws`` bootstrap realisations of the noise (resampling replicates, so the
    correlation of common random numbers is kept)."""
    m, r = reps.shape
    dev = reps - y[:, None]
    norm = 1.0 / (r * (r - 1))
    diag = norm * (dev * dev).sum(axis=1)
    common = norm * float((dev.mean(axis=0) ** 2).sum())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, r, (n_draws, r)) + r * np.arange(n_draws)[:, None]
    weights = np.bincount(idx.ravel(), minlength=n_draws * r).reshape(n_draws, r) / r
    draws = weights @ reps.T - y[None, :]
    return np.maximum(diag - common, 0.0), draws


def main_effects(results, outcome: str = "format", category: str = "treaty", bins: int = 8,
                 n_permutations: int = N_PERMUTATIONS, confidence: float = CONFIDENCE, seed: int = 0,
                 reference: str = "auto", max_cells: int = 50_000_000, _records: dict | None = None) -> pd.DataFrame:
    """Mean P(outcome = category) at each value of each swept key (grid, list) or in ``bins``
    quantile bins (lhs, sobol, saltelli), with the correlation ratio eta^2 of each key and a
    noise reference (see :func:`main_effects_from_outputs`).

    ``reference="auto"`` takes "noise" for grid designs (a key with no effect in a balanced grid
    differs between its levels by replicate noise only) and "permutation" otherwise. Replicate
    noise: binomial, p(1 - p)/(n - 1) per point, independent across points; for files run with
    common random numbers (``crn = true``) and per-run records, estimated from the records
    instead (200 bootstrap draws over replicates, which keep the correlation between points).

    Returns a tidy DataFrame: key, value (or bin centre), p (mean), points, se, eta2, eta2_null,
    eta2_ref, below_noise, reference, noise_share.

    Raises
    ------
    ValueError
        If the file has no sweep. KeyError for an unknown outcome or category.
    """
    design = results.design
    if design.empty or not len(design.columns):
        raise ValueError("main effects need a sweep (this file has a single scenario)")
    if outcome not in results.fields:
        raise KeyError(f"unknown outcome {outcome!r}; valid: {list(results.fields)}")
    if reference == "auto":
        reference = "noise" if results.attrs.get("design") == "grid" else "permutation"
    k, n = _counts(results, outcome, category)
    y = np.where(n > 0, k / np.maximum(n, 1), 0.0)
    noise_var, draws = binomial_noise_var(k, n), None
    if bool(results.experiment.get("run", {}).get("crn", False)):
        if _records is not None and outcome in _records:
            reps = _records[outcome]
        else:
            reps = _replicate_matrix(results, outcome, results.fields[outcome], len(y), max_cells)
            if _records is not None:
                _records[outcome] = reps
        if reps is not None:
            noise_var, draws = _replicate_noise(reps[str(category)], y, min(n_permutations, 200), seed)
    return main_effects_from_outputs(design.sort_index(), y, noise_var, bins, n_permutations, confidence, seed,
                                     reference, draws if reference == "noise" else None)


def main_effects_table(results, outcomes=("format", "alliance", "okinawa"), bins: int = 8,
                       n_permutations: int = N_PERMUTATIONS, confidence: float = CONFIDENCE, seed: int = 0,
                       reference: str = "auto") -> pd.DataFrame:
    """eta^2 of every swept key for every category of each outcome, with the noise reference.

    Returns a tidy DataFrame, one row per outcome, category and key: outcome, category, key, eta2,
    eta2_null, eta2_ref, below_noise, reference, noise_share. Categories that never vary get eta2 = 0 and
    below_noise = True.
    """
    rows, records = [], {}
    for outcome in outcomes:
        if outcome not in results.fields:
            raise KeyError(f"unknown outcome {outcome!r}; valid: {list(results.fields)}")
        for category in results.fields[outcome]:
            effects = main_effects(results, outcome, category, bins, n_permutations, confidence, seed, reference,
                                   _records=records)
            first = effects.groupby("key", sort=False).first().reset_index()
            first.insert(0, "category", category)
            first.insert(0, "outcome", outcome)
            rows.append(first[["outcome", "category", "key", "eta2", "eta2_null", "eta2_ref", "below_noise",
                               "reference", "noise_share"]])
    return pd.concat(rows, ignore_index=True)
