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
#: Registry sections -> the page's groups (actors of MODEL.md §2), in order.
GROUPS = [
    ("The talks", ["negotiation"]),
    ("Soviet negotiators (Malik, Shepilov; Khrushchev against Molotov; Ishkov)", ["soviet"]),
    ("Matsumoto", ["matsumoto"]),
    ("Shigemitsu", ["shigemitsu"]),
    ("Hatoyama", ["hatoyama"]),
    ("Dulles", ["dulles"]),
    ("Japan and its factions", ["japan", "japan.factions.HK", "japan.factions.SG", "japan.factions.YS",
                                "japan.factions.PUB", "japan.factions.FISH"]),
    ("The alliance", ["alliance"]),
]
#: Faction ids -> who they are (MODEL.md §4).
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
    damages, noise) a span around the default; the number box beside it accepts any valid value."""
    low = float(p["min"])
    high = float(p["max"])
    if not math.isfinite(high):
        high = max(1.0, 4.0 * float(p["default"]))
    return low, high


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
        from .. import _core

        self._core = _core
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
        self.parameters = {p["key"]: p for p in _registry()}
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
        for title, sections in GROUPS:
            parts = []
            for section in sections:
                params = [p for p in self.parameters.values() if p["section"] == section]
                if not params:
                    continue
                faction = section.rsplit(".", 1)[-1] if section.startswith("japan.factions.") else None
                parts.append({
                    "title": f"{faction}: {FACTIONS.get(faction, '')}" if faction else "",
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
            "defaults": {k: _typed(p, p["default"]) for k, p in self.parameters.items()},
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
            raise RequestError(f"sweep: unknown parameter {json.dumps(key)} (`wedge params` lists every key)")
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
        """The scenario file that reproduces what the page shows: runs, seed and every key whose
        value differs from MODEL.md's default (so it needs no other file). Checked by the engine
        before it is returned."""
        runs, seed = self.run_settings(body)
        sets = self.settings(body, "set")
        # The engine checks the overrides (ranges, cross-key rules) and resolves them; nothing runs.
        resolved, _ = self._core.resolve(self.start_text, "", sets, runs, seed, self.start_name)
        return {"toml": self._toml(self._values(tomllib.loads(resolved)), runs, seed)}

    def _values(self, experiment: dict[str, Any]) -> dict[str, Any]:
        """Every key's value in a resolved experiment (TOML parsed), typed by the registry."""
        values = {}
        for key, p in self.parameters.items():
            table: Any = experiment
            for part in p["section"].split("."):
                table = table[part]
            values[key] = _typed(p, table[key[len(p["section"]) + 1:]])
        return values

    def _toml(self, values: dict[str, Any], runs: int, seed: int) -> str:
        changed = {k: v for k, v in values.items() if v != _typed(self.parameters[k], self.parameters[k]["default"])}
        summary = ", ".join(f"{k} = {_toml_number(v)}" for k, v in changed.items()) or "nothing changed"
        lines = ["# Saved by `wedge explore`: the scenario the page showed. Reproduce it with",
                 "#   wedge run THIS_FILE.toml",
                 f"# (started from {self.source}). Keys not listed have MODEL.md's defaults.",
                 f"description = {json.dumps('explored: ' + summary)}",
                 "", "[run]", f"runs = {runs}", f"seed = {seed}"]
        section = None
        for key, v in changed.items():
            p = self.parameters[key]
            if p["section"] != section:
                section = p["section"]
                lines += ["", f"[{section}]"]
            lines.append(f"{key[len(section) + 1:]} = {_toml_number(v)}  # {p['meaning']}; {p['range']}")
        return "\n".join(lines) + "\n"
