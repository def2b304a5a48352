"""Reading wedge results files (docs/output-format.md) into pandas and xarray."""
from __future__ import annotations

import math
import pathlib
import tomllib
from typing import Iterable, Sequence

import h5py
import numpy as np
import pandas as pd

FORMAT = "wedge-results"
FORMAT_VERSION = 1
Z95 = 1.959963984540054


class ResultsError(Exception):
    """A file that is not a (complete, readable, supported) wedge results file."""


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def wilson(k, n, z: float = Z95):
    """95% Wilson score interval for k successes in n trials (arrays allowed); [0, 1] when n = 0.

    The same formula as the engine (engine/stats.cpp), exact 0 at k = 0 and 1 at k = n.
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
    path : str or pathlib.Path
        A ``.h5`` file written by ``wedge run --out`` (or a ``.h5.partial`` with
        ``allow_partial=True``).
    allow_partial : bool
        Accept a file whose run was interrupted (``complete = 0``); its summaries are those of the
        last checkpoint.
    """

    def __init__(self, path, allow_partial: bool = False):
        self.path = pathlib.Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise ResultsError(f"{self.path}: is a directory")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            raise ResultsError(f"{self.path}: not an HDF5 file, or damaged ({err})") from None
        try:
            self._check(allow_partial)
        except Exception:
            self._file.close()
            raise

    def _check(self, allow_partial: bool) -> None:
        attrs = self._file.attrs
        if _text(attrs.get("format", "")) != FORMAT:
            raise ResultsError(f"{self.path}: not a wedge results file (no format = \"{FORMAT}\")")
        version = int(attrs.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise ResultsError(
                f"{self.path}: format_version {version} is newer than this package reads "
                f"({FORMAT_VERSION}); upgrade wedge")
        if version < 1:
            raise ResultsError(f"{self.path}: format_version {version} is not supported")
        self.complete = bool(int(attrs.get("complete", 0)))
        if not self.complete and not allow_partial:
            raise ResultsError(
                f"{self.path}: partial results (the run was interrupted: {int(attrs['runs_done'])} "
                f"of {int(attrs['runs_planned'])} runs); continue it with `wedge run ... --resume`, "
                "or open it with allow_partial=True")

    # -- context manager -------------------------------------------------------------------
    def close(self) -> None:
        """Closes the file."""
        self._file.close()

    def __enter__(self) -> "Results":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<wedge.Results {self.path.name}: {self.attrs['model']} v{self.attrs['model_version']}, "
                f"{self.attrs['points']} point(s), {self.attrs['runs_done']} runs"
                f"{'' if self.complete else ', PARTIAL'}>")

    # -- metadata ----------------------------------------------------------------------------
    @property
    def attrs(self) -> dict:
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
    def experiment(self) -> dict:
        """The resolved experiment (after extends, --set and defaults) as a dict."""
        return tomllib.loads(_text(self._file.attrs["experiment"]))

    @property
    def description(self) -> str:
        return self.experiment.get("description", "")

    @property
    def swept_keys(self) -> list[str]:
        return [_text(k) for k in self._file["design"].attrs["keys"]]

    @property
    def design(self) -> pd.DataFrame:
        """One row per design point (index ``point``), one column per swept key."""
        group = self._file["design"]
        data = {key: group[key][:] for key in self.swept_keys}
        return pd.DataFrame(data, index=pd.Index(group["point"][:], name="point"))

    @property
    def fields(self) -> dict:
        """Categorical fields and their category names, in file order."""
        return {name: [_text(c) for c in g.attrs["categories"]]
                for name, g in self._file["summary"].items()
                if isinstance(g, h5py.Group) and _text(g.attrs.get("kind", "")) == "categorical"}

    @property
    def continuous_fields(self) -> list[str]:
        return [name for name, g in self._file["summary"].items()
                if isinstance(g, h5py.Group) and _text(g.attrs.get("kind", "")) == "continuous"]

    # -- summaries ---------------------------------------------------------------------------
    def _state(self):
        """(runs [P], counts {field: [P, C]}, continuous {field: {n, mean, m2, min, max}})."""
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
        return runs, counts, cont

    def summary(self, fields: Sequence[str] | None = None) -> pd.DataFrame:
        """A tidy table: one row per point x field x category.

        Columns: ``point``, the swept keys by their full names, ``field``, ``category``,
        ``count``, ``p``, ``ci_low``, ``ci_high`` (95% Wilson interval).
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
            points = np.repeat(np.arange(c.shape[0]), c.shape[1])
            k = c.reshape(-1)
            n = np.repeat(runs, c.shape[1])
            low, high = wilson(k, n)
            with np.errstate(invalid="ignore", divide="ignore"):
                p = np.where(n > 0, k / np.where(n > 0, n, 1), 0.0)
            frame = pd.DataFrame({"point": points, "field": field,
                                  "category": np.tile(np.array(cats, dtype=object), c.shape[0]),
                                  "count": k, "p": p, "ci_low": low, "ci_high": high})
            frames.append(frame)
        table = pd.concat(frames, ignore_index=True)
        if len(design.columns):
            table = table.merge(design, left_on="point", right_index=True, how="left")
            table = table[["point", *design.columns, "field", "category", "count", "p", "ci_low", "ci_high"]]
        return table

    def probability(self, field: str, category: str) -> pd.Series:
        """P(field = category) per design point."""
        table = self.summary([field])
        rows = table[table["category"] == str(category)]
        if rows.empty:
            raise KeyError(f"{field} has no category {category!r}; valid: {self.fields[field]}")
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
        return int(self._file["runs/point"].shape[0]) if "runs" in self._file else 0

    def iter_runs(self, columns: Sequence[str] | None = None, points: Iterable[int] | None = None,
                  chunk_size: int = 1 << 20):
        """Yields DataFrames of per-run records, ``chunk_size`` rows at a time (lazily)."""
        if "runs" not in self._file:
            raise ResultsError(f"{self.path}: no per-run records (written with --store summary)")
        group = self._file["runs"]
        available = list(group.keys())
        names = ["point", "replicate", *[c for c in available if c not in ("point", "replicate")]]
        if columns is not None:
            unknown = [c for c in columns if c not in available]
            if unknown:
                raise KeyError(f"unknown column(s) {unknown}; valid: {available}")
            names = list(dict.fromkeys(["point", "replicate", *columns]))
        wanted = None if points is None else np.asarray(sorted(set(points)), dtype=np.int64)
        total = int(self.attrs["runs_done"]) if not self.complete else self.runs_stored
        total = min(total, self.runs_stored)
        for start in range(0, total, chunk_size):
            stop = min(start + chunk_size, total)
            data = {}
            for name in names:
                values = group[name][start:stop]
                ds = group[name]
                if "categories" in ds.attrs:
                    cats = [_text(c) for c in ds.attrs["categories"]]
                    if _text(ds.attrs["encoding"]) == "index":
                        values = pd.Categorical.from_codes(values.astype(np.int64), categories=cats)
                    else:
                        values = pd.Categorical(values.astype(np.int64), categories=[int(c) for c in cats])
                data[name] = values
            frame = pd.DataFrame(data)
            if wanted is not None:
                frame = frame[frame["point"].isin(wanted)]
            yield frame

    def runs(self, columns: Sequence[str] | None = None, points: Iterable[int] | None = None,
             chunk_size: int = 1 << 20) -> pd.DataFrame:
        """Per-run records as one DataFrame (read in chunks; categories as pandas Categorical)."""
        frames = list(self.iter_runs(columns, points, chunk_size))
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    # -- xarray ----------------------------------------------------------------------------------
    def to_xarray(self):
        """The summaries as an xarray.Dataset with dimension ``point`` (swept keys as coordinates)
        and one ``<field>_category`` dimension per categorical field."""
        import xarray as xr

        runs, counts, cont = self._state()
        design = self.design
        coords = {"point": np.arange(len(runs))}
        for key in design.columns:
            coords[key] = ("point", design[key].to_numpy())
        data_vars = {"runs": ("point", runs)}
        for field, cats in self.fields.items():
            dim = f"{field}_category"
            coords[dim] = np.array(cats, dtype=object)
            c = counts[field]
            low, high = wilson(c, runs[:, None])
            with np.errstate(invalid="ignore", divide="ignore"):
                p = np.where(runs[:, None] > 0, c / np.maximum(runs[:, None], 1), 0.0)
            data_vars[f"{field}_count"] = (("point", dim), c)
            data_vars[f"{field}_p"] = (("point", dim), p)
            data_vars[f"{field}_ci_low"] = (("point", dim), low)
            data_vars[f"{field}_ci_high"] = (("point", dim), high)
        for field, s in cont.items():
            for k in ("n", "mean", "min", "max"):
                data_vars[f"{field}_{k}"] = ("point", s[k])
        attrs = {k: v for k, v in self.attrs.items() if isinstance(v, (str, int, float))}
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def open(path, allow_partial: bool = False) -> Results:  # noqa: A001 - the package's entry point
    """Opens a results file; see :class:`Results`."""
    return Results(path, allow_partial=allow_partial)
