"""History matching: which parameter sets make an observed history likely (docs/calibration.md).

:func:`calibrate` runs the engine's calibration (experiments/calibrate.hpp, the same code as
``wedge calibrate FILE``) and returns a :class:`Calibration`: the posterior over the swept keys
of an experiment (uniform prior on each key's [min, max]) given a history, represented by
importance weights on the evaluated design points, with the Monte Carlo error of every summary.

>>> import wedge
>>> cal = wedge.calibrate("experiments/calibrate/history_1956.toml", points=64, runs=1000)
>>> cal.posterior            # mean, sd, quantiles per key, with 90% Monte Carlo intervals
>>> cal.best()               # the most likely points, P(history | theta) = k/n with its SE
>>> wedge.plots.posterior_pairs(cal)
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

import numpy as np
import pandas as pd

#: What happened in 1956, as :func:`calibrate`'s ``history`` (the default of ``wedge calibrate``).
HISTORY_1956 = {
    "format": "declaration",        # the Joint Declaration of 19 October 1956
    "islands_promised": 2,          # Habomai and Shikotan, after a future peace treaty
    "islands_transferred": 0,       # none transferred
    "okinawa": "residual",          # residual sovereignty over Okinawa
    "threat_round": {"not": 0},     # Dulles's Okinawa threat (August 1956) was issued
    "alliance": "intact",           # the US-Japan alliance intact
}

History = Union[str, Mapping[str, Any]]


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return value
    raise TypeError(f"a history's category must be a string, an integer or a boolean, not {value!r}")


def history_text(history: History) -> str:
    """A history in the command line's syntax (``--history``).

    A dict maps outcome fields (:func:`wedge.describe` lists them; e.g. ``format``,
    ``islands_promised``, ``threat_round``) to a category (``"declaration"``, ``2``), a list of
    allowed categories (``["declaration", "treaty"]``), ``{"not": c}`` or ``{"not": [c, ...]}``
    (none of them), or ``{"min": lo, "max": hi}`` (numbered categories or continuous fields such
    as ``alignment``; either bound may be left out). A string is passed on as written, e.g.
    ``"format=declaration,threat_round!=0,alignment=0.45.."``.

    Raises
    ------
    TypeError
        A value of another kind.
    """
    if isinstance(history, str):
        return history
    parts = []
    for name, value in history.items():
        if isinstance(value, Mapping):
            unknown = set(value) - {"not", "min", "max"}
            if unknown:
                raise TypeError(f"history[{name!r}]: unknown field(s) {sorted(unknown)} (valid: not, min, max)")
            if "not" in value:
                values = value["not"] if isinstance(value["not"], (list, tuple)) else [value["not"]]
                parts.append(f"{name}!=" + "|".join(_label(v) for v in values))
            else:
                lo = _label(value["min"]) if "min" in value else ""
                hi = _label(value["max"]) if "max" in value else ""
                parts.append(f"{name}={lo}..{hi}")
        elif isinstance(value, (list, tuple)):
            parts.append(f"{name}=" + "|".join(_label(v) for v in value))
        else:
            parts.append(f"{name}={_label(value)}")
    return ",".join(parts)


@dataclass
class Calibration:
    """The result of :func:`calibrate` (the JSON document of ``wedge calibrate --json``).

    Attributes
    ----------
    document : dict
        The JSON document itself.
    keys : list of str
        The calibrated (swept) keys, in the experiment's order.
    points : pandas.DataFrame
        Every evaluated design point (all stages), one row each: ``stage`` (0 = the design of the
        prior, 1, 2, ... refinements), one column per key (θ), ``runs`` (n), ``matches`` (k, the
        runs reproducing the history; a list per row when several histories are given, else an
        int), ``likelihood`` (P(history | θ) estimated as k/n, or the product over histories),
        ``se`` (its binomial standard error), ``mc_low``/``mc_high`` (90% interval),
        ``proposal`` (the stages' mixture density relative to the prior at θ) and ``weight``
        (normalised importance weight, sums to 1).
    posterior : pandas.DataFrame
        Indexed by key: ``mean``, ``sd`` and the quantiles ``q05``, ``q25``, ``q50``, ``q75``,
        ``q95``, each with ``<name>_low``/``<name>_high``: the 5% and 95% points of the summary
        over redraws of the likelihoods from their posteriors given the counts (the Monte Carlo
        error, not a credible interval).
    ess, evidence : tuple of float
        (value, mc_low, mc_high): Kish's effective sample size of the weights, and P(history)
        under the prior (the mean likelihood).
    """

    document: dict
    keys: list = field(init=False)
    points: pd.DataFrame = field(init=False)
    posterior: pd.DataFrame = field(init=False)
    ess: tuple = field(init=False)
    evidence: tuple = field(init=False)

    def __post_init__(self):
        d = self.document
        self.keys = [k["key"] for k in d["keys"]]
        several = len(d["histories"]) > 1
        rows = []
        for p in d["design_points"]:
            row = {"stage": p["stage"]}
            row.update(dict(zip(self.keys, p["values"])))
            row["runs"] = p["runs"]
            row["matches"] = list(p["matches"]) if several else p["matches"][0]
            for name in ("likelihood", "se", "mc_low", "mc_high", "proposal", "weight"):
                row[name] = p[name]
            rows.append(row)
        self.points = pd.DataFrame(rows)
        self.points.index.name = "point"
        names = [f"q{round(100 * q):02d}" for q in d["quantiles"]]
        table = {}
        for k in d["posterior"]:
            row = {}
            for name, est in [("mean", k["mean"]), ("sd", k["sd"])] + list(zip(names, k["quantiles"])):
                row[name], row[f"{name}_low"], row[f"{name}_high"] = est["value"], est["mc_low"], est["mc_high"]
            table[k["key"]] = row
        self.posterior = pd.DataFrame.from_dict(table, orient="index")
        self.posterior.index.name = "key"
        self.ess = tuple(d["ess"][n] for n in ("value", "mc_low", "mc_high"))
        self.evidence = tuple(d["evidence"][n] for n in ("value", "mc_low", "mc_high"))

    @property
    def histories(self) -> list[tuple[str, int]]:
        """The observed histories as (text, times observed)."""
        return [(h["history"], h["count"]) for h in self.document["histories"]]

    def best(self, n: int | None = None) -> pd.DataFrame:
        """The most likely points (highest estimated likelihood first; at most the ``top``
        setting, default 10): rows of :attr:`points`."""
        rows = self.points.loc[self.document["best"]]
        return rows if n is None else rows.head(n)

    def marginal(self, key: str) -> pd.DataFrame:
        """A key's posterior marginal as the engine binned it: ``low``, ``high`` (bin edges;
        discrete keys: one bin per value, value ± 1/2) and ``mass`` (sums to 1).

        Raises
        ------
        KeyError
            ``key`` is not calibrated.
        """
        if key not in self.keys:
            raise KeyError(f"{key!r} is not a calibrated key (keys: {', '.join(self.keys)})")
        k = self.document["posterior"][self.keys.index(key)]
        edges = np.asarray(k["edges"], dtype=float)
        return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "mass": np.asarray(k["histogram"], dtype=float)})

    def sample(self, n: int, seed: int = 0) -> pd.DataFrame:
        """``n`` draws of θ from the weighted points (resampling with replacement by weight),
        e.g. to run the engine on posterior draws. Shape (n, len(keys))."""
        rng = np.random.default_rng(seed)
        w = self.points["weight"].to_numpy()
        picks = rng.choice(len(w), size=n, replace=True, p=w / w.sum())
        return self.points[self.keys].iloc[picks].reset_index(drop=True)

    def __repr__(self) -> str:
        return (f"Calibration({len(self.keys)} keys, {len(self.points)} points, ESS {self.ess[0]:.1f}, "
                f"P(history) {self.evidence[0]:.4g})")


def calibrate(experiment: Union[str, pathlib.Path, dict],
              history: Union[History, Sequence[History], None] = None,
              design: str | None = None, points: int | None = None, runs: int | None = None,
              refine: int | None = None, refine_points: int | None = None, defensive: float | None = None,
              draws: int | None = None, top: int | None = None, seed: int | None = None,
              threads: int | None = None, quiet: bool = True) -> Calibration:
    """History matching: the posterior over an experiment's swept keys given an observed history.

    The likelihood P(history | θ) of each design point is the share of its runs whose record
    matches every element of the history (a joint event, counted run by run), k/n with binomial
    standard error sqrt(p (1 - p) / n). The posterior is represented by importance weights
    prior × likelihood / proposal over the points of every stage (deterministic-mixture weights,
    Owen & Zhou 2000); refinement stages draw their points from a defensive mixture of the prior and
    Gaussian kernels around the weighted points (Hesterberg 1995). Each summary's Monte Carlo
    interval comes from redrawing every likelihood from its Jeffreys posterior Beta(k + 1/2,
    n - k + 1/2) given the counts. The same code as ``wedge calibrate FILE --json``: for the same
    arguments the document is identical.

    Parameters
    ----------
    experiment : str, pathlib.Path or dict
        An experiment file, or a dict with its structure (as :func:`wedge.simulate`), whose
        ``[sweep]`` keys with ``min``/``max`` are the prior (uniform; integer keys on their
        integers, boolean keys ``{}`` on {false, true}). Keys not swept keep the scenario's values.
        Its ``[calibrate]`` table gives defaults for the arguments below.
    history : dict, str, or a list of them
        The observed history (see :func:`history_text`); several for independent observations
        (repeats count as one history observed several times). Default: the file's
        ``[calibrate.history]``, else :data:`HISTORY_1956`.
    design : "sobol" or "lhs"
        The first stage's design of the prior (default "sobol").
    points : int in [2, 100000]
        Design points of the first stage (default 256).
    runs : int in [1, 10^7]
        Runs per design point (default 2000).
    refine : int in [0, 10]
        Refinement stages drawn from the current posterior (default 0).
    refine_points : int in [2, 100000]
        Points per refinement stage (default ``points``).
    defensive : float in [0.01, 1]
        Share of the prior in each refinement proposal (default 0.1).
    draws : int in [20, 100000]
        Redraws of the likelihoods for the Monte Carlo intervals (default 200).
    top : int in [1, 1000]
        Most likely points kept in :meth:`Calibration.best` (default 10).
    seed : int
        Overrides the experiment's seed.
    threads : int
        Worker threads (default all cores); results do not depend on it.
    quiet : bool
        No progress on stderr (default True).

    Returns
    -------
    Calibration

    Raises
    ------
    TypeError
        An argument of the wrong type, named with its range ("runs must be an integer (an integer
        in [1, 10000000]), not float").
    ValueError (wedge._core.ConfigError)
        Bad input: a setting out of range, named as the argument ("runs = -3: must be an integer
        in [1, 10000000]"); the experiment has no swept key with min/max; an unknown outcome field
        or category in the history (the message lists the valid ones); a history no run can
        match ("format=declaration,format=treaty", ``rounds=99`` with 8 rounds).
    KeyboardInterrupt
        Ctrl-C; the calibration stops at its next wave boundary.
    """
    from . import _core  # built by `make build` into python/wedge/
    from . import _check_arguments, _dict_to_toml

    # Every argument checked before the engine runs, with its name and range (as simulate()): the
    # calibration settings' ranges (runs is calibrate's own), and the run settings' for seed and threads.
    ranges = {**_core.run_ranges(), **_core.calibrate_ranges()}
    points, runs, refine, refine_points, defensive, draws, top, seed, threads = _check_arguments(
        ranges, points=points, runs=runs, refine=refine, refine_points=refine_points, defensive=defensive,
        draws=draws, top=top, seed=seed, threads=threads)
    if design is not None and not isinstance(design, str):
        raise TypeError(f"design must be 'sobol' or 'lhs', not {type(design).__name__}")
    if not isinstance(quiet, bool):
        raise TypeError(f"quiet must be True or False, not {type(quiet).__name__}")
    path, text = "", ""
    if isinstance(experiment, (str, pathlib.Path)):
        path = str(experiment)
    elif isinstance(experiment, dict):
        text = _dict_to_toml(experiment)
    else:
        raise TypeError(f"experiment must be a path or a dict, not {type(experiment).__name__}")
    if history is None:
        histories = []
    elif isinstance(history, (str, Mapping)):
        histories = [history_text(history)]
    elif isinstance(history, Sequence) and all(isinstance(h, (str, Mapping)) for h in history):
        histories = [history_text(h) for h in history]
    else:
        raise TypeError(f"history must be a dict, a string or a list of them, not {type(history).__name__}")
    document = _core.calibrate(text, path, histories, design, points, runs, refine, refine_points, defensive,
                               draws, top, seed, threads, quiet)
    return Calibration(json.loads(document))
