"""wedge: analyse the outcome distributions of the 1955-56 tug of war over Japan.

>>> import wedge
>>> with wedge.open("results/baseline.h5") as r:
...     r.summary().head()

Results files come from ``wedge run --out FILE.h5``; :func:`simulate` runs the engine in-process.
"""
from __future__ import annotations

import sys

if sys.version_info < (3, 11):  # tomllib (reading the experiment stored in results files)
    raise ImportError(f"wedge needs Python 3.11 or newer (it uses tomllib); this is {sys.version.split()[0]}: "
                      "use Debian 12's /usr/bin/python3")

import json
import math
import numbers
import os
import pathlib
from typing import Any, Sequence, Union

from . import plots, sensitivity
from .results import FORMAT, FORMAT_VERSION, Results, ResultsError, open, wilson
from .results import ResultsBusyError, ResultsDamagedError, ResultsPartialError
from .sensitivity import main_effects, sobol_from_outputs, sobol_indices
from .sensitivity import SensitivityWarning, main_effects_from_outputs, main_effects_table, sobol_table
from .registry import describe, parameters
from . import discovery
from .discovery import CartResult, Prim, PrimBox, discover
from .calibration import HISTORY_1956, Calibration, calibrate
from .paired import compare

__all__ = ["open", "Results", "ResultsError", "simulate", "sobol_indices", "main_effects",
           "sobol_from_outputs", "plots", "sensitivity", "wilson", "FORMAT", "FORMAT_VERSION"]
__all__ += ["sobol_table", "main_effects_table", "main_effects_from_outputs", "SensitivityWarning",
            "parameters", "describe", "discover", "discovery", "Prim", "PrimBox", "CartResult"]
__all__ += ["ResultsBusyError", "ResultsPartialError", "ResultsDamagedError"]
__all__ += ["calibrate", "Calibration", "HISTORY_1956"]
__all__ += ["compare", "explore"]


def explore(experiment: Union[str, pathlib.Path, None] = None, port: int = 8765, host: str = "127.0.0.1",
            runs: int | None = None, seed: int | None = None, threads: int | None = None) -> None:
    """Serves the what-if page (``python3 -m wedge explore``) on 127.0.0.1 until Ctrl-C; see
    :func:`wedge.explorer.serve` for the arguments. Prints the address; opens nothing."""
    from .explorer import serve

    serve(experiment, port=port, host=host, runs=runs, seed=seed, threads=threads)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} in an experiment")


def _dict_to_toml(experiment: dict[str, Any]) -> str:
    """An experiment dict shaped like an experiment file ({"dulles": {"tact": 0.9}, "sweep":
    {"design": "grid", "keys": {"dulles.tact": [0.1, 0.9]}}, ...}) as TOML text."""
    lines, tables = [], []

    def table(prefix, body):
        scalars = {k: v for k, v in body.items() if not (isinstance(v, dict) and not (prefix == "sweep.keys"))}
        nested = {k: v for k, v in body.items() if isinstance(v, dict) and prefix != "sweep.keys"}
        tables.append((prefix, scalars))
        for k, v in nested.items():
            table(f"{prefix}.{k}", v)

    for key, value in experiment.items():
        if isinstance(value, dict):
            table(key, value)
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for prefix, body in tables:
        lines.append(f"[{prefix}]")
        for k, v in body.items():
            name = json.dumps(k) if "." in k else k
            lines.append(f"{name} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _check_run_argument(name: str, value: Any) -> Any:
    """``value`` of run setting ``name`` (runs, seed, threads, max_runs, precision, point,
    replicate) checked against the command line's range (experiments/experiment.hpp, read from the
    engine): None passes; TypeError for a wrong type, wedge._core.ConfigError (a ValueError) for a
    value out of range, both naming the argument and its range. Returns the value as int/float."""
    from . import _core

    return _check_argument(name, value, _core.run_ranges()[name])


def _check_argument(name: str, value: Any, valid: tuple) -> Any:
    """``value`` of argument ``name`` checked against ``valid`` = (kind "integer"/"real", min,
    max, "an integer in [1, 10]"), as :func:`_check_run_argument` does: None passes; TypeError
    for a wrong type, wedge._core.ConfigError for a value out of range."""
    from . import _core

    if value is None:
        return None
    kind, low, high, text = valid
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer ({text}), not {type(value).__name__}")
        value = int(value)
        if not low <= value <= high:
            raise _core.ConfigError(f"{name} = {value}: must be {text}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number ({text}), not {type(value).__name__}")
    if not (math.isfinite(value) and low <= value <= high):
        raise _core.ConfigError(f"{name} = {value}: must be {text}")
    return float(value)


def _check_arguments(ranges: dict[str, tuple], **values: Any) -> list[Any]:
    """Each keyword argument checked by :func:`_check_argument` against its range in ``ranges``
    ({name: (kind, min, max, text)}, as ``wedge._core.run_ranges()`` and ``calibrate_ranges()``
    give them: the command line's own ranges). Returns the checked values in the order given;
    raises as :func:`_check_argument` does, naming the first bad argument."""
    return [_check_argument(name, value, ranges[name]) for name, value in values.items()]


def _overrides(value: Union[dict[str, Any], Sequence[str], None], name: str = "set") -> list[str]:
    """Overrides as "key=value" strings, from a dict or a list of such strings (TypeError naming
    the argument otherwise)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [f"{k}={_toml_value(v).strip(chr(34))}" for k, v in value.items()]
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise TypeError(f'{name} must be a dict {{"key": value}} or a list of "key=value" strings, '
                        f"not {type(value).__name__}")
    return list(value)


def simulate(experiment: Union[str, pathlib.Path, dict[str, Any], None] = None,
             runs: int | None = None, seed: int | None = None, threads: int | None = None,
             set: Union[dict[str, Any], Sequence[str], None] = None,  # noqa: A002
             crn: bool | None = None, precision: float | None = None,
             records: bool = False, max_runs: int | None = None,
             base: Union[str, pathlib.Path, None] = None) -> dict[str, Any]:
    """Runs an experiment in-process (no file is written) and returns its results.

    Parameters
    ----------
    experiment : str, pathlib.Path, dict or None
        An experiment file, a dict with the file's structure, or None for the baseline. A dict may
        use ``extends`` ({"extends": "experiments/scenarios/c2_no_okinawa_threat.toml", "dulles":
        {"tact": 0.5}}): a file relative to ``base``, else to the working directory, followed as
        a file's chain is (its own ``extends`` relative to that file).
    runs : int, optional
        Replicates per design point, in [1, 2^32] (precision mode: the first batch, rounded up to
        whole blocks of 2,048 runs, at most ``max_runs``: ``runs=100`` runs 2,048 a point, which
        the result's counts show and a UserWarning says, as ``--runs``'s note does); as ``--runs``.
    seed : int, optional
        Master seed in [0, 2^63 - 1]; as ``--seed``.
    threads : int, optional
        Worker threads in [1, 1024] (default: all cores); results never depend on it.
    crn : bool, optional
        Common random numbers across design points; as ``--crn``.
    precision : float, optional
        Precision mode: add replicates until every 95% half-width is at most this, in
        [1e-06, 0.5]; as ``--precision``.
    max_runs : int, optional
        Precision mode's cap on replicates per point, in [1, 2^32]; as ``--max-runs``.
    set : dict or list of "key=value"
        Parameter overrides, as ``--set``.
    records : bool
        Also return every run's record as NumPy columns (category indices for categorical fields).
        Every record is kept in memory: a run whose records would not fit is refused before it
        starts, with the memory it would need.
    base : str or pathlib.Path, optional
        The directory a dict's ``extends`` is relative to (default: the working directory).

    Returns
    -------
    dict
        The document of ``wedge run --json`` ({"seed", "points": [{"index", "params", "runs",
        "counts", "stats"}]}; in precision mode first "precision": {"target", "max_runs", "reached",
        "widest_half_width"}, and a UserWarning when the target was not reached within the cap),
        plus "experiment" (the resolved experiment as TOML) and, with
        ``records=True``, "records" (a dict of NumPy arrays). Equal to the command line's output
        for the same input.

    Raises
    ------
    TypeError
        An argument of the wrong type, named with its valid range ("runs must be an integer (an
        integer in [1, 4294967296]), not float").
    wedge._core.ConfigError (a ValueError)
        A value out of range, with the command line's words ("seed = -1: must be an integer in
        [0, 9223372036854775807]"); bad input in the experiment (file, line, key, valid range);
        records that would not fit in memory ("the run needs about ... of memory ...").
    KeyboardInterrupt
        Ctrl-C stops the run at its next wave boundary (within a second); the process stays usable.
    """
    from . import _core  # built by `make build` into python/wedge/

    runs, seed, threads, precision, max_runs = _check_arguments(
        _core.run_ranges(), runs=runs, seed=seed, threads=threads, precision=precision, max_runs=max_runs)
    if crn is not None and not isinstance(crn, bool):
        raise TypeError(f"crn must be True, False or None, not {type(crn).__name__}")
    if not isinstance(records, bool):
        raise TypeError(f"records must be True or False, not {type(records).__name__}")
    if base is not None and not isinstance(base, (str, pathlib.Path)):
        raise TypeError(f"base must be a directory path, not {type(base).__name__}")
    path, text, text_base = "", "", None
    if isinstance(experiment, (str, pathlib.Path)):
        path = str(experiment)
    elif isinstance(experiment, dict):
        text = _dict_to_toml(experiment)
        text_base = str(base) if base is not None else os.getcwd()
    elif experiment is not None:
        raise TypeError(f"experiment must be a path, a dict or None (the baseline), not {type(experiment).__name__}")
    sets = _overrides(set)
    try:
        document, columns, resolved = _core.simulate(text, path, runs, seed, threads, sets, crn, precision, records,
                                                     max_runs, text_base)
    except _core.ConfigError as error:
        if records and " records x " in str(error):  # the memory estimate refused the records
            raise _core.ConfigError(f"{error}; records=False keeps only the summaries") from None
        raise
    out = json.loads(document)
    out["experiment"] = resolved
    if records:
        out["records"] = dict(columns)
    return out
