"""Scenario discovery: which regions of the swept keys make an outcome likely.

- :func:`discover` (results file in, box out): PRIM or CART on the design points, with the cases of
  interest taken from each point's probability and its Monte Carlo error.
- :class:`Prim` / :class:`PrimBox`: the Patient Rule Induction Method of Friedman & Fisher (1999),
  "Bump hunting in high-dimensional data", Statistics and Computing 9: peeling with step
  ``peel_alpha``, then pasting with step ``paste_alpha``, as EMA Workbench's ``prim.Prim`` exposes
  it (peeling trajectory of coverage against density, ``inspect(i)``, ``select(i)``).
- :class:`CartResult`: the CART alternative (Breiman et al. 1984) through scikit-learn's
  ``DecisionTreeClassifier``; each leaf is a box.

Cases of interest
-----------------
A design point is a case of interest when its probability p = P(outcome = category) is at least
``threshold``. p is estimated from n runs, so some points' 95% intervals straddle the threshold.
``straddling`` says how they count:

- ``"weight"`` (default): every point counts with the probability that its p is >= threshold
  given its runs, under the Jeffreys posterior Beta(k + 1/2, n - k + 1/2). Points clear of the
  threshold count (almost exactly) 0 or 1; straddling points count in part.
- ``"in"`` / ``"out"``: straddling points count as cases of interest / as not.
- ``"estimate"``: the estimate decides (p_hat >= threshold), whatever its interval.

Coverage (the share of all cases of interest inside the box), density (the share of the box's
points that are cases of interest) and mass (the share of points inside the box) follow with
these weights. Their intervals come from redrawing each point's status from its posterior
(``n_draws`` times, seeded): the uncertainty that the Monte Carlo error of each point's
probability puts on the box's statistics.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from .results import wilson

STRADDLING = ("weight", "in", "out", "estimate")


def cases_of_interest(k, n, threshold: float, straddling: str = "weight", n_draws: int = 1000, seed: int = 0):
    """Labels of design points for scenario discovery.

    Parameters
    ----------
    k, n : arrays of equal length
        Runs with the outcome of interest, and runs, at each point (n >= 1).
    threshold : float in (0, 1)
        A point is a case of interest when its probability is >= threshold.
    straddling : {"weight", "in", "out", "estimate"}
        How points whose 95% Wilson interval contains the threshold count (module docstring).
    n_draws, seed :
        Draws of every point's status from its posterior, for the statistics' intervals.

    Returns
    -------
    (y, draws, table): y (float array in [0, 1], the weight of each point as a case of interest),
    draws (n_draws x points array of 0/1 statuses), table (DataFrame: p, ci_low, ci_high,
    prob_above, straddles, y).
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if k.shape != n.shape or k.ndim != 1:
        raise ValueError("k and n must be 1-d arrays of equal length")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold = {threshold}: must be in (0, 1)")
    if straddling not in STRADDLING:
        raise ValueError(f"straddling = {straddling!r}: must be one of {STRADDLING}")
    if (n < 1).any() or (k < 0).any() or (k > n).any():
        raise ValueError("every point needs n >= 1 runs and 0 <= k <= n")
    from scipy.stats import beta

    p = k / n
    low, high = wilson(k, n)
    above = beta.sf(threshold, k + 0.5, n - k + 0.5)
    straddles = (low < threshold) & (threshold <= high)
    clear = np.where(low >= threshold, 1.0, 0.0)
    if straddling == "weight":
        y = above
    elif straddling == "in":
        y = np.where(straddles, 1.0, clear)
    elif straddling == "out":
        y = np.where(straddles, 0.0, clear)
    else:
        y = (p >= threshold).astype(float)
    rng = np.random.default_rng(seed)
    draws = (rng.random((n_draws, k.size)) < above[None, :]).astype(float)
    table = pd.DataFrame({"p": p, "ci_low": low, "ci_high": high, "prob_above": above, "straddles": straddles,
                          "y": y})
    return y, draws, table


def _stats(member: np.ndarray, y: np.ndarray, draws: np.ndarray | None, confidence: float = 0.95):
    """Coverage, density, mass (and intervals over the draws) of boxes given as a (boxes x points)
    boolean membership matrix."""
    member = np.atleast_2d(member).astype(float)
    m = member.shape[1]
    inside = member.sum(axis=1)
    total = y.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {"coverage": member @ y / total if total > 0 else np.zeros(len(member)),
               "density": np.where(inside > 0, member @ y / np.maximum(inside, 1), np.nan),
               "mass": inside / m, "points": inside.astype(int)}
        if draws is not None and len(draws):
            q = [(1 - confidence) / 2, 1 - (1 - confidence) / 2]
            hits = member @ draws.T  # boxes x draws
            totals = draws.sum(axis=1)
            cov = np.where(totals > 0, hits / np.maximum(totals, 1), np.nan)
            den = hits / np.maximum(inside, 1)[:, None]
            for name, values in (("coverage", cov), ("density", den)):
                # The estimate is the mean over the posterior of each point's status, the interval
                # the percentiles of redrawn 0/1 statuses; when nearly every draw gives the same
                # value (coverage 0.75 in 99% of draws, the mean 0.749834), the percentiles can
                # exclude the mean. The interval reported is the smallest one holding both the
                # percentile interval and the estimate, so that low <= estimate <= high always.
                estimate = out[name]
                low = np.nanquantile(values, q[0], axis=1)
                high = np.nanquantile(values, q[1], axis=1)
                out[f"{name}_low"] = np.fmin(low, estimate)
                out[f"{name}_high"] = np.fmax(high, estimate)
    return out


def _info_line(info: dict) -> str:
    """"cases of interest: P(format = treaty) >= 0.25 (straddling points: weight)"."""
    if "title" in info:
        return f"cases of interest: {info['title']} (straddling points: {info.get('straddling', '?')})"
    return " ".join(f"{k}={v}" for k, v in info.items())


class Prim:
    """PRIM (Friedman & Fisher 1999) on points ``x`` with case-of-interest weights ``y``.

    Parameters
    ----------
    x : DataFrame, one row per point, one numeric column per key
    y : array of len(x), values in [0, 1]
        1 for a case of interest, 0 for not, or the probability of being one.
    peel_alpha : float in (0, 0.5)
        Share of the box's points removed by one peel (at least one distinct value).
    paste_alpha : float in (0, 0.5)
        Share of the box's points added by one paste.
    mass_min : float in (0, 1)
        Peeling stops before the box holds fewer than this share of the points.
    draws : array (D x len(x)) of 0/1, optional
        Redrawn statuses of every point, for the statistics' intervals.

    ``find_box()`` peels from the box holding every point, recording the peeling trajectory, selects
    the box with the best balance of coverage and density (largest harmonic mean; ties go to the
    larger box), pastes it, and returns a :class:`PrimBox`.
    """

    def __init__(self, x: pd.DataFrame, y, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
                 mass_min: float = 0.05, draws=None, confidence: float = 0.95):
        if not isinstance(x, pd.DataFrame) or x.empty:
            raise ValueError("x must be a non-empty DataFrame (points x keys)")
        self.x = x.reset_index(drop=True).astype(float)
        self.y = np.asarray(y, dtype=float)
        if self.y.shape != (len(self.x),):
            raise ValueError(f"y has shape {self.y.shape}; expected ({len(self.x)},)")
        if ((self.y < 0) | (self.y > 1)).any() or not np.isfinite(self.y).all():
            raise ValueError("y must be in [0, 1]")
        if not np.isfinite(self.x.to_numpy()).all():
            raise ValueError("x must be finite")
        for name, value, hi in (("peel_alpha", peel_alpha, 0.5), ("paste_alpha", paste_alpha, 0.5),
                                ("mass_min", mass_min, 1.0)):
            if not 0 < value < hi:
                raise ValueError(f"{name} = {value}: must be in (0, {hi})")
        self.peel_alpha, self.paste_alpha, self.mass_min = peel_alpha, paste_alpha, mass_min
        self.draws = None if draws is None else np.asarray(draws, dtype=float)
        self.confidence = confidence
        self.keys = list(self.x.columns)
        self._values = self.x.to_numpy()
        self.box_init = np.column_stack([self._values.min(axis=0), self._values.max(axis=0)])

    def _inside(self, lims: np.ndarray) -> np.ndarray:
        v = self._values
        return np.all((v >= lims[:, 0]) & (v <= lims[:, 1]), axis=1)

    def _peels(self, lims: np.ndarray, inside: np.ndarray):
        """Candidate peels of the box: (new limits, new membership) per key and side."""
        n_box = int(inside.sum())
        count = max(1, int(math.floor(self.peel_alpha * n_box)))
        for j in range(len(self.keys)):
            vals = np.sort(self._values[inside, j])
            distinct = np.unique(vals)
            if len(distinct) < 2:
                continue
            # Lower side: remove the `count` smallest points (all ties of the cut value go together;
            # at least the smallest distinct value goes).
            cut = vals[min(count, n_box - 1)]
            new_low = cut if cut > distinct[0] else distinct[1]
            # Upper side, mirrored.
            cut = vals[max(n_box - 1 - count, 0)]
            new_high = cut if cut < distinct[-1] else distinct[-2]
            for side, value in ((0, new_low), (1, new_high)):
                new = lims.copy()
                new[j, side] = value
                yield new, inside & ((self._values[:, j] >= new[j, 0]) & (self._values[:, j] <= new[j, 1]))

    def _mean(self, inside: np.ndarray) -> float:
        return float(self.y[inside].mean()) if inside.any() else -np.inf

    def _peel(self):
        m = len(self.y)
        lims = self.box_init.copy()
        inside = np.ones(m, dtype=bool)
        boxes = [lims]
        while True:
            best = None
            for new, member in self._peels(lims, inside):
                if member.sum() < self.mass_min * m or member.sum() == inside.sum():
                    continue
                score = (self._mean(member), -int(inside.sum() - member.sum()))
                if best is None or score > best[0]:
                    best = (score, new, member)
            if best is None:
                break
            _, lims, inside = best
            boxes.append(lims)
        return boxes

    def _paste(self, lims: np.ndarray) -> np.ndarray:
        """Friedman & Fisher's pasting: widen one limit at a time by about paste_alpha of the box's
        points while the box's mean rises."""
        lims = lims.copy()
        while True:
            inside = self._inside(lims)
            mean = self._mean(inside)
            count = max(1, int(math.floor(self.paste_alpha * inside.sum())))
            best = None
            for j in range(len(self.keys)):
                others = np.ones(len(self.y), dtype=bool)
                for i in range(len(self.keys)):
                    if i != j:
                        others &= (self._values[:, i] >= lims[i, 0]) & (self._values[:, i] <= lims[i, 1])
                col = self._values[:, j]
                below = np.sort(col[others & (col < lims[j, 0])])[::-1]
                above = np.sort(col[others & (col > lims[j, 1])])
                for side, outside in ((0, below), (1, above)):
                    if not len(outside):
                        continue
                    new = lims.copy()
                    new[j, side] = outside[min(count, len(outside)) - 1]
                    member = self._inside(new)
                    score = self._mean(member)
                    if score > mean + 1e-12 and (best is None or score > best[0]):
                        best = (score, new)
            if best is None:
                return lims
            lims = best[1]

    def find_box(self) -> "PrimBox":
        """Peels, selects, pastes; returns the :class:`PrimBox` (see the class docstring)."""
        boxes = self._peel()
        box = PrimBox(self, boxes)
        stats = box.peeling_trajectory
        c, d = stats["coverage"].to_numpy(), stats["density"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            balance = np.where(c + d > 0, 2 * c * d / (c + d), 0.0)
        best = int(np.flatnonzero(balance >= balance.max() - 1e-12)[0])
        pasted = self._paste(boxes[best])
        if not np.array_equal(pasted, boxes[best]):
            box._append(pasted, pasted=True)
            box.select(len(box.box_lims) - 1)
        else:
            box.select(best)
        return box


class PrimBox:
    """The boxes PRIM found: the peeling trajectory and the selected box.

    Attributes
    ----------
    peeling_trajectory : DataFrame
        One row per box (``id``): coverage, density, mass, points, res_dim (keys restricted), pasted,
        and with draws coverage_low/high, density_low/high (intervals from the points' Monte
        Carlo error).
    box_lims : list of arrays (keys x 2)
        Each box's [lower, upper] limit per key (inclusive; the initial box spans the data).
    selected : int
        The id of the selected box (:meth:`select`).
    """

    def __init__(self, prim: Prim, boxes):
        self.prim = prim
        self.box_lims = []
        self._pasted = []
        self.peeling_trajectory = pd.DataFrame()
        self.selected = 0
        self.info: dict = {}
        for lims in boxes:
            self._append(lims, refresh=False)
        self._refresh()

    def _append(self, lims, pasted: bool = False, refresh: bool = True):
        self.box_lims.append(np.asarray(lims, dtype=float))
        self._pasted.append(pasted)
        if refresh:
            self._refresh()

    def _refresh(self):
        member = np.array([self.prim._inside(l) for l in self.box_lims])
        stats = _stats(member, self.prim.y, self.prim.draws, self.prim.confidence)
        init = self.prim.box_init
        res_dim = [int((~np.isclose(l, init)).any(axis=1).sum()) for l in self.box_lims]
        frame = pd.DataFrame({"id": np.arange(len(self.box_lims)), **stats, "res_dim": res_dim,
                              "pasted": self._pasted})
        self.peeling_trajectory = frame

    def select(self, i: int) -> "PrimBox":
        """Makes box ``i`` of the trajectory the selected one; returns self."""
        if not 0 <= i < len(self.box_lims):
            raise IndexError(f"box {i}: the trajectory has boxes 0..{len(self.box_lims) - 1}")
        self.selected = int(i)
        return self

    def limits(self, i: int | None = None, restricted_only: bool = True) -> pd.DataFrame:
        """Box ``i``'s (default: the selected box's) limits: DataFrame indexed by key with
        ``lower``, ``upper``, ``min`` and ``max`` (the keys' ranges in the data), ``restricted``."""
        i = self.selected if i is None else i
        lims, init = self.box_lims[i], self.prim.box_init
        frame = pd.DataFrame({"lower": lims[:, 0], "upper": lims[:, 1], "min": init[:, 0], "max": init[:, 1],
                              "restricted": (~np.isclose(lims, init)).any(axis=1)},
                             index=pd.Index(self.prim.keys, name="key"))
        return frame[frame["restricted"]] if restricted_only else frame

    def stats(self, i: int | None = None) -> dict:
        """Box ``i``'s (default: the selected box's) statistics as a dict."""
        i = self.selected if i is None else i
        row = self.peeling_trajectory.iloc[i].to_dict()
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}

    # Shortcuts for the selected box, as EMA Workbench's PrimBox.
    coverage = property(lambda self: self.stats()["coverage"])
    density = property(lambda self: self.stats()["density"])
    mass = property(lambda self: self.stats()["mass"])

    def inspect(self, i: int | None = None) -> str:
        """Box ``i``'s statistics and limits as text (also what ``print(box)`` shows)."""
        i = self.selected if i is None else i
        s = self.stats(i)

        def with_interval(name):
            text = f"{name} {s[name]:.3f}"
            if f"{name}_low" in s:
                text += f" [{s[f'{name}_low']:.3f}, {s[f'{name}_high']:.3f}]"
            return text

        lines = [f"PRIM box {i} of {len(self.box_lims)}{' (pasted)' if s['pasted'] else ''}: "
                 f"{with_interval('coverage')}, {with_interval('density')}, mass {s['mass']:.3f} "
                 f"({s['points']} of {len(self.prim.y)} points), {s['res_dim']} key(s) restricted"]
        if self.info:
            lines.insert(0, _info_line(self.info))
        for key, row in self.limits(i).iterrows():
            lines.append(f"  {row['lower']:.4g} <= {key} <= {row['upper']:.4g}   (range {row['min']:.4g} .. {row['max']:.4g})")
        if len(self.limits(i)) == 0:
            lines.append("  no key restricted: the box is the whole design")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.inspect()

    def __repr__(self) -> str:
        s = self.stats()
        return (f"<wedge.PrimBox {self.selected}/{len(self.box_lims)}: coverage {s['coverage']:.3f}, "
                f"density {s['density']:.3f}, mass {s['mass']:.3f}>")

    def to_frame(self) -> pd.DataFrame:
        """The peeling trajectory (a copy)."""
        return self.peeling_trajectory.copy()

    def to_dict(self) -> dict:
        """Everything as plain Python (JSON-ready): info, selected, the selected box's stats and
        limits {key: [lower, upper]}, and the trajectory (stats and limits of every box)."""
        def lims(i):
            return {k: [float(r["lower"]), float(r["upper"])] for k, r in self.limits(i).iterrows()}

        trajectory = []
        for i in range(len(self.box_lims)):
            trajectory.append({**self.stats(i), "limits": lims(i)})
        return json.loads(json.dumps({"method": "prim", **self.info, "selected": self.selected,
                                      "box": {**self.stats(), "limits": lims(None)},
                                      "trajectory": trajectory}, default=float))

    def error_bars(self, i: int | None = None):
        """Box ``i``'s (default: selected) coverage and density intervals as matplotlib error bars
        ([[below], [above]] each), or (None, None) without draws. Intervals always hold their
        estimate (see ``_stats``), so both bars are >= 0."""
        s = self.stats(i)
        if "coverage_low" not in s:
            return None, None
        xerr = np.clip([[s["coverage"] - s["coverage_low"]], [s["coverage_high"] - s["coverage"]]], 0, None)
        yerr = np.clip([[s["density"] - s["density_low"]], [s["density_high"] - s["density"]]], 0, None)
        return xerr, yerr

    def plot_trajectory(self, ax=None):
        """The peeling trajectory: density against coverage, coloured by the number of restricted
        keys, with the selected box marked and its intervals drawn. Returns the Figure."""
        import matplotlib.pyplot as plt

        fig, ax = (plt.subplots(figsize=(6, 4.2)) if ax is None else (ax.figure, ax))
        t = self.peeling_trajectory
        points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18, zorder=2)
        s = self.stats()
        xerr, yerr = self.error_bars()
        ax.errorbar([s["coverage"]], [s["density"]], xerr=xerr, yerr=yerr, fmt="o", mfc="none", mec="red",
                    ecolor="red", ms=10, zorder=3, label=f"selected box {self.selected}")
        ax.set_xlabel("coverage (share of the cases of interest inside the box)")
        ax.set_ylabel("density (share of the box's points\nthat are cases of interest)")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        fig.colorbar(points, ax=ax, label="keys restricted", ticks=range(0, int(t["res_dim"].max()) + 1))
        ax.legend(loc="lower left", fontsize=8)
        ax.set_title(self.info.get("title", "PRIM peeling trajectory"), fontsize=10)
        fig.tight_layout()
        return fig

    def plot_box(self, i: int | None = None, ax=None):
        """Box ``i``'s (default: selected) limits on every key, each key's range scaled to [0, 1],
        with the limits written in the key's units. Returns the Figure."""
        import matplotlib.pyplot as plt

        from .registry import describe

        i = self.selected if i is None else i
        lims = self.limits(i, restricted_only=False)
        fig, ax = (plt.subplots(figsize=(7, 0.8 + 0.6 * len(lims))) if ax is None else (ax.figure, ax))
        for row, (key, r) in enumerate(lims.iterrows()):
            span = (r["max"] - r["min"]) or 1.0
            lo, hi = (r["lower"] - r["min"]) / span, (r["upper"] - r["min"]) / span
            ax.plot([0, 1], [row, row], color="#cccccc", lw=8, solid_capstyle="butt")
            ax.plot([lo, hi], [row, row], color="#c44e52" if r["restricted"] else "#8c8c8c", lw=8,
                    solid_capstyle="butt")
            ax.text(lo, row + 0.28, f"{r['lower']:.3g}", ha="center", fontsize=8)
            ax.text(hi, row + 0.28, f"{r['upper']:.3g}", ha="center", fontsize=8)
        ax.set_yticks(range(len(lims)), [describe(k, 40) for k in lims.index], fontsize=8)
        ax.set_ylim(-0.6, len(lims) - 0.2)
        ax.set_xlim(-0.05, 1.05)
        ax.set_xlabel("position in the key's swept range (0 = min, 1 = max)")
        s = self.stats(i)
        ax.set_title(f"box {i}: coverage {s['coverage']:.2f}, density {s['density']:.2f}, mass {s['mass']:.2f}",
                     fontsize=10)
        fig.tight_layout()
        return fig


class CartResult:
    """Scenario discovery with CART: a classification tree (scikit-learn) whose leaves are boxes.

    Attributes
    ----------
    tree : sklearn.tree.DecisionTreeClassifier
    boxes : DataFrame
        One row per leaf (``id``): coverage, density, mass, points (with intervals when draws are
        given), of_interest (density >= 0.5: the tree predicts a case of interest there).
    """

    def __init__(self, x: pd.DataFrame, y, draws=None, max_depth: int = 3, mass_min: float = 0.05,
                 confidence: float = 0.95, seed: int = 0):
        from sklearn.tree import DecisionTreeClassifier

        self.x = x.reset_index(drop=True).astype(float)
        self.y = np.asarray(y, dtype=float)
        if self.y.shape != (len(self.x),):
            raise ValueError(f"y has shape {self.y.shape}; expected ({len(self.x)},)")
        self.keys = list(self.x.columns)
        self.info: dict = {}
        values = self.x.to_numpy()
        m = len(self.y)
        # Weighted labels: each point once as a case of interest (weight y) and once as not (1 - y).
        features = np.vstack([values, values])
        labels = np.r_[np.ones(m), np.zeros(m)]
        weights = np.r_[self.y, 1 - self.y]
        self.tree = DecisionTreeClassifier(max_depth=max_depth, min_weight_fraction_leaf=mass_min / 2,
                                           random_state=seed)
        self.tree.fit(features, labels, sample_weight=weights)
        leaves = self.tree.apply(values)
        ids = np.unique(leaves)
        member = leaves[None, :] == ids[:, None]
        stats = _stats(member, self.y, draws, confidence)
        self.boxes = pd.DataFrame({"id": np.arange(len(ids)), **stats})
        self.boxes["of_interest"] = self.boxes["density"] >= 0.5
        self._leaf_ids = ids
        self._box_lims = [self._leaf_limits(leaf) for leaf in ids]

    def _leaf_limits(self, leaf: int) -> np.ndarray:
        t = self.tree.tree_
        values = self.x.to_numpy()
        lims = np.column_stack([values.min(axis=0), values.max(axis=0)])
        parent = {}
        for node in range(t.node_count):
            for child, side in ((t.children_left[node], 0), (t.children_right[node], 1)):
                if child >= 0:
                    parent[child] = (node, side)
        node = leaf
        while node in parent:
            up, side = parent[node]
            j, cut = t.feature[up], t.threshold[up]
            if side == 0:  # left: x <= cut
                lims[j, 1] = min(lims[j, 1], cut)
            else:  # right: x > cut
                lims[j, 0] = max(lims[j, 0], cut)
            node = up
        return lims

    def limits(self, i: int) -> pd.DataFrame:
        """Leaf ``i``'s box: DataFrame indexed by key with ``lower``, ``upper`` (the tree's cuts;
        a lower limit from a cut means key > lower), ``min``, ``max``, ``restricted``."""
        lims = self._box_lims[i]
        values = self.x.to_numpy()
        init = np.column_stack([values.min(axis=0), values.max(axis=0)])
        frame = pd.DataFrame({"lower": lims[:, 0], "upper": lims[:, 1], "min": init[:, 0], "max": init[:, 1],
                              "restricted": (~np.isclose(lims, init)).any(axis=1)},
                             index=pd.Index(self.keys, name="key"))
        return frame[frame["restricted"]]

    @property
    def rules(self) -> str:
        """The tree as text (scikit-learn's ``export_text``)."""
        from sklearn.tree import export_text

        return export_text(self.tree, feature_names=self.keys, decimals=3)

    def __str__(self) -> str:
        lines = []
        if self.info:
            lines.append(_info_line(self.info))
        for _, b in self.boxes[self.boxes["of_interest"]].sort_values("coverage", ascending=False).iterrows():
            i = int(b["id"])
            text = f"CART leaf {i}: coverage {b['coverage']:.3f}"
            if "coverage_low" in b:
                text += f" [{b['coverage_low']:.3f}, {b['coverage_high']:.3f}]"
            text += f", density {b['density']:.3f}"
            if "density_low" in b:
                text += f" [{b['density_low']:.3f}, {b['density_high']:.3f}]"
            lines.append(text + f", mass {b['mass']:.3f} ({int(b['points'])} points)")
            for key, r in self.limits(i).iterrows():
                low = "<=" if r["lower"] == r["min"] else "<"  # the data's minimum is inside; a cut is not
                lines.append(f"  {r['lower']:.4g} {low} {key} <= {r['upper']:.4g}")
        if len(lines) <= (1 if self.info else 0):
            lines.append("CART: no leaf where cases of interest are the majority")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The leaves' statistics (a copy)."""
        return self.boxes.copy()

    def to_dict(self) -> dict:
        """Plain Python (JSON-ready): info, and each leaf's statistics and limits."""
        leaves = []
        for _, b in self.boxes.iterrows():
            i = int(b["id"])
            limits = {k: [float(r["lower"]), float(r["upper"])] for k, r in self.limits(i).iterrows()}
            leaves.append({**{k: (v.item() if hasattr(v, "item") else v) for k, v in b.items()}, "limits": limits})
        return json.loads(json.dumps({"method": "cart", **self.info, "leaves": leaves, "rules": self.rules},
                                     default=float))

    def plot(self, ax=None):
        """The leaves as points of coverage against density (of-interest leaves in red). Returns
        the Figure."""
        import matplotlib.pyplot as plt

        fig, ax = (plt.subplots(figsize=(6, 4)) if ax is None else (ax.figure, ax))
        b = self.boxes
        colours = np.where(b["of_interest"], "#c44e52", "#8c8c8c")
        ax.scatter(b["coverage"], b["density"], c=colours, s=30)
        for _, r in b.iterrows():
            ax.annotate(f"leaf {int(r['id'])}", (r["coverage"], r["density"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(self.info.get("title", "CART leaves"), fontsize=10)
        fig.tight_layout()
        return fig


def discover(results, outcome: str, category: str, threshold: float, method: str = "prim",
             straddling: str = "weight", peel_alpha: float = 0.05, paste_alpha: float = 0.05,
             mass_min: float = 0.05, max_depth: int = 3, n_draws: int = 1000, seed: int = 0):
    """Which regions of the swept keys make P(outcome = category) >= threshold?

    Parameters
    ----------
    results : wedge.Results
        A sweep (any design) with at least one swept key.
    outcome, category : str
        A categorical field and one of its categories, e.g. "format", "treaty".
    threshold : float in (0, 1)
        Points with P(outcome = category) >= threshold are the cases of interest.
    method : {"prim", "cart"}
        PRIM (Friedman & Fisher 1999) or CART (scikit-learn).
    straddling : {"weight", "in", "out", "estimate"}
        How points whose 95% interval straddles the threshold count (see the module docstring).
    peel_alpha, paste_alpha, mass_min :
        PRIM's steps and its smallest box (share of points); mass_min is also CART's smallest leaf.
    max_depth : int
        CART's depth.
    n_draws, seed :
        Redraws of each point's status for the intervals of coverage and density.

    Returns
    -------
    :class:`PrimBox` (selected box, trajectory, ``inspect``, ``plot_trajectory``, ``plot_box``,
    ``to_dict``) or :class:`CartResult`. Both print as text. ``.cases`` holds each point's
    p, interval, probability of being >= threshold and weight.

    Raises
    ------
    ValueError
        For a file without a sweep, a threshold outside (0, 1) or an unknown method.
        KeyError for an unknown outcome or category.
    """
    design = results.design
    if design.empty or not len(design.columns):
        raise ValueError("scenario discovery needs a sweep (this file has a single scenario)")
    if method not in ("prim", "cart"):
        raise ValueError(f"method = {method!r}: must be 'prim' or 'cart'")
    if outcome not in results.fields:
        raise KeyError(f"unknown outcome {outcome!r}; valid: {list(results.fields)}")
    category = results.category(outcome, category)  # KeyError for an unknown category
    table = results.summary([outcome])
    n = table.groupby("point")["count"].sum().sort_index().to_numpy(dtype=float)
    k = table[table["category"] == category].set_index("point").sort_index()["count"].to_numpy(dtype=float)
    y, draws, cases = cases_of_interest(k, n, threshold, straddling, n_draws, seed)
    x = design.sort_index()
    cases.index = x.index
    info = {"outcome": outcome, "category": str(category), "threshold": threshold, "straddling": straddling,
            "title": f"P({outcome} = {category}) >= {threshold:g}"}
    if method == "prim":
        result = Prim(x, y, peel_alpha, paste_alpha, mass_min, draws).find_box()
    else:
        result = CartResult(x, y, draws, max_depth=max_depth, mass_min=mass_min, seed=seed)
    result.info = info
    result.cases = pd.concat([x, cases], axis=1)
    return result
