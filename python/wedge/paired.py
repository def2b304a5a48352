"""Paired comparison of two scenarios: :func:`compare` (``wedge compare A.toml B.toml``).

(The module is ``paired``, not ``compare``, so that ``wedge.compare`` is the function alone.)

A run is a function of (seed, design point, replicate) alone, so run r of scenario A and run r of
scenario B with the same seed draw the same random numbers: they are a pair, and the difference
between the two scenarios is estimated from the per-run differences, whose variance is smaller
than that of two independent samples by the factor ``variance_ratio``. The engine computes
everything (experiments/compare.cpp) in one pass over both runs, with memory independent of the
number of runs; this module turns its document into a table.

>>> t = wedge.compare("experiments/scenarios/baseline.toml",
...                   "experiments/scenarios/c2_no_okinawa_threat.toml", runs=100_000)
>>> t[t.outcome == "format"][["category", "p_a", "p_b", "diff", "paired_low", "paired_high"]]
"""
from __future__ import annotations

import json
import pathlib
from typing import Any, Sequence, Union

import numpy as np
import pandas as pd

from .results import _typed_labels

Experiment = Union[str, pathlib.Path, dict, None]
Sets = Union[dict, Sequence[str], None]

#: The columns of the table :func:`compare` returns, in order.
COLUMNS = ["outcome", "category", "p_a", "p_b", "diff", "paired_low", "paired_high", "unpaired_low",
           "unpaired_high", "variance_ratio", "a_low", "a_high", "b_low", "b_high", "paired_se",
           "unpaired_se", "a_only", "b_only", "both"]


def _source(experiment: Experiment) -> tuple[str, str]:
    """(TOML text, path) for the engine: a path, a dict with the file's structure, or None."""
    from . import _dict_to_toml

    if isinstance(experiment, (str, pathlib.Path)):
        return "", str(experiment)
    if isinstance(experiment, dict):
        return _dict_to_toml(experiment), ""
    if experiment is None:
        return "", ""
    raise TypeError("an experiment must be a path, a dict or None (the baseline)")


def _sets(value: Sets, name: str) -> list[str]:
    """Overrides as "key=value" strings (a dict, or a list of such strings)."""
    from . import _toml_value

    if value is None:
        return []
    if isinstance(value, dict):
        return [f"{k}={_toml_value(v).strip(chr(34))}" for k, v in value.items()]
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TypeError(f'{name} must be a dict {{"key": value}} or a list of "key=value" strings')
    return list(value)


def _check_integer(name: str, value: Any, low: int, high: int) -> None:
    """None, or an integer in [low, high]: TypeError / ValueError naming the argument otherwise
    (the command line's wording for the range)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} = {value}: must be in [{low}, {high}]")


def _label(experiment: Experiment, description: str) -> str:
    """The description, else the file's name without .toml, else "baseline"."""
    if description:
        return description
    if isinstance(experiment, (str, pathlib.Path)):
        return pathlib.Path(experiment).stem
    return "baseline"


def comparison_frame(document: dict[str, Any]) -> pd.DataFrame:
    """The table of a ``wedge compare --json`` document (see :func:`compare`)."""
    rows = document["categorical"]
    outcomes = [r["outcome"] for r in rows]
    categories: list = []
    for outcome in dict.fromkeys(outcomes):
        categories += _typed_labels([r["category"] for r in rows if r["outcome"] == outcome])
    data: dict[str, Any] = {"outcome": outcomes, "category": categories}
    for col in COLUMNS[2:16]:
        data[col] = np.array([np.nan if r[col] is None else r[col] for r in rows], dtype=float)
    for col in COLUMNS[16:]:
        data[col] = np.array([r[col] for r in rows], dtype=np.int64)
    # JSON has no infinity: a null ratio is infinite when only the paired variance is 0.
    ratio = data["variance_ratio"]
    ratio[np.isnan(ratio) & (data["paired_se"] == 0) & (data["unpaired_se"] > 0)] = np.inf
    return pd.DataFrame(data, columns=COLUMNS)


def compare(a: Experiment = None, b: Experiment = None, runs: int | None = None, seed: int | None = None,
            threads: int | None = None, set: Sets = None, set_a: Sets = None,  # noqa: A002
            set_b: Sets = None) -> pd.DataFrame:
    """Runs scenarios A and B on the same random numbers and compares every outcome, pair by pair.

    Parameters
    ----------
    a, b : str, pathlib.Path, dict or None
        Each a single-point experiment: a file, a dict with a file's structure (as
        :func:`wedge.simulate`), or None for the baseline. A sweep raises ValueError.
    runs : int, optional
        Runs per scenario (the number of pairs), in [1, 2^32]; default: A's ``[run] runs``, else
        1,000,000. B's ``[run]`` table is not used.
    seed : int, optional
        The master seed of both sides, in [0, 2^63); default A's, else 1. The same seed is what
        makes the runs pairs.
    threads : int, optional
        Worker threads in [1, 1024] (default: all cores); results never depend on it.
    set, set_a, set_b : dict or list of "key=value"
        Parameter overrides (as ``--set``): ``set`` on both sides, then ``set_a`` on A and
        ``set_b`` on B.

    Returns
    -------
    pandas.DataFrame
        One row per category (that can occur) of every categorical outcome, columns
        ``outcome, category, p_a, p_b, diff`` (= p_b - p_a, the change from A to B),
        ``paired_low, paired_high`` (95% interval from the per-run differences),
        ``unpaired_low, unpaired_high`` (95% interval as if the two samples were independent),
        ``variance_ratio`` (unpaired / paired variance: how many times more runs independent
        sampling needs for the same precision; inf when the paired variance is 0, NaN when both
        are), ``a_low, a_high, b_low, b_high`` (each probability's 95% Wilson interval),
        ``paired_se, unpaired_se``, and the counts of pairs ``a_only`` (A in the category, B not),
        ``b_only`` and ``both``. Both intervals are normal-approximation intervals
        diff ± 1.96 se with sample variances; read them with care when ``a_only + b_only`` is
        below about 10. Category labels follow the package's rule (integers for numeric fields).

        ``.attrs``: ``runs``, ``seed``, ``a`` and ``b`` (labels: the description, the file name or
        "baseline"), ``a_experiment`` and ``b_experiment`` (resolved TOML), ``means`` (per
        continuous field: mean_a, mean_b, diff and its paired and unpaired intervals, as a dict),
        ``joint`` (per field, the table of pairs: rows A's category, columns B's), ``a_results``
        and ``b_results`` (each side's ``wedge run --json`` document: the same numbers as running
        it alone with that seed).

    Raises
    ------
    ValueError (wedge._core.ConfigError)
        Bad input, with the command line's message: an unknown key, a value out of range, a sweep,
        precision mode; ``runs``, ``seed`` or ``threads`` out of range.
    TypeError
        An argument of the wrong type (e.g. ``runs=1.5``, ``set="key=value"``).
    KeyboardInterrupt
        Ctrl-C stops both runs at their next block boundary.
    """
    from . import _core

    _check_integer("runs", runs, 1, 2**32)
    _check_integer("seed", seed, 0, 2**63 - 1)
    _check_integer("threads", threads, 1, 1024)
    a_text, a_path = _source(a)
    b_text, b_path = _source(b)
    document, a_toml, b_toml = _core.compare(a_text, a_path, b_text, b_path, _sets(set, "set"),
                                             _sets(set_a, "set_a"), _sets(set_b, "set_b"), runs, seed, threads)
    return _frame(json.loads(document), a, b, a_toml, b_toml)


def _frame(document: dict[str, Any], a: Experiment, b: Experiment, a_toml: str, b_toml: str) -> pd.DataFrame:
    table = comparison_frame(document)
    table.attrs.update({
        "runs": int(document["runs"]),
        "seed": int(document["seed"]),
        "a": _label(a, document["a"]["description"]),
        "b": _label(b, document["b"]["description"]),
        "a_experiment": a_toml,
        "b_experiment": b_toml,
        "means": _means(document["continuous"]),
        "joint": document["joint"],
        "a_results": document["a"]["results"],
        "b_results": document["b"]["results"],
    })
    return table


def _means(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per continuous field: mean_a, mean_b, diff, intervals, standard errors, variance_ratio."""
    out = {}
    for row in rows:
        values = {k: (np.nan if v is None else float(v)) for k, v in row.items() if k != "outcome"}
        if np.isnan(values["variance_ratio"]) and values["paired_se"] == 0 and values["unpaired_se"] > 0:
            values["variance_ratio"] = np.inf
        out[row["outcome"]] = values
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m wedge compare A.toml B.toml ...``: :func:`compare` from the command line (the
    same table as ``wedge compare``, for an installed package without the binary). Returns the exit
    code: 0, 2 for bad input, 130 when interrupted."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python3 -m wedge compare",
        description="Paired comparison of two single-point scenarios on the same random numbers: every "
                    "outcome's probabilities and their difference B - A with paired and unpaired 95% intervals.")
    parser.add_argument("a", metavar="A", help="scenario A (TOML file; 'baseline' for the baseline)")
    parser.add_argument("b", metavar="B", help="scenario B (TOML file; 'baseline' for the baseline)")
    parser.add_argument("--runs", type=int, help="runs per scenario (pairs); default A's [run] runs, else 1000000")
    parser.add_argument("--seed", type=int, help="master seed of both sides; default A's, else 1")
    parser.add_argument("--threads", type=int, help="worker threads (default: all cores)")
    for flag, side in (("--set", "both sides"), ("--set-a", "side A only, after --set"),
                       ("--set-b", "side B only, after --set")):
        parser.add_argument(flag, action="append", default=[], metavar="KEY=VALUE",
                            help=f"override a parameter on {side} (repeatable)")
    parser.add_argument("--json", action="store_true",
                        help="print the table as JSON records (exact numbers; NaN and infinity as null)")
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["compare"]:  # as `python3 -m wedge` passes them
        arguments = arguments[1:]
    args = parser.parse_args(arguments)
    from . import _core

    def side(name: str) -> Experiment:
        return None if name == "baseline" else name

    try:
        table = compare(side(args.a), side(args.b), runs=args.runs, seed=args.seed, threads=args.threads,
                        set=args.set, set_a=args.set_a, set_b=args.set_b)
    except (_core.ConfigError, ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    if args.json:
        # Exact doubles (shortest round-trip form); NaN and infinities, which JSON lacks, as null.
        rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                for row in table.to_dict(orient="records")]
        rows = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
                for row in rows]
        print(json.dumps(rows))
        return 0
    print(f"A: {table.attrs['a']}    B: {table.attrs['b']}    {table.attrs['runs']} pairs, seed {table.attrs['seed']}")
    shown = table[["outcome", "category", "p_a", "p_b", "diff", "paired_low", "paired_high", "unpaired_low",
                   "unpaired_high", "variance_ratio"]]
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    return 0
