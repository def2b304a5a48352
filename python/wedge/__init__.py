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
from .paired import compare

__all__ = ["open", "Results", "ResultsError", "simulate", "sobol_indices", "main_effects",
           "sobol_from_outputs", "plots", "sensitivity", "wilson", "FORMAT", "FORMAT_VERSION"]
__all__ += ["sobol_table", "main_effects_table", "main_effects_from_outputs", "SensitivityWarning",
            "parameters", "describe", "discover", "discovery", "Prim", "PrimBox", "CartResult"]
__all__ += ["ResultsBusyError", "ResultsPartialError", "ResultsDamagedError"]
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


def simulate(experiment: Union[str, pathlib.Path, dict[str, Any], None] = None,
             runs: int | None = None, seed: int | None = None, threads: int | None = None,
             set: Union[dict[str, Any], Sequence[str], None] = None,  # noqa: A002
             crn: bool | None = None, precision: float | None = None,
             records: bool = False) -> dict[str, Any]:
    """Runs an experiment in-process (no file is written) and returns its results.

    Parameters
    ----------
    experiment : str, pathlib.Path, dict or None
        An experiment file, a dict with the file's structure, or None for the baseline.
    runs, seed, threads, crn, precision :
        As ``wedge run``'s ``--runs``, ``--seed``, ``--threads``, ``--crn``, ``--precision``.
    set : dict or list of "key=value"
        Parameter overrides, as ``--set``.
    records : bool
        Also return every run's record as NumPy columns (category indices for categorical fields).

    Returns
    -------
    dict
        The document of ``wedge run --json`` ({"seed", "points": [{"index", "params", "runs",
        "counts", "stats"}]}), plus "experiment" (the resolved experiment as TOML) and, with
        ``records=True``, "records" (a dict of NumPy arrays). Equal to the command line's output
        for the same input.
    """
    from . import _core  # built by `make build` into python/wedge/

    path, text = "", ""
    if isinstance(experiment, (str, pathlib.Path)):
        path = str(experiment)
    elif isinstance(experiment, dict):
        text = _dict_to_toml(experiment)
    elif experiment is not None:
        raise TypeError("experiment must be a path, a dict or None")
    if isinstance(set, dict):
        sets = [f"{k}={_toml_value(v).strip(chr(34))}" for k, v in set.items()]
    else:
        sets = list(set or [])
    document, columns, resolved = _core.simulate(text, path, runs, seed, threads, sets, crn, precision, records)
    out = json.loads(document)
    out["experiment"] = resolved
    if records:
        out["records"] = dict(columns)
    return out
