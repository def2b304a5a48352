"""Sensitivity of outcome probabilities to the swept keys.

- :func:`sobol_indices`: first-order and total Sobol indices from a ``saltelli`` sweep, with
  bootstrap intervals (Saltelli et al. 2010 for first order, Jansen 1999 for total).
- :func:`main_effects`: for ``grid``, ``lhs``, ``sobol`` and ``list`` sweeps, the mean outcome at
  each value (or quantile bin) of each key, and the correlation ratio eta^2 = Var(E[Y|X]) / Var(Y).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def sobol_from_outputs(y, d: int, n_bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Sobol indices from model outputs laid out as wedge's (and SALib's) Saltelli design.

    Parameters
    ----------
    y : array of length N * (d + 2)
        For each base point j, in order: f(A_j), f(AB_j^1), ..., f(AB_j^d), f(B_j).
    d : int
        Number of inputs.

    Returns
    -------
    DataFrame indexed by input number with columns S1, S1_low, S1_high, ST, ST_low, ST_high.
    """
    y = np.asarray(y, dtype=float)
    if y.size % (d + 2):
        raise ValueError(f"{y.size} outputs is not a multiple of d + 2 = {d + 2}")
    rows = y.reshape(-1, d + 2)
    f_a, f_ab, f_b = rows[:, 0], rows[:, 1:d + 1], rows[:, d + 1]

    def estimate(idx):
        a, ab, b = f_a[idx], f_ab[idx], f_b[idx]
        var = np.var(np.concatenate([a, b]), ddof=1)
        if var == 0:
            return np.zeros(d), np.zeros(d)
        s1 = np.mean(b[:, None] * (ab - a[:, None]), axis=0) / var
        st = 0.5 * np.mean((a[:, None] - ab) ** 2, axis=0) / var
        return s1, st

    n = rows.shape[0]
    s1, st = estimate(np.arange(n))
    rng = np.random.default_rng(seed)
    boot = [estimate(rng.integers(0, n, n)) for _ in range(n_bootstrap)]
    b1 = np.array([b[0] for b in boot])
    bt = np.array([b[1] for b in boot])
    q = [(1 - confidence) / 2, 1 - (1 - confidence) / 2]
    return pd.DataFrame({"S1": s1, "S1_low": np.quantile(b1, q[0], axis=0), "S1_high": np.quantile(b1, q[1], axis=0),
                         "ST": st, "ST_low": np.quantile(bt, q[0], axis=0), "ST_high": np.quantile(bt, q[1], axis=0)})


def sobol_indices(results, outcome: str = "format", category: str = "treaty", n_bootstrap: int = 1000,
                  confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of P(outcome = category) from a ``saltelli`` sweep.

    Returns a DataFrame indexed by the swept keys, with bootstrap intervals (over base points).
    """
    design = results.attrs["design"]
    if design != "saltelli":
        raise ValueError(f"Sobol indices need a saltelli design; this file's is {design!r} "
                         "(use main_effects for grid, lhs, sobol and list designs)")
    keys = results.swept_keys
    y = results.probability(outcome, category).sort_index().to_numpy()
    table = sobol_from_outputs(y, len(keys), n_bootstrap, confidence, seed)
    table.index = pd.Index(keys, name="key")
    return table


def main_effects(results, outcome: str = "format", category: str = "treaty", bins: int = 8) -> pd.DataFrame:
    """Mean P(outcome = category) at each value of each swept key (grid, list) or in ``bins``
    quantile bins (lhs, sobol, saltelli), with the correlation ratio eta^2 of each key.

    Returns a tidy DataFrame: key, value (or bin centre), p (mean), points, eta2.
    """
    design = results.design
    if design.empty or not len(design.columns):
        raise ValueError("main effects need a sweep (this file has a single scenario)")
    y = results.probability(outcome, category).sort_index()
    frames = []
    total_var = float(np.var(y.to_numpy()))
    for key in design.columns:
        x = design[key]
        if x.nunique() <= max(bins, 12):
            groups = x
        else:
            groups = pd.qcut(x, bins, duplicates="drop").map(lambda iv: iv.mid).astype(float)
        means = y.groupby(groups.to_numpy()).agg(["mean", "size"])
        weights = means["size"] / means["size"].sum()
        eta2 = float((weights * (means["mean"] - y.mean()) ** 2).sum() / total_var) if total_var > 0 else 0.0
        frames.append(pd.DataFrame({"key": key, "value": means.index.to_numpy(dtype=float),
                                    "p": means["mean"].to_numpy(), "points": means["size"].to_numpy(),
                                    "eta2": eta2}))
    return pd.concat(frames, ignore_index=True)
