"""What the what-if page asks, answered: request checking and the engine calls behind
``python3 -m wedge explore`` (the HTTP side is :mod:`wedge.explorer.server`).

Every request names the page's scenario as overrides of the starting experiment (``set``), plus
``runs`` and ``seed``. Requests are checked here first (shape and types: a malformed request gets a
:class:`RequestError`); values then go to the engine as ``--set key=value`` strings, whose
validation (ranges, unknown keys, cross-key rules) raises ``wedge._core.ConfigError`` with the
command line's own message before anything runs. The engine runs one request at a time; a newer
request of the same kind (a slider moved again) cancels the one running or waiting.
"""
from __future__ import annotations

import json
import math
import pathlib
import threading
import tomllib
from typing import Any, Callable

import numpy as np

from ..registry import _registry
from ..results import wilson

#: Outcomes the page shows, in order, with their titles.
OUTCOMES = {
    "format": "Format of the settlement",
    "alliance": "The US–Japan alliance",
    "okinawa": "Okinawa",
    "islands_promised": "Islands promised",
    "islands_transferred": "Islands transferred",
    "rounds": "Rounds until the end",
    "end_reason": "How the talks ended",
}
#: Outcomes the "why" panel can ask for: field -> categories offered.
WHY_OUTCOMES = ("format", "end_reason", "alliance", "okinawa", "islands_promised", "islands_transferred")
#: Registry sections -> the page's groups (actors of MODEL.md §2), in order. FACTION_SECTIONS stands
#: for the factions of the scenario in force (one part each, in the scenario's order).
FACTION_SECTIONS = "japan.factions.*"
GROUPS = [
    ("The talks", ["negotiation"]),
    ("Soviet negotiators (Malik, Shepilov; Khrushchev against Molotov; Ishkov)", ["soviet"]),
    ("Matsumoto", ["matsumoto"]),
    ("Shigemitsu", ["shigemitsu"]),
    ("Hatoyama", ["hatoyama"]),
    ("Dulles", ["dulles"]),
    ("Japan and its factions", ["japan", FACTION_SECTIONS]),
    ("The alliance", ["alliance"]),
]
#: Default faction ids -> who they are (MODEL.md §4): the title of a faction the scenario leaves unnamed.
FACTIONS = {
    "HK": "Hatoyama–Kono mainstream",
    "SG": "Shigemitsu and the Foreign Ministry",
    "YS": "Yoshida faction",
    "PUB": "public opinion, prisoners' families",
    "FISH": "fisheries lobby",
}
#: Runs per side when neither the command line nor the page says (~50 ms for the pair).
DEFAULT_RUNS = 100_000
MAX_SWEEP_STEPS = 41
MAX_SEED = 2**63 - 1  # experiments/experiment.hpp SEED_RANGE (TOML integers)


class RequestError(ValueError):
    """A malformed request (not JSON, a wrong type, a missing field): HTTP 400."""


class Superseded(Exception):
    """A newer request of the same kind arrived: this one was cancelled (HTTP 409)."""


def _slider_range(p: dict) -> tuple[float, float]:
    """The slider's ends: the valid range, or for keys without an upper bound (saliences,
    damages, noise) a span around the default (for a faction MODEL.md does not have, around its
    starting value); the number box beside it accepts any valid value."""
    low = float(p["min"])
    high = float(p["max"])
    if not math.isfinite(high):
        centre = p["default"] if p["default"] is not None else p.get("start", 0.0)
        high = max(1.0, 4.0 * float(centre))
    return low, high


def _faction_tables(experiment: dict[str, Any]) -> dict[str, dict]:
    """A resolved experiment's factions, id -> table, in its order (``replace`` is no faction)."""
    factions = experiment.get("japan", {}).get("factions", {})
    return {fid: table for fid, table in factions.items() if isinstance(table, dict)}


def scenario_parameters(experiment: dict[str, Any]) -> dict[str, dict]:
    """The parameters of a resolved experiment (TOML parsed), as ``wedge params FILE --json``
    lists them: the registry's keys outside the factions, then, where the registry has its
    factions, one set of per-faction keys for each faction of the experiment (added ones
    included, removed ones left out), each with ``faction`` and ``faction_name``. A faction
    MODEL.md does not have has ``default`` None. Every parameter carries its ``start`` value."""
    registry = list(_registry())
    prefix = "japan.factions."
    defaults = {p["key"]: p for p in registry}
    # The per-faction keys, as the registry describes them for its first faction.
    template: list[dict] = []
    for p in registry:
        if p["section"].startswith(prefix):
            if template and p["section"] != template[0]["section"]:
                break
            template.append(p)
    factions = _faction_tables(experiment)
    out: dict[str, dict] = {}
    for p in registry:
        if not p["section"].startswith(prefix):
            out[p["key"]] = dict(p)
            continue
        if any(k.startswith(prefix) for k in out):
            continue  # the scenario's factions are already in
        for fid, table in factions.items():
            section = prefix + fid
            for t in template:
                name = t["key"][len(t["section"]) + 1:]
                key = f"{section}.{name}"
                known = defaults.get(key)
                out[key] = dict(t, key=key, section=section, default=known["default"] if known else None,
                                faction=fid, faction_name=str(table.get("name", "")) or FACTIONS.get(fid, ""))
    for key, p in out.items():
        table: Any = experiment
        for part in p["section"].split("."):
            table = table.get(part, {}) if isinstance(table, dict) else {}
        name = key[len(p["section"]) + 1:]
        if isinstance(table, dict) and name in table:
            p["start"] = _typed(p, table[name])
    return {k: p for k, p in out.items() if "start" in p}


def _choices(p: dict) -> list[int] | None:
    """Discrete values of an integer key whose range is a list ("0, 2 or 4")."""
    text = p["range"]
    if p["type"] != "integer" or " or " not in text:
        return None
    return [int(v) for v in text.replace(" or ", ", ").split(", ")]


def _typed(p: dict, value: Any) -> Any:
    if p["type"] == "boolean":
        return bool(value)
    if p["type"] == "integer":
        return int(value)
    return float(value)


def _toml_number(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text if any(c in text for c in ".eE") else text + ".0"


class Explorer:
    """The page's back end for one starting experiment (a single-point scenario file, or None for
    the baseline). ``runs`` and ``seed`` are the page's first settings (default 100,000 runs and
    the file's seed); ``threads`` the engine's worker threads (default all cores)."""

    def __init__(self, experiment: str | pathlib.Path | None = None, runs: int | None = None,
                 seed: int | None = None, threads: int | None = None):
        from .. import _check_run_argument, _core

        self._core = _core
        # The command line's ranges and words, before anything reaches the engine (as simulate()).
        runs = _check_run_argument("runs", runs)
        seed = _check_run_argument("seed", seed)
        threads = _check_run_argument("threads", threads)
        if experiment is not None and not isinstance(experiment, (str, pathlib.Path)):
            raise TypeError(f"experiment must be a scenario file's path or None (the baseline), not "
                            f"{type(experiment).__name__}")
        self.threads = threads
        path = "" if experiment is None else str(experiment)
        # The starting experiment once, resolved (extends followed): every key, as TOML text that
        # every request then starts from.
        self.start_toml, points = _core.resolve("", path, [], None, seed)
        if points != 1:
            raise _core.ConfigError(f"explore: {path} is a sweep with {points} design points; explore takes "
                                    "a single-point scenario (the page has its own one-key sweep)")
        start = tomllib.loads(self.start_toml)
        # What every request starts from: the resolved file's text, named as the file (so errors read
        # as the command line's with that file), or nothing for the built-in baseline (as `wedge run`).
        self.start_text = self.start_toml if path else ""
        self.start_name = path or "<experiment dict>"
        self.description = start.get("description", "")
        self.label = self.description or (pathlib.Path(path).stem if path else "the baseline")
        self.source = path or "MODEL.md's defaults"
        self.runs = int(runs) if runs is not None else DEFAULT_RUNS
        self.seed = int(start["run"]["seed"]) if seed is None else int(seed)
        # The scenario in force, not the registry's defaults: its factions (added, removed,
        # replaced) are the page's controls and the keys a sweep accepts (issues 17 and 18).
        self.parameters = scenario_parameters(start)
        self.start_values = self._values(start)
        self.fields = {f["name"]: f["categories"] for f in _core.fields() if f["kind"] == "categorical"}
        self._engine = threading.Condition()
        self._busy = False
        self._latest: dict[str, Any] = {}
        self._running: set = set()

    # -- the page's description ----------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the page needs to draw its controls: groups of parameters (key, name, type,
        valid range in words, meaning, slider ends, choices), the starting values, runs, seed,
        outcomes and their categories."""
        groups = []
        for title, group_sections in GROUPS:
            parts = []
            sections: list[str] = []
            for section in group_sections:
                if section == FACTION_SECTIONS:
                    sections += list(dict.fromkeys(p["section"] for p in self.parameters.values() if "faction" in p))
                else:
                    sections.append(section)
            for section in sections:
                params = [p for p in self.parameters.values() if p["section"] == section]
                if not params:
                    continue
                faction = params[0].get("faction")
                parts.append({
                    "title": f"{faction}: {params[0]['faction_name']}".rstrip(": ") if faction else "",
                    "params": [self._describe(p) for p in params],
                })
            groups.append({"title": title, "parts": parts})
        return {
            "label": self.label,
            "source": self.source,
            "runs": self.runs,
            "seed": self.seed,
            "groups": groups,
            "values": self.start_values,
            "defaults": {k: None if p["default"] is None else _typed(p, p["default"])
                         for k, p in self.parameters.items()},
            "outcomes": [{"field": f, "title": t} for f, t in OUTCOMES.items()],
            "why": [{"field": f, "categories": self.fields[f]} for f in WHY_OUTCOMES],
        }

    def _describe(self, p: dict) -> dict[str, Any]:
        low, high = _slider_range(p)
        return {
            "key": p["key"],
            "name": p["key"][len(p["section"]) + 1:],
            "type": p["type"],
            "range": p["range"],
            "meaning": p["meaning"],
            "min": p["min"] if math.isfinite(p["min"]) else None,
            "max": p["max"] if math.isfinite(p["max"]) else None,
            "slider_min": low,
            "slider_max": high,
            "step": 1 if p["type"] == "integer" else (high - low) / 100,
            "choices": _choices(p),
        }

    # -- checking requests -----------------------------------------------------------------------

    def settings(self, body: Any, name: str = "set") -> list[str]:
        """A request's overrides as "key=value" strings for the engine, or RequestError."""
        values = body.get(name) if isinstance(body, dict) else None
        if values is None:
            return []
        if not isinstance(values, dict):
            raise RequestError(f"malformed request: '{name}' must be an object {{key: value}}")
        out = []
        for key, value in values.items():
            if isinstance(value, bool) or isinstance(value, int) or isinstance(value, float):
                out.append(f"{key}={_toml_number(value)}")
            else:
                raise RequestError(f"malformed request: {name}.{key} = {json.dumps(value)}: a value must be a "
                                   "number or true/false")
        return out

    @staticmethod
    def _integer(body: dict, name: str, default: int) -> int:
        value = body.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RequestError(f"malformed request: '{name}' must be an integer, not {json.dumps(value)}")
        return value

    def run_settings(self, body: Any) -> tuple[int, int]:
        """(runs, seed) of a request. Runs outside [1, 2^32] are left to the engine (its message);
        a seed must fit the engine's unsigned 64 bits."""
        if not isinstance(body, dict):
            raise RequestError("malformed request: the body must be a JSON object")
        runs = self._integer(body, "runs", self.runs)
        seed = self._integer(body, "seed", self.seed)
        if not 0 <= seed <= MAX_SEED:
            raise RequestError(f"seed = {seed}: must be an integer in [0, {MAX_SEED}]")
        if not 0 <= runs <= MAX_SEED:  # beyond what the engine's argument holds; it checks [1, 2^32] itself
            raise RequestError(f"runs = {runs}: must be in [1, {2**32}]")
        return runs, seed

    # -- one engine call at a time ------------------------------------------------------------------

    def call(self, channel: str, work: Callable[[Any], Any]) -> Any:
        """Runs ``work(cancel_token)`` when the engine is free. A newer call on the same channel
        cancels this one (running: at its next wave boundary; waiting: at once), which then raises
        Superseded."""
        token = self._core.CancelToken()
        with self._engine:
            previous = self._latest.get(channel)
            if previous is not None:
                previous.cancel()
            self._latest[channel] = token
            self._engine.notify_all()
            self._engine.wait_for(lambda: not self._busy or token.cancelled)
            if token.cancelled:
                raise Superseded(channel)
            self._busy = True
            self._running.add(token)
        try:
            return work(token)
        except self._core.Cancelled:
            raise Superseded(channel) from None
        finally:
            with self._engine:
                self._busy = False
                self._running.discard(token)
                if self._latest.get(channel) is token:
                    del self._latest[channel]
                self._engine.notify_all()

    def cancel_all(self) -> None:
        """Cancels every call running or waiting (the server is stopping)."""
        with self._engine:
            for token in list(self._latest.values()) + list(self._running):
                token.cancel()
            self._engine.notify_all()

    # -- the answers ---------------------------------------------------------------------------------

    def compare(self, body: Any) -> dict[str, Any]:
        """The page's scenario (B) against the reference (A: the starting experiment, plus the
        pinned overrides ``reference``), paired: each outcome's distribution with 95% Wilson
        intervals, and the paired difference B - A with its interval."""
        runs, seed = self.run_settings(body)
        current = self.settings(body, "set")
        reference = self.settings(body, "reference")
        document = self.call("compare", lambda token: self._core.compare(
            self.start_text, "", self.start_text, "", [], reference, current, runs, seed, self.threads, token,
            self.start_name, self.start_name))[0]
        doc = json.loads(document)
        rows = [r for r in doc["categorical"] if r["outcome"] in OUTCOMES]
        counts = doc["b"]["results"]["points"][0]["counts"]
        for r in rows:
            r["count"] = counts[r["outcome"]][r["category"]]
        return {"runs": doc["runs"], "seed": doc["seed"], "rows": rows, "means": doc["continuous"]}

    def sweep(self, body: Any) -> dict[str, Any]:
        """One key across its range (``steps`` values from ``min`` to ``max``; integers rounded,
        booleans false and true), every other key as on the page: each outcome's probabilities with
        95% Wilson intervals per value."""
        runs, seed = self.run_settings(body)
        key = body.get("key")
        if key not in self.parameters:
            command = f"wedge params {self.start_name}" if self.start_text else "wedge params"
            raise RequestError(f"sweep: unknown parameter {json.dumps(key)} (`{command}` lists every key)")
        p = self.parameters[key]
        steps = self._integer(body, "steps", 9)
        if not 2 <= steps <= MAX_SWEEP_STEPS:
            raise RequestError(f"sweep: steps = {steps}: must be an integer in [2, {MAX_SWEEP_STEPS}]")
        low, high = _slider_range(p)
        low = body.get("min", low)
        high = body.get("max", high)
        for name, v in (("min", low), ("max", high)):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise RequestError(f"malformed request: sweep '{name}' must be a number, not {json.dumps(v)}")
        if p["type"] == "boolean":
            values: list = [False, True]
        elif p["type"] == "integer":
            choices = _choices(p)
            values = choices or sorted({int(round(v)) for v in np.linspace(low, high, steps)})
        else:
            values = [float(v) for v in np.linspace(low, high, steps)]
        sets = [s for s in self.settings(body, "set") if s.split("=", 1)[0] != key]
        text = (self.start_toml + '\n[sweep]\ndesign = "list"\n\n[sweep.keys]\n'
                + f'"{key}" = [{", ".join(_toml_number(v) for v in values)}]\n')
        document = self.call("sweep", lambda token: self._core.run(text, "", sets, runs, seed, self.threads, token,
                                                                   self.start_name))[0]
        points = json.loads(document)["points"]
        outcomes = {}
        for field in OUTCOMES:
            categories = list(points[0]["counts"][field])
            counts = np.array([[pt["counts"][field][c] for c in categories] for pt in points], dtype=np.int64)
            n = np.array([pt["runs"] for pt in points], dtype=np.int64)[:, None]
            lo, hi = wilson(counts, np.broadcast_to(n, counts.shape))
            outcomes[field] = {"categories": categories, "p": (counts / n).tolist(), "low": np.asarray(lo).tolist(),
                               "high": np.asarray(hi).tolist()}
        return {"key": key, "values": values, "runs": runs, "seed": seed, "outcomes": outcomes}

    def why(self, body: Any) -> dict[str, Any]:
        """The first of the page's runs (replicate order) that ended with ``outcome`` =
        ``category``, told round by round as ``wedge trace`` tells it."""
        runs, seed = self.run_settings(body)
        sets = self.settings(body, "set")
        outcome, category = body.get("outcome"), body.get("category")
        if not isinstance(outcome, str) or not isinstance(category, str):
            raise RequestError("malformed request: 'outcome' and 'category' must be strings")
        condition = f"{outcome}={category}"
        replicate = self.call("why", lambda token: self._core.find_run(
            self.start_text, "", sets, runs, seed, 0, [condition], self.threads, token, self.start_name))
        if replicate is None:
            return {"replicate": None, "runs": runs, "seed": seed, "condition": condition,
                    "text": f"None of the {runs} runs (seed {seed}) ended with {outcome} = {category}."}
        trace_json, text = self._core.trace(self.start_text, "", sets, seed, 0, replicate, self.start_name)
        return {"replicate": replicate, "runs": runs, "seed": seed, "condition": condition, "text": text,
                "trace": json.loads(trace_json)}

    def scenario_toml(self, body: Any) -> dict[str, Any]:
        """The scenario file that reproduces what the page shows: the starting experiment resolved
        (extends followed, every key and every faction, added or removed, written out: it extends
        no other file) with the page's overrides, runs and seed applied by the engine, under a
        description and comments naming what the page changed. The engine checks the overrides
        and resolves them (nothing runs); the file is checked to read back as that resolution."""
        runs, seed = self.run_settings(body)
        sets = self.settings(body, "set")
        resolved, _ = self._core.resolve(self.start_text, "", sets, runs, seed, self.start_name)
        experiment = tomllib.loads(resolved)
        text = self._toml(resolved, self._values(experiment), runs, seed)
        saved = tomllib.loads(text)
        saved.pop("description", None)
        experiment.pop("description", None)
        if saved != experiment:  # pragma: no cover - a bug here, not a user's error
            raise RuntimeError("explore: the saved scenario does not read back as the page's scenario")
        return {"toml": text}

    def _values(self, experiment: dict[str, Any]) -> dict[str, Any]:
        """Every key's value in a resolved experiment (TOML parsed), typed by the registry; keys
        the experiment does not have (a faction it removed) are left out."""
        values = {}
        for key, p in self.parameters.items():
            table: Any = experiment
            for part in p["section"].split("."):
                table = table.get(part, {}) if isinstance(table, dict) else {}
            name = key[len(p["section"]) + 1:]
            if isinstance(table, dict) and name in table:
                values[key] = _typed(p, table[name])
        return values

    def _toml(self, resolved: str, values: dict[str, Any], runs: int, seed: int) -> str:
        """The resolved experiment's text under a header: what the page changed from the starting
        experiment (with each key's meaning and range) and a description saying so."""
        changed = {k: v for k, v in values.items() if v != self.start_values.get(k)}
        summary = ", ".join(f"{k} = {_toml_number(v)}" for k, v in changed.items()) or "nothing changed"
        lines = ["# Saved by `wedge explore`: the scenario the page showed, complete (every key and every",
                 "# faction of the starting experiment, resolved; it extends no other file). Reproduce it with",
                 "#   wedge run THIS_FILE.toml",
                 f"# Started from {self.source} ({' '.join(self.label.split())}); changed on the page:"]
        for key, v in changed.items():
            p = self.parameters[key]
            lines.append(f"#   {key} = {_toml_number(v)} (was {_toml_number(self.start_values[key])}): "
                         f"{p['meaning']}; {p['range']}")
        if not changed:
            lines.append("#   nothing")
        lines.append(f"# and runs = {runs}, seed = {seed}.")
        lines.append(f"description = {json.dumps('explored: ' + summary, ensure_ascii=False)}")
        # The resolved text without its own top-level description (the one above replaces it).
        body, in_tables = [], False
        for line in resolved.splitlines():
            in_tables = in_tables or line.lstrip().startswith("[")
            if not in_tables and line.split("=", 1)[0].strip() == "description":
                continue
            body.append(line)
        return "\n".join(lines) + "\n\n" + "\n".join(body).strip("\n") + "\n"
