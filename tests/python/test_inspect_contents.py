"""`wedge inspect` says which factions were in force and whether every run's rounds are stored
(the testers' leftovers, item 5), in its text and in its JSON, whose earlier keys stay as they were."""
import json

import pytest
from conftest import ROOT, wedge as cli

SOCIALISTS = ROOT / "experiments" / "scenarios" / "with_socialists.toml"
HEAD = ["path", "complete", "runs_done", "runs_planned", "runs_stored", "model", "model_version",
        "format_version", "created", "wall_seconds"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("inspect")
    cli("run", SOCIALISTS, "--runs", 300, "--store", "rounds", "--out", d / "rounds.h5", "--quiet")
    cli("run", "--runs", 300, "--out", d / "runs.h5", "--quiet")
    cli("run", "--runs", 300, "--store", "summary", "--set", "japan.factions.FISH.weight=0",
        "--out", d / "summary.h5", "--quiet")
    return d


def test_text_names_the_factions_and_the_rounds(files):
    text = cli("inspect", files / "rounds.h5").stdout
    assert "  rounds: every run's rounds stored (/rounds" in text
    assert ("  6 factions (weight): HK 0.35, SG 0.25, YS 0.15, PUB 0.15, FISH 0.1, JSP 0.2; "
            "softening under Shigemitsu: SG\n") in text
    text = cli("inspect", files / "runs.h5").stdout
    assert "  rounds: not stored (written without --store rounds)" in text
    assert "  5 factions (weight): HK 0.35, SG 0.25, YS 0.15, PUB 0.15, FISH 0.1;" in text
    text = cli("inspect", files / "summary.h5").stdout
    assert "FISH 0;" in text and "no records (summary only)" in text


def test_json_adds_store_rounds_and_factions_after_the_old_keys(files):
    doc = json.loads(cli("inspect", files / "rounds.h5", "--json").stdout)
    keys = list(doc)
    assert keys[:len(HEAD)] == HEAD  # the keys that existed keep their names and order
    assert doc["store"] == "rounds" and doc["rounds_stored"] is True
    ids = [f["id"] for f in doc["factions"]]
    assert ids == ["HK", "SG", "YS", "PUB", "FISH", "JSP"]
    jsp = doc["factions"][-1]
    assert jsp == {"id": "JSP", "name": "Japan Socialist Party", "weight": 0.2, "min_islands": 0,
                   "territory": 0.3, "side": 0.9, "alliance": 0.0, "okinawa": 0.4, "softens": False}
    assert [f["softens"] for f in doc["factions"]].count(True) == 1 and doc["factions"][1]["softens"]
    doc = json.loads(cli("inspect", files / "runs.h5", "--json").stdout)
    assert doc["store"] == "runs" and doc["rounds_stored"] is False and len(doc["factions"]) == 5
    doc = json.loads(cli("inspect", files / "summary.h5", "--json").stdout)
    assert doc["store"] == "summary" and doc["factions"][4]["weight"] == 0.0
