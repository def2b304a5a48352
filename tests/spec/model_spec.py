"""MODEL.md section 4 read as data: the oracle that the parameter registry (`wedge params --json`)
and experiments/scenarios/baseline.toml are checked against (tests/python/test_spec.py,
tests/python/test_cli_bounds.py).

The specification is ../shared/MODEL.md relative to the project root. A clone without it uses the
exact copy vendored next to this file (tests/spec/MODEL.md); when both exist they must be equal, so
the copy cannot go stale silently (`spec_path()` raises otherwise).

The parser is strict: a row or a "valid" text it does not understand raises SpecError, so a change
of the specification's wording fails the tests instead of passing unchecked.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENDORED = pathlib.Path(__file__).resolve().parent / "MODEL.md"
SHARED = ROOT.parent / "shared" / "MODEL.md"


class SpecError(Exception):
    """MODEL.md could not be read as the tests expect (or its vendored copy is stale)."""


@dataclasses.dataclass(frozen=True)
class Constraint:
    """A constraint between two keys stated in the "valid" column: `key op other`."""

    key: str
    op: str  # "<", "<=", ">=", ">"
    other: str


@dataclasses.dataclass(frozen=True)
class Param:
    """One key of MODEL.md section 4 (or of its factions table).

    type is "integer", "real" or "boolean"; min/max are None when unbounded (max) or when the bound
    is only relative to another key (min of dulles.credibility_max); `allowed` lists the only valid
    values when the specification enumerates them (min_islands: 0, 2 or 4).
    """

    key: str
    type: str
    default: float | int | bool
    min: float | None
    max: float | None
    min_exclusive: bool = False
    allowed: tuple | None = None
    constraints: tuple = ()
    valid_text: str = ""


@dataclasses.dataclass(frozen=True)
class Spec:
    model_version: str
    params: dict  # key -> Param, in the order of MODEL.md
    constraints: tuple  # every Constraint
    weights_sum_positive: bool  # "weights are normalized by their sum, which must be > 0"
    path: pathlib.Path


def spec_path() -> pathlib.Path:
    """../shared/MODEL.md when present (it must equal the vendored copy), else the vendored copy."""
    if SHARED.exists():
        if SHARED.read_bytes() != VENDORED.read_bytes():
            raise SpecError(f"{SHARED} differs from its vendored copy {VENDORED}: copy it again "
                            f"(cp {SHARED} {VENDORED}) and review what changed")
        return SHARED
    return VENDORED


def _number(text: str):
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*(e-?\d+)?|-?\d+e-?\d+", text):
        return float(text)
    raise SpecError(f"not a number: {text!r}")


def _default(text: str):
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    return _number(text)


def _section(text: str, heading: str) -> str:
    m = re.search(rf"^## {re.escape(heading)}.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        raise SpecError(f"MODEL.md has no section '## {heading}'")
    return m.group(1)


def _table_rows(block: str, header: list[str]) -> list[list[str]]:
    """Rows of the first markdown table in `block` whose header is exactly `header`."""
    lines = block.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells == header:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    raise SpecError(f"no table with header {header}")


def _valid(key: str, text: str, default) -> dict:
    """The "valid" column as bounds, type and constraints."""
    section = key.rsplit(".", 1)[0]
    rng = r"(-?\d+(?:\.\d+)?)"
    t = text.replace(" ", "")
    out = {"min_exclusive": False, "allowed": None, "constraints": ()}
    if t == "bool":
        return {**out, "type": "boolean", "min": 0, "max": 1}
    m = re.fullmatch(rf"{rng}–{rng}integer", t)
    if m:
        return {**out, "type": "integer", "min": _number(m[1]), "max": _number(m[2])}
    m = re.fullmatch(rf"(>)?{rng}–{rng}", t)
    if m:
        return {**out, "type": "real", "min": _number(m[2]), "max": _number(m[3]), "min_exclusive": bool(m[1])}
    m = re.fullmatch(rf"≥{rng}", t)
    if m:
        return {**out, "type": "real", "min": _number(m[1]), "max": None}
    # "0–1, < strained_below", "0–1, ≤ rupture_below"
    m = re.fullmatch(rf"{rng}–{rng},(<|≤)([a-z_]+)", t)
    if m:
        op = "<" if m[3] == "<" else "<="
        return {**out, "type": "real", "min": _number(m[1]), "max": _number(m[2]),
                "constraints": (Constraint(key, op, f"{section}.{m[4]}"),)}
    # "≥ credibility_min, ≤ 1": the lower bound is the other key (itself bounded below).
    m = re.fullmatch(rf"≥([a-z_]+),≤{rng}", t)
    if m:
        return {**out, "type": "real", "min": None, "max": _number(m[2]),
                "constraints": (Constraint(key, ">=", f"{section}.{m[1]}"),)}
    raise SpecError(f"{key}: cannot read the valid range {text!r}")


FACTION_COLUMNS = ["weight", "min_islands", "territory", "side", "alliance", "okinawa"]


def load(path: pathlib.Path | None = None) -> Spec:
    """Reads MODEL.md (spec_path() by default) into a Spec."""
    path = path or spec_path()
    text = path.read_text(encoding="utf-8")
    m = re.search(r"\(model version (\d+)\)", text.splitlines()[0])
    if not m:
        raise SpecError(f"{path}: the title does not state the model version")
    sec4 = _section(text, "4. Parameters and defaults")
    params: dict = {}
    constraints: list = []
    for row in _table_rows(sec4, ["key", "default", "valid", "meaning"]):
        if len(row) != 4:
            raise SpecError(f"bad row {row}")
        key, default, valid, _meaning = row
        if key in params:
            raise SpecError(f"{key} twice")
        d = _default(default)
        v = _valid(key, valid, d)
        if v["type"] == "real" and isinstance(d, int) and not isinstance(d, bool):
            raise SpecError(f"{key}: a real key with integer default {default!r}")
        params[key] = Param(key, v["type"], d, v["min"], v["max"], v["min_exclusive"], v["allowed"],
                            v["constraints"], valid)
        constraints.extend(v["constraints"])

    # The factions table and the sentences that state its ranges.
    rows = _table_rows(sec4, ["id", "who", *FACTION_COLUMNS])
    if "`min_islands` is 0, 2 or 4." not in sec4:
        raise SpecError("the sentence '`min_islands` is 0, 2 or 4.' is missing")
    if "Saliences are ≥ 0." not in sec4:
        raise SpecError("the sentence 'Saliences are ≥ 0.' is missing")
    weights_sum_positive = "weights are normalized by their sum, which must be > 0" in sec4
    if not weights_sum_positive:
        raise SpecError("the sentence 'weights are normalized by their sum, which must be > 0' is missing")
    for row in rows:
        fid, _who, *values = row
        if len(values) != len(FACTION_COLUMNS):
            raise SpecError(f"bad faction row {row}")
        for column, value in zip(FACTION_COLUMNS, values):
            key = f"japan.factions.{fid}.{column}"
            d = _number(value)
            if column == "min_islands":
                params[key] = Param(key, "integer", d, 0, 4, allowed=(0, 2, 4), valid_text="0, 2 or 4")
            else:
                # Weights: MODEL.md only says their sum must be > 0; a negative weight has no
                # meaning in a weighted share, so each weight is >= 0 like the saliences.
                params[key] = Param(key, "real", float(d), 0, None, valid_text=">= 0")
    for c in constraints:
        if c.other not in params:
            raise SpecError(f"{c.key}: constraint on unknown key {c.other}")
    return Spec(m[1], params, tuple(constraints), weights_sum_positive, path)
