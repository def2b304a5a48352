"""The parameter registry (agents/params.hpp) from Python: what each scenario key means.

>>> wedge.parameters().loc["dulles.threat_strength", "meaning"]
'kappa, strength of the Okinawa threat (0 = no coercion)'
"""
from __future__ import annotations

import functools

import pandas as pd


@functools.lru_cache(maxsize=1)
def _registry() -> tuple:
    from . import _core  # built by `make build` into python/wedge/

    return tuple(_core.parameters())


def parameters() -> pd.DataFrame:
    """Every scenario key of MODEL.md §4, as ``wedge params`` prints them.

    Returns
    -------
    DataFrame indexed by ``key`` (e.g. "dulles.tact") with columns ``section``, ``type``
    ("real", "integer" or "boolean"), ``default``, ``min``, ``max`` (floats; ``max`` may be
    infinite), ``min_exclusive``, ``range`` (the valid range in words) and ``meaning``.

    Raises
    ------
    ImportError
        If the engine module ``wedge._core`` has not been built (``make build``).
    """
    return pd.DataFrame(list(_registry())).set_index("key")


def describe(key: str, width: int | None = None) -> str:
    """An axis label for a swept key: "dulles.threat_strength — kappa, strength of the Okinawa
    threat (0 = no coercion)". Keys the registry does not know (or a missing engine module) give
    the key alone. ``width`` wraps the label onto lines of at most that many characters."""
    try:
        meaning = {p["key"]: p["meaning"] for p in _registry()}.get(key)
    except ImportError:
        meaning = None
    text = f"{key} — {meaning}" if meaning else key
    if width:
        import textwrap

        text = "\n".join(textwrap.wrap(text, width))
    return text
