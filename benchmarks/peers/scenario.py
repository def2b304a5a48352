"""The baseline scenario for the peers, read from experiments/scenarios/baseline.toml."""
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]
FACTIONS = ("HK", "SG", "YS", "PUB", "FISH")


def load(path=ROOT / "experiments" / "scenarios" / "baseline.toml") -> dict:
    """The scenario as a flat dict ("dulles.tact" -> 0.3) plus "factions": [dict per faction]."""
    data = tomllib.loads(pathlib.Path(path).read_text())
    flat = {}
    for section in ("negotiation", "soviet", "matsumoto", "shigemitsu", "hatoyama", "japan", "dulles", "alliance"):
        for key, value in data.get(section, {}).items():
            if not isinstance(value, dict):
                flat[f"{section}.{key}"] = value
    flat["factions"] = [data["japan"]["factions"][f] for f in FACTIONS]
    return flat
