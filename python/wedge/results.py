"""Reading wedge results files (docs/output-format.md) into pandas and xarray.

Category labels follow one rule everywhere (:meth:`Results.summary`, :meth:`Results.runs`,
:meth:`Results.to_xarray`, :attr:`Results.fields`): a field whose every category is an integer
(``islands_promised`` 0, 2, 4; ``rounds`` 1 ... 100) has integer labels (Python ``int``, NumPy
``int64``); the other fields (``format``: none, declaration, treaty) have string labels. Swept
keys come back with their parameter's type: integer keys as ``int64``, booleans as ``bool``, the
rest as ``float64``.
"""
from __future__ import annotations

import errno
import fcntl
import os
import pathlib
import shlex
import tomllib
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, Union

import h5py
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xarray

FORMAT = "wedge-results"
FORMAT_VERSION = 1
Z95 = 1.959963984540054

#: What :func:`open` accepts as a path.
PathLike = Union[str, "os.PathLike[str]"]
#: A category label: ``str`` for named categories, ``int`` for numeric ones.
Label = Union[str, int]

#: Categorical fields whose categories are round numbers: a run of a point with
#: ``negotiation.rounds = R`` can only take the labels up to R (MODEL.md section 5;
#: ``TugOfWar::categories_in_use`` in agents/tug_of_war.cpp).
ROUND_FIELDS = ("rounds", "threat_round", "shigemitsu_round", "two_island_round")


class ResultsError(Exception):
    """A file that is not a (complete, readable, supported) wedge results file."""


class ResultsBusyError(ResultsError):
    """The file is being written by another process (a ``wedge run`` or ``wedge merge`` holds its
    lock): wait until that run has finished or been interrupted. The file is not damaged."""


class ResultsPartialError(ResultsError):
    """The run that wrote the file was interrupted. The file is healthy: ``resume_command``
    continues it (``wedge run ... --resume``); ``allow_partial=True`` reads the runs done so far."""

    def __init__(self, message: str, resume_command: str | None = None):
        super().__init__(message)
        #: The command that continues the run, or None when it cannot be resumed (precision mode).
        self.resume_command = resume_command


class ResultsDamagedError(ResultsError):
    """The file is damaged (truncated, corrupted, or inconsistent); the message says what."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _typed_labels(labels: Sequence[Any]) -> list[Label]:
    """Category labels by the package's rule: all integers -> ints, else strings."""
    texts: list[Label] = [_text(c) for c in labels]
    try:
        return [int(t) for t in texts]
    except ValueError:
        return texts


def _write_lock_held(path: pathlib.Path) -> bool:
    """Whether a wedge process holds the write lock of results file ``path`` (NAME.h5 or
    NAME.h5.partial; the lock is NAME.h5.lock, held with flock while the file is written): the
    check `wedge inspect` makes (output/hdf5.cpp)."""
    base = str(path)
    if base.endswith(".partial"):
        base = base[: -len(".partial")]
    try:
        fd = os.open(base + ".lock", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        return err.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    finally:
        os.close(fd)  # releases the lock if we got it
    return False


def _resume_command(command_line: str, final: str) -> str:
    """The file's recorded command line with ``--resume`` (and without ``--force``)."""
    try:
        words = shlex.split(command_line)
    except ValueError:
        words = []
    if not words or "run" not in words:
        return f"wedge run EXPERIMENT --resume --out {shlex.quote(final)}"
    words = [w for w in words if w != "--force"]
    if "--resume" not in words:
        words.append("--resume")
    return shlex.join(words)


def wilson(k, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval for k successes in n trials (arrays allowed); [0, 1] when n = 0.

    The same formula as the engine (engine/stats.cpp), exact 0 at k = 0 and 1 at k = n.
    Returns (low, high), arrays of the broadcast shape of ``k`` and ``n``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1), 0.0)
        z2 = z * z
        denom = 1.0 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
        low = np.where(k == 0, 0.0, np.maximum(0.0, centre - half))
        high = np.where(k == n, 1.0, np.minimum(1.0, centre + half))
    low = np.where(n > 0, low, 0.0)
    high = np.where(n > 0, high, 1.0)
    return low, high


class Results:
    """An open results file. Use as a context manager, or call :meth:`close`.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.h5`` file written by ``wedge run --out`` or ``wedge merge`` (or a ``.h5.partial``
        with ``allow_partial=True``).
    allow_partial : bool
        Accept a file whose run was interrupted (``complete = 0``); its summaries are those of the
        last checkpoint and its records those the checkpoint counts.

    Raises
    ------
    FileNotFoundError
        No such file.
    ResultsBusyError
        Another process is writing the file (the check of ``wedge inspect``).
    ResultsPartialError
        The run was interrupted and ``allow_partial`` is False; the message gives the command that
        resumes it.
    ResultsDamagedError
        The file is truncated, corrupted or inconsistent (e.g. counts that do not sum to the runs).
    ResultsError
        Not a wedge results file, or a newer ``format_version`` than this package reads.
    """

    def __init__(self, path: PathLike, allow_partial: bool = False):
        self.path = pathlib.Path(path)
        self._cache: tuple | None = None
        if not self.path.exists() and pathlib.Path(f"{self.path}.partial").is_file():
            # The user knows the --out name; while that run is written, or after it was
            # interrupted, only FILE.partial exists: its errors (busy, interrupted) say which.
            self.path = pathlib.Path(f"{self.path}.partial")
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise ResultsError(f"{self.path}: is a directory")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            if _write_lock_held(self.path):
                raise self._busy() from None
            if not h5py.is_hdf5(self.path):
                raise ResultsError(f"{self.path}: not an HDF5 file (or damaged beyond reading)") from None
            raise ResultsDamagedError(
                f"{self.path}: damaged: cannot open it as HDF5 ({err}); `wedge inspect {self.path}` "
                "reports the same") from None
        try:
            self._check(allow_partial)
        except Exception:
            self._file.close()
            raise

    def _busy(self) -> ResultsBusyError:
        return ResultsBusyError(
            f"{self.path}: is being written by another process (it holds "
            f"{str(self.path).removesuffix('.partial')}.lock); open it when that run has finished "
            "or been interrupted")

    def _damaged(self, what: str) -> ResultsDamagedError:
        return ResultsDamagedError(f"{self.path}: damaged: {what}")

    def _check(self, allow_partial: bool) -> None:
        attrs = self._file.attrs
        if _text(attrs.get("format", "")) != FORMAT:
            raise ResultsError(f"{self.path}: not a wedge results file (no format = \"{FORMAT}\")")
        try:
            version = int(attrs.get("format_version", 0))
        except (TypeError, ValueError):
            raise self._damaged("attribute format_version is not an integer") from None
        if version > FORMAT_VERSION:
            raise ResultsError(
                f"{self.path}: format_version {version} is newer than this package reads "
                f"({FORMAT_VERSION}); upgrade wedge")
        if version < 1:
            raise ResultsError(f"{self.path}: format_version {version} is not supported")
        try:
            self.complete = bool(int(attrs["complete"]))
            done, planned = int(attrs["runs_done"]), int(attrs["runs_planned"])
        except (KeyError, TypeError, ValueError) as err:
            raise self._damaged(f"root attribute {err} is missing or not a number") from None
        if not self.complete:
            # A writer holds the lock while the file is incomplete; HDF5's own file locking
            # usually refuses the open before this, unless it is turned off.
            if _write_lock_held(self.path):
                raise self._busy()
        self._validate()
        if not self.complete and not allow_partial:
            final = str(self.path).removesuffix(".partial")
            if planned == 0:
                raise ResultsPartialError(
                    f"{self.path}: interrupted after {done} runs of a precision-mode run, which "
                    "wedge cannot resume yet; read what it holds with allow_partial=True, or run the "
                    "experiment again")
            command = _resume_command(_text(attrs.get("command_line", "")), final)
            raise ResultsPartialError(
                f"{self.path}: interrupted after {done} of {planned} runs: resume with `{command}` "
                f"(the same experiment and seed; the result equals an uninterrupted run), or open it "
                f"with allow_partial=True to read the runs done so far", command)

    def _validate(self) -> None:
        """Cross-checks what must agree (shapes, counts against runs, records against runs_done);
        raises ResultsDamagedError saying what does not."""
        try:
            runs, counts, cont = self._state()
            points = int(self._file.attrs["points"])
            design_points = self._file["design/point"].shape[0]
        except (KeyError, OSError, ValueError, TypeError) as err:
            raise self._damaged(f"cannot read the summaries ({err})") from None
        if len(runs) != points or design_points != points:
            raise self._damaged(f"{len(runs)} points in the summaries, {design_points} in /design, "
                                f"{points} in the attributes")
        for field, cats in self.fields.items():
            c = counts[field]
            if c.shape != (points, len(cats)):
                raise self._damaged(f"/summary/{field}/counts has shape {c.shape}, expected {(points, len(cats))}")
            sums = c.sum(axis=1)
            bad = np.flatnonzero(sums != runs)
            if bad.size:
                p = int(bad[0])
                raise self._damaged(f"{field} counts at point {p} sum to {int(sums[p])}, expected {int(runs[p])} runs")
        done = int(runs.sum())
        if self.complete and done != int(self._file.attrs["runs_done"]):
            raise self._damaged(f"the summaries hold {done} runs, runs_done = {int(self._file.attrs['runs_done'])}")
        if "runs" in self._file and self.runs_stored < done:
            raise self._damaged(f"{self.runs_stored} per-run records stored, {done} runs done")

    # -- context manager -------------------------------------------------------------------
    def close(self) -> None:
        """Closes the file (per-run Datasets of :meth:`to_xarray` cannot read after this)."""
        self._file.close()

    def __enter__(self) -> Results:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<wedge.Results {self.path.name}: {self.attrs['model']} v{self.attrs['model_version']}, "
                f"{self.attrs['points']} point(s), {self.attrs['runs_done']} runs"
                f"{'' if self.complete else ', PARTIAL'}>")

    # -- metadata ----------------------------------------------------------------------------
    @property
    def attrs(self) -> dict[str, Any]:
        """The root attributes (strings decoded, numbers as Python ints/floats)."""
        out = {}
        for key, value in self._file.attrs.items():
            if isinstance(value, (bytes, str)):
                out[key] = _text(value)
            elif isinstance(value, np.generic):
                out[key] = value.item()
            else:
                out[key] = value
        return out

    @property
    def precision(self) -> dict[str, Any] | None:
        """Precision mode's outcome, or None for a fixed number of runs (or a file written before
        wedge recorded it): ``{"target": E, "max_runs": N, "reached": bool, "widest_half_width":
        w}``, the ``"precision"`` member of ``wedge run --json``. ``reached`` is False when
        ``--max-runs`` stopped the run first (the results are valid, but less precise than asked).
        """
        attrs = self._file.attrs
        if "precision_target" not in attrs:
            return None
        return {"target": float(attrs["precision_target"]), "max_runs": int(attrs["precision_max_runs"]),
                "reached": bool(int(attrs["precision_reached"])),
                "widest_half_width": float(attrs["precision_widest_half_width"])}

    @property
    def experiment(self) -> dict[str, Any]:
        """The resolved experiment (after extends, --set and defaults) as a dict."""
        return tomllib.loads(_text(self._file.attrs["experiment"]))

    @property
    def description(self) -> str:
        """The experiment's ``description`` ("" if it has none)."""
        return self.experiment.get("description", "")

    @property
    def label(self) -> str:
        """A name for legends and tables: the description, else the file's name without ``.h5``
        (``results/c2.h5`` gives "c2"); never empty."""
        if self.description:
            return self.description
        name = self.path.name.removesuffix(".partial").removesuffix(".h5")
        return name or "baseline"

    @property
    def swept_keys(self) -> list[str]:
        """The swept keys, in design order (empty for a single scenario)."""
        return [_text(k) for k in self._file["design"].attrs["keys"]]

    def _key_dtype(self, key: str) -> np.dtype:
        """The key's parameter type, from the resolved experiment: int64, bool or float64."""
        value: Any = self.experiment
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, bool):
            return np.dtype(bool)
        if isinstance(value, int):
            return np.dtype(np.int64)
        return np.dtype(np.float64)

    def _key_values(self, key: str) -> np.ndarray:
        """One swept key's values per point, in its parameter's type."""
        values = self._file["design"][key][:]
        dtype = self._key_dtype(key)
        if dtype != np.float64 and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            return values.astype(dtype)
        return values

    @property
    def design(self) -> pd.DataFrame:
        """One row per design point (index ``point``, int64), one column per swept key (integer
        keys as int64, booleans as bool, others float64)."""
        group = self._file["design"]
        data = {key: self._key_values(key) for key in self.swept_keys}
        return pd.DataFrame(data, index=pd.Index(group["point"][:].astype(np.int64), name="point"))

    @property
    def fields(self) -> dict[str, list[Label]]:
        """Categorical fields and their category labels in file order (ints for numeric fields)."""
        return {name: _typed_labels(g.attrs["categories"])
                for name, g in self._file["summary"].items()
                if isinstance(g, h5py.Group) and _text(g.attrs.get("kind", "")) == "categorical"}

    @property
    def continuous_fields(self) -> list[str]:
        """The continuous fields (summarised as moments and histograms)."""
        return [name for name, g in self._file["summary"].items()
                if isinstance(g, h5py.Group) and _text(g.attrs.get("kind", "")) == "continuous"]

    def category(self, field: str, label: Any) -> Label:
        """The label of ``field`` that ``label`` names, by the package's rule (``"2"`` and ``2``
        both give 2 for ``islands_promised``). Raises KeyError for an unknown field or label."""
        if field not in self.fields:
            raise KeyError(f"unknown field {field!r}; valid: {list(self.fields)}")
        labels = self.fields[field]
        if labels and isinstance(labels[0], int) and not isinstance(label, bool):
            try:
                value: Label = int(label)
            except (TypeError, ValueError):
                value = label
        else:
            value = str(label)
        if value not in labels:
            raise KeyError(f"{field} has no category {label!r}; valid: {labels}")
        return value

    # -- summaries ---------------------------------------------------------------------------
    def _state(self):
        """(runs [P], counts {field: [P, C]}, continuous {field: {n, mean, m2, min, max}})."""
        if self._cache is not None:
            return self._cache
        if self.complete and "runs" in self._file["summary"]:
            g = self._file["summary"]
            runs = g["runs"][:]
            counts = {f: g[f]["counts"][:] for f in self.fields}
            cont = {f: {k: g[f][k][:] for k in ("n", "mean", "m2", "min", "max")} for f in self.continuous_fields}
        else:
            slot = self._file["checkpoint"][str(int(self._file.attrs["checkpoint_slot"]))]
            runs = slot["runs"][:]
            counts = {f: slot[f + "_counts"][:] for f in self.fields}
            cont = {f: {k: slot[f"{f}_{k}"][:] for k in ("n", "mean", "m2", "min", "max")}
                    for f in self.continuous_fields}
        self._cache = (runs, counts, cont)
        return self._cache

    def categories_in_use(self, field: str) -> np.ndarray:
        """Which categories of ``field`` can occur at each point: a bool array [points, categories].

        The round fields (``rounds``, ``threat_round``, ``shigemitsu_round``,
        ``two_island_round``) stop at the point's ``negotiation.rounds``; every category of the
        other fields can occur. Categories that cannot occur always have count 0.
        """
        labels = self.fields[field]
        points = int(self._file.attrs["points"])
        mask = np.ones((points, len(labels)), dtype=bool)
        if field not in ROUND_FIELDS or self.attrs.get("model") != "tug_of_war":
            return mask
        if "negotiation.rounds" in self.swept_keys:
            rounds = self._key_values("negotiation.rounds").astype(np.int64)
        else:
            rounds = np.full(points, int(self.experiment.get("negotiation", {}).get("rounds", max(labels))))
        return np.asarray(labels, dtype=np.int64)[None, :] <= rounds[:, None]

    def summary(self, fields: Sequence[str] | None = None, all_categories: bool = False) -> pd.DataFrame:
        """A tidy table: one row per point x field x category that can occur.

        Columns: ``point`` (int64), the swept keys by their full names, ``field``, ``category``
        (the label: int for numeric fields, str otherwise), ``count``, ``p``, ``ci_low``,
        ``ci_high`` (95% Wilson interval, as the engine's).

        Parameters
        ----------
        fields : list of str, optional
            The categorical fields (default: all, in file order). Unknown names raise KeyError.
        all_categories : bool
            Also the categories that cannot occur (round numbers beyond ``negotiation.rounds``,
            always count 0): the file's full, padded table (100 or 101 round categories).
        """
        runs, counts, _ = self._state()
        design = self.design
        wanted = list(self.fields) if fields is None else list(fields)
        unknown = [f for f in wanted if f not in self.fields]
        if unknown:
            raise KeyError(f"unknown field(s) {unknown}; valid: {list(self.fields)}")
        frames = []
        for field in wanted:
            cats = self.fields[field]
            c = counts[field]
            points = np.repeat(np.arange(c.shape[0], dtype=np.int64), c.shape[1])
            k = c.reshape(-1)
            n = np.repeat(runs, c.shape[1])
            low, high = wilson(k, n)
            with np.errstate(invalid="ignore", divide="ignore"):
                p = np.where(n > 0, k / np.where(n > 0, n, 1), 0.0)
            frame = pd.DataFrame({"point": points, "field": field,
                                  "category": np.tile(np.array(cats, dtype=object), c.shape[0]),
                                  "count": k, "p": p, "ci_low": low, "ci_high": high})
            if not all_categories:
                frame = frame[self.categories_in_use(field).reshape(-1)]
            frames.append(frame)
        table = pd.concat(frames, ignore_index=True)
        if len(design.columns):
            table = table.merge(design, left_on="point", right_index=True, how="left")
            table = table[["point", *design.columns, "field", "category", "count", "p", "ci_low", "ci_high"]]
        return table

    def probability(self, field: str, category: Any) -> pd.Series:
        """P(field = category) per design point (a Series indexed by ``point``). ``category`` is a
        label of the field (``"2"`` or ``2`` for a numeric one); KeyError if it has none such."""
        label = self.category(field, category)
        table = self.summary([field], all_categories=True)
        rows = table[table["category"] == label]
        return rows.set_index("point")["p"]

    def stats(self) -> pd.DataFrame:
        """Continuous fields per point: n, mean, variance, sd, min, max."""
        _, _, cont = self._state()
        frames = []
        for field, s in cont.items():
            n = s["n"].astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                variance = np.where(n > 1, s["m2"] / np.maximum(n - 1, 1), 0.0)
            frames.append(pd.DataFrame({"point": np.arange(len(n)), "field": field, "n": s["n"],
                                        "mean": s["mean"], "variance": variance, "sd": np.sqrt(variance),
                                        "min": s["min"], "max": s["max"]}))
        return pd.concat(frames, ignore_index=True)

    # -- per-run records ------------------------------------------------------------------------
    @property
    def runs_stored(self) -> int:
        """Per-run records in the file (0 when written with ``--store summary``)."""
        return int(self._file["runs/point"].shape[0]) if "runs" in self._file else 0

    def _runs_group(self) -> h5py.Group:
        if not self._file.id.valid:
            raise ResultsError(f"{self.path}: the file is closed; load the data before closing it")
        if "runs" not in self._file:
            raise ResultsError(f"{self.path}: no per-run records (written with --store summary)")
        return self._file["runs"]

    def _run_columns(self) -> list[str]:
        group = self._runs_group()
        return [name for name, ds in group.items()
                if isinstance(ds, h5py.Dataset) and _text(ds.attrs.get("CLASS", "")) != "DIMENSION_SCALE"]

    def _runs_total(self) -> int:
        """The records that count: all of a complete file's, the checkpoint's of a partial one."""
        if self.complete:
            return self.runs_stored
        return min(int(self._state()[0].sum()), self.runs_stored)

    def _read_column(self, name: str, start: int, stop: int, step: int = 1) -> np.ndarray:
        try:
            return self._runs_group()[name][start:stop:step]
        except OSError as err:
            raise self._damaged(f"/runs/{name} records {start} to {stop - 1} cannot be read ({err})") from None

    def iter_runs(self, columns: Sequence[str] | None = None, points: Iterable[int] | None = None,
                  chunk_size: int = 1 << 20) -> Iterator[pd.DataFrame]:
        """Yields DataFrames of per-run records, ``chunk_size`` rows at a time (lazily).

        Columns ``point`` and ``replicate`` come first; categorical fields are pandas Categoricals
        over every category of the field (labels by the package's rule); continuous fields as
        stored (float32). Raises ResultsError for a file without records, KeyError for unknown
        columns, ResultsDamagedError for records that cannot be read (a chunk's checksum fails).
        """
        group = self._runs_group()
        available = self._run_columns()
        names = ["point", "replicate", *[c for c in available if c not in ("point", "replicate")]]
        if columns is not None:
            unknown = [c for c in columns if c not in available]
            if unknown:
                raise KeyError(f"unknown column(s) {unknown}; valid: {available}")
            names = list(dict.fromkeys(["point", "replicate", *columns]))
        wanted = None if points is None else np.asarray(sorted(set(points)), dtype=np.int64)
        total = self._runs_total()
        for start in range(0, total, chunk_size):
            stop = min(start + chunk_size, total)
            data = {}
            for name in names:
                values = self._read_column(name, start, stop)
                ds = group[name]
                if "categories" in ds.attrs:
                    cats = _typed_labels(ds.attrs["categories"])
                    if _text(ds.attrs["encoding"]) == "index":
                        values = pd.Categorical.from_codes(values.astype(np.int64), categories=cats)
                    else:
                        values = pd.Categorical(values.astype(np.int64), categories=cats)
                elif name in ("point", "replicate"):
                    values = values.astype(np.int64)
                data[name] = values
            frame = pd.DataFrame(data)
            if wanted is not None:
                frame = frame[frame["point"].isin(wanted)]
            yield frame

    def runs(self, columns: Sequence[str] | None = None, points: Iterable[int] | None = None,
             chunk_size: int = 1 << 20) -> pd.DataFrame:
        """Per-run records as one DataFrame (read in chunks; see :meth:`iter_runs`)."""
        frames = list(self.iter_runs(columns, points, chunk_size))
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    # -- xarray ----------------------------------------------------------------------------------
    def to_xarray(self, runs: bool = False, all_categories: bool = False) -> xarray.Dataset:
        """The results as an xarray.Dataset.

        Parameters
        ----------
        runs : bool
            False (default): the summaries, with dimension ``point`` (the swept keys as
            coordinates) and one ``<field>_category`` dimension per categorical field
            (``<field>_count``, ``_p``, ``_ci_low``, ``_ci_high``), plus ``runs`` and the
            continuous fields' ``_n``, ``_mean``, ``_min``, ``_max`` over ``point``.
            True: the per-run records, lazily: dimension ``run``, one variable per field (labels by
            the package's rule; continuous as stored, float32), coordinates ``point``,
            ``replicate`` and the swept keys of each run's point. Nothing is read until values
            are used (``.values``, ``.load()``, a reduction), and then only the selected runs, so
            files larger than memory can be sliced (``ds.isel(run=slice(0, 10**6))``). It reads
            from this open file: load what you need before :meth:`close`.
        all_categories : bool
            Summaries only: keep the categories that cannot occur at any point (round numbers
            beyond the largest ``negotiation.rounds``), as :meth:`summary`.

        Raises
        ------
        ResultsError
            ``runs=True`` on a file written with ``--store summary``.
        """
        if runs:
            return self._runs_xarray()
        import xarray as xr

        n, counts, cont = self._state()
        design = self.design
        coords: dict[str, Any] = {"point": np.arange(len(n), dtype=np.int64)}
        for key in design.columns:
            coords[key] = ("point", design[key].to_numpy())
        data_vars: dict[str, Any] = {"runs": ("point", n)}
        for field, cats in self.fields.items():
            dim = f"{field}_category"
            keep = np.ones(len(cats), dtype=bool) if all_categories else self.categories_in_use(field).any(axis=0)
            labels = np.asarray(cats, dtype=np.int64 if cats and isinstance(cats[0], int) else object)
            coords[dim] = labels[keep]
            c = counts[field][:, keep]
            low, high = wilson(c, n[:, None])
            with np.errstate(invalid="ignore", divide="ignore"):
                p = np.where(n[:, None] > 0, c / np.maximum(n[:, None], 1), 0.0)
            data_vars[f"{field}_count"] = (("point", dim), c)
            data_vars[f"{field}_p"] = (("point", dim), p)
            data_vars[f"{field}_ci_low"] = (("point", dim), low)
            data_vars[f"{field}_ci_high"] = (("point", dim), high)
        for field, s in cont.items():
            for k in ("n", "mean", "min", "max"):
                data_vars[f"{field}_{k}"] = ("point", s[k])
        attrs = {k: v for k, v in self.attrs.items() if isinstance(v, (str, int, float))}
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    def _runs_xarray(self) -> xarray.Dataset:
        import xarray as xr
        from xarray.core import indexing

        group = self._runs_group()
        total = self._runs_total()
        keys = {key: self._key_values(key) for key in self.swept_keys}

        def lazy(array: _RunColumn) -> Any:
            return indexing.LazilyIndexedArray(array)

        data_vars: dict[str, Any] = {}
        coords: dict[str, Any] = {}
        for name in self._run_columns():
            ds = group[name]
            column_attrs = {"description": _text(ds.attrs.get("description", ""))}
            if "units" in ds.attrs:
                column_attrs["units"] = _text(ds.attrs["units"])
            labels = _typed_labels(ds.attrs["categories"]) if "categories" in ds.attrs else None
            index_encoded = labels is not None and _text(ds.attrs.get("encoding", "")) == "index"
            if index_encoded:
                column = _RunColumn(self, name, total, lookup=np.asarray(labels, dtype=object))
            elif labels is not None or name in ("point", "replicate"):
                column = _RunColumn(self, name, total, dtype=np.dtype(np.int64))
            else:
                column = _RunColumn(self, name, total)
            target = coords if name in ("point", "replicate") else data_vars
            target[name] = xr.Variable(("run",), lazy(column), column_attrs)
        for key, values in keys.items():
            coords[key] = xr.Variable(("run",), lazy(_RunColumn(self, "point", total, lookup=values)))
        attrs = {k: v for k, v in self.attrs.items() if isinstance(v, (str, int, float))}
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)


try:
    from xarray.backends import BackendArray as _BackendArray
except ImportError:  # xarray is optional for everything but to_xarray()
    _BackendArray = object  # type: ignore[assignment,misc]


class _RunColumn(_BackendArray):  # type: ignore[misc,valid-type]
    """One /runs column as a lazily indexed array (xarray's backend interface): reads only the
    selected records, then maps them through ``lookup`` (category labels, or a swept key's value
    per point) or casts them to ``dtype``."""

    def __init__(self, results: Results, name: str, length: int, lookup: np.ndarray | None = None,
                 dtype: np.dtype | None = None):
        self.results = results
        self.name = name
        self.shape = (length,)
        self.lookup = lookup
        stored = results._file["runs"][name].dtype
        self.dtype = lookup.dtype if lookup is not None else (dtype or stored)

    def __getitem__(self, key):
        from xarray.core import indexing

        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key: tuple) -> np.ndarray:
        # Basic indexing only: an integer or a slice with a positive step (xarray turns other
        # selections into these and finishes them in memory).
        (index,) = key
        if isinstance(index, slice):
            start, stop, step = index.indices(self.shape[0])
            values = self.results._read_column(self.name, start, max(start, stop), step) if stop > start else \
                self.results._read_column(self.name, 0, 0)
        else:
            position = int(index)
            values = self.results._read_column(self.name, position, position + 1)[0]
        if self.lookup is not None:
            return self.lookup[np.asarray(values, dtype=np.int64)]
        return np.asarray(values).astype(self.dtype, copy=False)


def open(path: PathLike, allow_partial: bool = False) -> Results:  # noqa: A001 - the package's entry point
    """Opens a results file; see :class:`Results` (its parameters and the errors it raises)."""
    return Results(path, allow_partial=allow_partial)
