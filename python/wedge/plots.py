"""Plots of results (matplotlib). Every function returns a Figure and never calls show()."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np


def outcome_distribution(results, field: str = "format", point: int = 0):
    """Bar chart of P(field = category) at one design point, with 95% Wilson intervals."""
    table = results.summary([field])
    rows = table[table["point"] == point]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    err = np.vstack([rows["p"] - rows["ci_low"], rows["ci_high"] - rows["p"]])
    ax.bar(rows["category"].astype(str), rows["p"], yerr=err, capsize=4, color="#4c72b0")
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.set_title(f"{field} (point {point}, {int(rows['count'].sum())} runs)")
    fig.tight_layout()
    return fig


def probability_vs_key(results, key: str, field: str = "format", categories: Sequence[str] | None = None):
    """P(field = category) against one swept key, with interval bands (means over the other keys)."""
    table = results.summary([field])
    if key not in table.columns:
        raise KeyError(f"{key!r} is not swept; swept keys: {results.swept_keys}")
    cats = list(categories) if categories is not None else results.fields[field]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for cat in cats:
        rows = table[table["category"] == results.category(field, cat)].groupby(key)[["p", "ci_low", "ci_high"]].mean().sort_index()
        ax.plot(rows.index, rows["p"], marker="o", label=str(cat))
        ax.fill_between(rows.index, rows["ci_low"], rows["ci_high"], alpha=0.2)
    ax.set_xlabel(key)
    ax.set_ylabel(f"P({field})")
    ax.set_ylim(0, 1)
    ax.legend(title=field, fontsize=8)
    fig.tight_layout()
    return fig


def heatmap(results, key_x: str, key_y: str, field: str = "format", category: str = "treaty"):
    """P(field = category) over two swept keys (means over any other keys)."""
    table = results.summary([field])
    rows = table[table["category"] == results.category(field, category)]
    grid = rows.pivot_table(index=key_y, columns=key_x, values="p", aggfunc="mean").sort_index()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis", vmin=0,
                      vmax=max(1e-9, float(np.nanmax(grid.to_numpy()))))
    ax.set_xticks(range(len(grid.columns)), [f"{v:.3g}" for v in grid.columns], rotation=45)
    ax.set_yticks(range(len(grid.index)), [f"{v:.3g}" for v in grid.index])
    ax.set_xlabel(key_x)
    ax.set_ylabel(key_y)
    fig.colorbar(image, ax=ax, label=f"P({field} = {category})")
    fig.tight_layout()
    return fig


def compare(results_list: Sequence, labels: Sequence[str], field: str = "format", point: int = 0):
    """Baseline versus counterfactuals: P(field = category) side by side, with intervals."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    width = 0.8 / max(1, len(results_list))
    cats = None
    for i, (res, label) in enumerate(zip(results_list, labels)):
        rows = res.summary([field])
        rows = rows[rows["point"] == point]
        cats = list(rows["category"].astype(str))
        x = np.arange(len(cats)) + i * width
        err = np.vstack([rows["p"] - rows["ci_low"], rows["ci_high"] - rows["p"]])
        ax.bar(x, rows["p"], width, yerr=err, capsize=3, label=label)
    ax.set_xticks(np.arange(len(cats)) + width * (len(results_list) - 1) / 2, cats)
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.set_title(field)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def tornado(sensitivity, value: str = "ST", low: str | None = None, high: str | None = None, title: str = ""):
    """Horizontal bars of a sensitivity measure per key (e.g. sobol_indices' ST or S1, or
    main_effects' eta2), largest on top, with intervals when given."""
    if "key" in getattr(sensitivity, "columns", []) and value == "eta2":
        data = sensitivity.groupby("key")["eta2"].first()
        lows = highs = None
    else:
        data = sensitivity[value]
        low = low or (f"{value}_low" if f"{value}_low" in sensitivity.columns else None)
        high = high or (f"{value}_high" if f"{value}_high" in sensitivity.columns else None)
        lows = sensitivity[low] if low else None
        highs = sensitivity[high] if high else None
    order = np.argsort(data.to_numpy())
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(data)))
    y = np.arange(len(data))
    xerr = None
    if lows is not None and highs is not None:
        xerr = np.vstack([(data - lows).to_numpy()[order], (highs - data).to_numpy()[order]]).clip(min=0)
    ax.barh(y, data.to_numpy()[order], xerr=xerr, capsize=3, color="#dd8452")
    ax.set_yticks(y, [str(k) for k in np.asarray(data.index)[order]])
    ax.set_xlabel(value)
    ax.set_title(title or f"sensitivity ({value})")
    fig.tight_layout()
    return fig
