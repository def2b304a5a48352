"""Plots of results (matplotlib). Every function returns a Figure and never calls show().

Axes of swept keys are labelled with the key and its meaning from the parameter registry
(:func:`wedge.describe`). Sweeps whose points are not ordered along a key (lhs, sobol, saltelli,
list) are drawn as scatter plots with binned means, never as lines through the points; grids get
lines over each key's values and heatmaps with the values as ticks. Charts of one design point
name its parameter values.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .registry import describe

#: Grids and lists with at most this many distinct values of a key are drawn value by value.
MAX_LEVELS = 12
COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]


def point_label(results, point: int) -> str:
    """"point 3 (dulles.tact = 0.5, dulles.threat_strength = 1.25)", or "the scenario (nothing
    swept)" when nothing is swept."""
    design = results.design
    if not len(design.columns):
        return "the scenario (nothing swept)"
    row = design.loc[point]
    values = ", ".join(f"{k} = {row[k]:.4g}" for k in design.columns)
    return f"point {point} ({values})"


def _ordered(results, key: str) -> bool:
    """True when the key's values are few levels of a grid (lines over them are meaningful)."""
    return results.attrs.get("design") == "grid" and results.design[key].nunique() <= MAX_LEVELS


def outcome_distribution(results, field: str = "format", point: int = 0):
    """Bar chart of P(field = category) at one design point, with 95% Wilson intervals; the title
    names the point's parameter values."""
    table = results.summary([field])
    rows = table[table["point"] == point]
    if rows.empty:
        raise KeyError(f"point {point}: the file has points 0..{int(table['point'].max())}")
    fig, ax = plt.subplots(figsize=(6, 3.8))
    err = np.vstack([rows["p"] - rows["ci_low"], rows["ci_high"] - rows["p"]])
    ax.bar(rows["category"].astype(str), rows["p"], yerr=err, capsize=4, color="#4c72b0")
    ax.set_ylabel(f"P({field} = category)")
    ax.set_ylim(0, 1)
    ax.set_title(f"{field} at {point_label(results, point)}\n{int(rows['count'].sum())} runs, 95% intervals",
                 fontsize=9)
    fig.tight_layout()
    return fig


def _binned(x: np.ndarray, y: np.ndarray, bins: int):
    """Means of y in quantile bins of x: (centres, means, standard errors, counts)."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    centres, means, ses, counts = [], [], [], []
    for b in range(len(edges) - 1):
        sel = which == b
        if not sel.any():
            continue
        centres.append(float(x[sel].mean()))
        means.append(float(y[sel].mean()))
        ses.append(float(y[sel].std(ddof=1) / np.sqrt(sel.sum())) if sel.sum() > 1 else np.nan)
        counts.append(int(sel.sum()))
    return np.array(centres), np.array(means), np.array(ses), np.array(counts)


def probability_vs_key(results, key: str, field: str = "format", categories: Sequence[str] | None = None,
                       bins: int = 8, ax=None):
    """P(field = category) against one swept key.

    Grids: the mean over the other keys at each of the key's values, joined by lines, with the
    mean interval as a band. Other designs: one dot per design point and the mean in ``bins``
    quantile bins of the key with +-2 standard errors (no lines: the points are not ordered).
    """
    table = results.summary([field])
    if key not in table.columns:
        raise KeyError(f"{key!r} is not swept; swept keys: {results.swept_keys}")
    cats = list(categories) if categories is not None else results.fields[field]
    own = ax is None
    fig, ax = (plt.subplots(figsize=(6, 3.8)) if own else (ax.figure, ax))
    ordered = _ordered(results, key)
    for i, cat in enumerate(cats):
        colour = COLOURS[i % len(COLOURS)]
        rows = table[table["category"] == results.category(field, cat)]
        if ordered:
            means = rows.groupby(key)[["p", "ci_low", "ci_high"]].mean().sort_index()
            ax.plot(means.index, means["p"], marker="o", color=colour, label=str(cat))
            ax.fill_between(means.index, means["ci_low"], means["ci_high"], color=colour, alpha=0.2)
        else:
            x, y = rows[key].to_numpy(dtype=float), rows["p"].to_numpy()
            ax.scatter(x, y, s=8, color=colour, alpha=0.35, linewidths=0)
            centres, means, ses, _ = _binned(x, y, bins)
            ax.errorbar(centres, means, yerr=2 * np.nan_to_num(ses), fmt="D", ms=5, color=colour, capsize=3,
                        label=str(cat))
    ax.set_xlabel(describe(key, 48), fontsize=8)
    ax.set_ylabel(f"P({field} = category)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(title=field, fontsize=7, title_fontsize=7)
    if not ordered:
        ax.set_title(f"dots: design points; diamonds: mean in {bins} bins of the key (+-2 SE)", fontsize=8)
    if own:
        fig.tight_layout()
    return fig


def probability_panels(results, field: str = "format", keys: Sequence[str] | None = None, bins: int = 8):
    """:func:`probability_vs_key` for several keys side by side (default: every swept key, up to 6)."""
    keys = list(keys) if keys is not None else results.swept_keys[:6]
    cols = min(3, len(keys))
    rows = int(np.ceil(len(keys) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    for ax, key in zip(axes.ravel(), keys):
        probability_vs_key(results, key, field, bins=bins, ax=ax)
        ax.set_title("")
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    ordered = all(_ordered(results, k) for k in keys)
    how = ("means over the other keys, with 95% interval bands" if ordered else
           f"dots: design points; diamonds: mean in {bins} quantile bins of the key, +-2 SE")
    fig.suptitle(f"P({field}) against each swept key ({how})", fontsize=9)
    fig.tight_layout()
    return fig


def _grid_means(results, key_x, key_y, field, category, bins):
    table = results.summary([field])
    rows = table[table["category"] == results.category(field, category)].copy()
    labels = {}
    for key in (key_x, key_y):
        if rows[key].nunique() > MAX_LEVELS:
            binned = pd.qcut(rows[key], bins, duplicates="drop")
            rows[key] = binned.map(lambda iv: iv.mid).astype(float)
            labels[key] = "bin centres"
    grid = rows.pivot_table(index=key_y, columns=key_x, values="p", aggfunc="mean").sort_index()
    counts = rows.pivot_table(index=key_y, columns=key_x, values="p", aggfunc="size").sort_index()
    return grid, counts, labels


def heatmap(results, key_x: str, key_y: str, field: str = "format", category: str = "treaty", bins: int = 6,
            ax=None):
    """P(field = category) over two swept keys (means over any other keys), with the keys' values
    as ticks. Keys with more than 12 distinct values (lhs, sobol, saltelli) are grouped into
    ``bins`` quantile bins, so cells are means of several points and the ticks are bin centres."""
    grid, counts, binned = _grid_means(results, key_x, key_y, field, category, bins)
    own = ax is None
    fig, ax = (plt.subplots(figsize=(6, 4.8)) if own else (ax.figure, ax))
    values = grid.to_numpy()
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis", vmin=0,
                      vmax=max(1e-9, float(np.nanmax(values))))
    ax.set_xticks(range(len(grid.columns)), [f"{v:.3g}" for v in grid.columns], rotation=45, fontsize=8)
    ax.set_yticks(range(len(grid.index)), [f"{v:.3g}" for v in grid.index], fontsize=8)
    if values.size <= 64:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if v < 0.6 * np.nanmax(values) else "black")
    ax.set_xlabel(describe(key_x, 48) + (" (bin centres)" if key_x in binned else ""), fontsize=8)
    ax.set_ylabel(describe(key_y, 36) + (" (bin centres)" if key_y in binned else ""), fontsize=8)
    fig.colorbar(image, ax=ax, label=f"P({field} = {category})")
    if binned:
        ax.set_title(f"means of {int(np.nansum(counts.to_numpy()))} points in {bins} x {bins} quantile bins",
                     fontsize=8)
    if own:
        fig.tight_layout()
    return fig


def heatmaps(results, key_x: str, key_y: str, field: str = "format", bins: int = 6):
    """:func:`heatmap` for every category of ``field``, side by side."""
    cats = results.fields[field]
    fig, axes = plt.subplots(1, len(cats), figsize=(4.8 * len(cats), 4.4), squeeze=False)
    for ax, cat in zip(axes[0], cats):
        heatmap(results, key_x, key_y, field, cat, bins, ax=ax)
        ax.set_title(f"P({field} = {cat})", fontsize=9)
    fig.tight_layout()
    return fig


def compare(results_list: Sequence, labels: Sequence[str], field: str = "format", point: int = 0):
    """Baseline versus counterfactuals: P(field = category) side by side, with intervals. For a
    sweep, the legend names the point's parameter values."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    width = 0.8 / max(1, len(results_list))
    cats = None
    for i, (res, label) in enumerate(zip(results_list, labels)):
        rows = res.summary([field])
        rows = rows[rows["point"] == point]
        cats = list(rows["category"].astype(str))
        x = np.arange(len(cats)) + i * width
        err = np.vstack([rows["p"] - rows["ci_low"], rows["ci_high"] - rows["p"]])
        if len(res.design.columns):
            label = f"{label}: {point_label(res, point)}"
        ax.bar(x, rows["p"], width, yerr=err, capsize=3, label=label)
    ax.set_xticks(np.arange(len(cats)) + width * (len(results_list) - 1) / 2, cats)
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.set_title(field)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def tornado(sensitivity, value: str = "ST", low: str | None = None, high: str | None = None, title: str = "",
            ax=None):
    """Horizontal bars of a sensitivity measure per key (sobol_indices' ST or S1, or
    main_effects' eta2), largest on top, with intervals when given. For eta2 the no-effect
    reference (``eta2_ref``) is drawn as a black mark on each bar: keys under it cannot be told
    from noise."""
    ref = None
    if "key" in getattr(sensitivity, "columns", []) and value == "eta2":
        first = sensitivity.groupby("key", sort=False).first()
        data = first["eta2"]
        ref = first["eta2_ref"] if "eta2_ref" in first.columns else None
        lows = highs = None
    else:
        data = sensitivity[value]
        low = low or (f"{value}_low" if f"{value}_low" in sensitivity.columns else None)
        high = high or (f"{value}_high" if f"{value}_high" in sensitivity.columns else None)
        lows = sensitivity[low] if low else None
        highs = sensitivity[high] if high else None
    order = np.argsort(data.to_numpy())
    own = ax is None
    fig, ax = (plt.subplots(figsize=(7, 0.8 + 0.5 * len(data))) if own else (ax.figure, ax))
    y = np.arange(len(data))
    xerr = None
    if lows is not None and highs is not None:
        xerr = np.vstack([(data - lows).to_numpy()[order], (highs - data).to_numpy()[order]]).clip(min=0)
    ax.barh(y, data.to_numpy()[order], xerr=xerr, capsize=3, color="#dd8452")
    if ref is not None:
        ax.scatter(ref.to_numpy()[order], y, marker="|", s=400, color="black", zorder=3)
        title = (title or f"sensitivity ({value})") + "\n(black mark: what a key with no effect scores, 95%)"
    ax.set_yticks(y, [describe(str(k), 44) for k in np.asarray(data.index)[order]], fontsize=7)
    ax.set_xlabel(value)
    ax.set_title(title or f"sensitivity ({value})", fontsize=9)
    if own:
        fig.tight_layout()
    return fig


def sobol_bars(table: pd.DataFrame, outcome: str):
    """S1 and ST with their intervals for every category of ``outcome``, from
    :func:`wedge.sobol_table`; each panel's title gives the noise share of Var(Y). The axis spans
    [-0.25, 1.25]; an index or interval end beyond it is written at the edge."""
    rows = table[table["outcome"] == outcome]
    cats = list(dict.fromkeys(rows["category"]))
    n_keys = rows["key"].nunique()
    cols = min(2, len(cats))
    nrows = -(-len(cats) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.4 * cols, (1.3 + 0.6 * n_keys) * nrows), squeeze=False)
    lo_edge, hi_edge = -0.25, 1.25
    for ax in axes.ravel()[len(cats):]:
        ax.set_visible(False)
    for ax, cat in zip(axes.ravel(), cats):
        r = rows[rows["category"] == cat].reset_index(drop=True)
        y = np.arange(len(r))
        for offset, name, colour in ((-0.18, "S1", "#4c72b0"), (0.18, "ST", "#dd8452")):
            err = np.vstack([r[name] - r[f"{name}_low"], r[f"{name}_high"] - r[name]]).clip(min=0)
            ax.barh(y + offset, r[name].clip(lo_edge, hi_edge), 0.34, xerr=np.nan_to_num(err), capsize=2,
                    color=colour, label=name)
            for yi, (_, row) in zip(y, r.iterrows()):
                if not (lo_edge <= row[name] <= hi_edge) or row[f"{name}_high"] > hi_edge or row[f"{name}_low"] < lo_edge:
                    ax.text(hi_edge if row[name] >= 0.5 else lo_edge, yi + offset,
                            f" {name} {row[name]:.2f} [{row[f'{name}_low']:.2f}, {row[f'{name}_high']:.2f}] ",
                            ha="right" if row[name] >= 0.5 else "left", va="center", fontsize=6,
                            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        ax.axvline(0, color="black", lw=0.6)
        ax.axvline(1, color="black", lw=0.6, ls=":")
        ax.set_title(f"P({outcome} = {cat}); noise share {r['noise_share'].iloc[0]:.1%}", fontsize=8)
        ax.set_xlim(lo_edge, hi_edge)
        ax.set_yticks(y, [describe(k, 36) for k in r["key"]], fontsize=7)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"Sobol indices of P({outcome}), noise-corrected, with 95% bootstrap intervals", fontsize=9)
    fig.tight_layout()
    return fig


def paired_difference(table: pd.DataFrame, outcomes: Sequence[str] = ("format", "alliance", "okinawa"), ax=None):
    """The paired differences P_B - P_A of :func:`wedge.compare`'s table, one row per category of
    ``outcomes``: a dot at the difference, its paired 95% interval (thick) and the unpaired one
    (thin) that independent runs would give, and a line at zero. The title names A and B, the runs
    and the seed."""
    rows = table[table["outcome"].isin(list(outcomes))].reset_index(drop=True)
    if rows.empty:
        raise KeyError(f"no rows for outcomes {list(outcomes)}; the table has {sorted(table['outcome'].unique())}")
    own = ax is None
    fig, ax = (plt.subplots(figsize=(7, 1.0 + 0.32 * len(rows))) if own else (ax.figure, ax))
    y = np.arange(len(rows))[::-1]
    ax.hlines(y, rows["unpaired_low"], rows["unpaired_high"], color="#8c8c8c", lw=1.2, label="unpaired 95%")
    ax.hlines(y, rows["paired_low"], rows["paired_high"], color="#4c72b0", lw=4, label="paired 95%")
    ax.scatter(rows["diff"], y, color="black", s=12, zorder=3)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(y, [f"{o} = {c}" for o, c in zip(rows["outcome"], rows["category"])], fontsize=7)
    ax.set_xlabel("P(B) − P(A)")
    attrs = table.attrs
    title = "paired difference B − A"
    if "a" in attrs:
        title = (f"B = {attrs['b']}\nminus A = {attrs['a']}\n"
                 f"{attrs['runs']} runs each, seed {attrs['seed']}: run r of A and of B share their random numbers")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    if own:
        fig.tight_layout()
    return fig
