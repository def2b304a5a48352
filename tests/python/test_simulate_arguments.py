"""wedge.simulate()'s arguments (issue 16 item 6): every one checked before the engine runs, with
a Python exception naming the argument and its range (the command line's ranges and wording,
experiments/experiment.hpp); a dict that extends a file; records=True refused with the memory it
would need."""
import math
import os
import pathlib
import warnings

import numpy as np
import pytest
from conftest import ROOT, wedge as cli

import wedge
from wedge import _core

SCENARIOS = ROOT / "experiments" / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"
C2 = SCENARIOS / "c2_no_okinawa_threat.toml"

TOP = 9223372036854775807


@pytest.mark.parametrize("arguments, message", [
    ({"seed": -1}, rf"^seed = -1: must be an integer in \[0, {TOP}\]$"),
    ({"seed": TOP + 1}, rf"^seed = {TOP + 1}: must be an integer in \[0, {TOP}\]$"),
    ({"runs": 0}, r"^runs = 0: must be an integer in \[1, 4294967296\]$"),
    ({"runs": -5}, r"^runs = -5: must be an integer in \[1, 4294967296\]$"),
    ({"runs": 2**32 + 1}, r"^runs = 4294967297: must be an integer in \[1, 4294967296\]$"),
    ({"threads": 0}, r"^threads = 0: must be an integer in \[1, 1024\]$"),
    ({"threads": -2}, r"^threads = -2: must be an integer in \[1, 1024\]$"),
    ({"threads": 1025}, r"^threads = 1025: must be an integer in \[1, 1024\]$"),
    ({"max_runs": 0, "precision": 0.01}, r"^max_runs = 0: must be an integer in \[1, 4294967296\]$"),
    ({"precision": 0.0}, r"^precision = 0.0: must be a number in \[1e-06, 0.5\]$"),
    ({"precision": 0.7}, r"^precision = 0.7: must be a number in \[1e-06, 0.5\]$"),
    ({"precision": -1}, r"^precision = -1: must be a number in \[1e-06, 0.5\]$"),
    ({"precision": math.nan}, r"^precision = nan: must be a number in \[1e-06, 0.5\]$"),
    ({"precision": math.inf}, r"^precision = inf: must be a number in \[1e-06, 0.5\]$"),
])
def test_out_of_range_arguments_raise_value_error_naming_them(arguments, message):
    with pytest.raises(_core.ConfigError, match=message) as error:
        wedge.simulate(**arguments)
    assert isinstance(error.value, ValueError)  # ConfigError is a ValueError


def test_the_ranges_are_the_command_lines():
    """Same range and the same words as `wedge run`'s validators."""
    r = cli("run", "--seed", "-1", check=False)
    assert r.returncode == 2 and f"must be an integer in [0, {TOP}]" in r.stderr
    r = cli("run", "--threads", "0", check=False)
    assert r.returncode == 2 and "must be an integer in [1, 1024]" in r.stderr
    r = cli("run", "--precision", "0.7", check=False)
    assert r.returncode == 2 and "must be a number in [1e-06, 0.5]" in r.stderr
    ranges = _core.run_ranges()
    assert ranges["seed"] == ("integer", 0, TOP, f"an integer in [0, {TOP}]")
    assert ranges["runs"][1:3] == (1, 2**32) and ranges["threads"][1:3] == (1, 1024)


@pytest.mark.parametrize("arguments, message", [
    ({"runs": 1.5}, r"^runs must be an integer \(an integer in \[1, 4294967296\]\), not float$"),
    ({"runs": 1000.0}, r"^runs must be an integer \(an integer in \[1, 4294967296\]\), not float$"),
    ({"runs": "1000"}, r"^runs must be an integer \(an integer in \[1, 4294967296\]\), not str$"),
    ({"seed": True}, rf"^seed must be an integer \(an integer in \[0, {TOP}\]\), not bool$"),
    ({"threads": 2.0}, r"^threads must be an integer \(an integer in \[1, 1024\]\), not float$"),
    ({"max_runs": "x"}, r"^max_runs must be an integer"),
    ({"precision": "0.01"}, r"^precision must be a number \(a number in \[1e-06, 0.5\]\), not str$"),
    ({"precision": True}, r"^precision must be a number .*not bool$"),
    ({"crn": 1}, r"^crn must be True, False or None, not int$"),
    ({"records": "yes"}, r"^records must be True or False, not str$"),
    ({"set": "dulles.tact=0.5"}, r'^set must be a dict \{"key": value\} or a list of "key=value" strings'),
    ({"set": [("dulles.tact", 0.5)]}, r'^set must be a dict'),
    ({"experiment": 42}, r"^experiment must be a path, a dict or None \(the baseline\), not int$"),
    ({"base": 3}, r"^base must be a directory path, not int$"),
])
def test_wrong_types_raise_type_error_naming_the_argument(arguments, message):
    with pytest.raises(TypeError, match=message):
        wedge.simulate(**arguments)


def test_numpy_integers_and_floats_are_accepted():
    a = wedge.simulate(runs=np.int64(500), seed=np.uint32(3), threads=np.int32(1))
    b = wedge.simulate(runs=500, seed=3, threads=1)
    assert a["points"] == b["points"]
    with pytest.warns(UserWarning, match="first batch"):
        p = wedge.simulate(runs=np.int64(2000), precision=np.float64(0.05), max_runs=np.int64(4000), seed=3)
    assert 2000 <= p["points"][0]["runs"] <= 4000


def test_max_runs_caps_precision_mode_as_on_the_command_line():
    with pytest.warns(UserWarning, match="first batch"):
        r = wedge.simulate(runs=1000, precision=1e-4, max_runs=3000, seed=2)
    assert r["points"][0]["runs"] == 3000
    import json
    doc = json.loads(cli("run", "--runs", 1000, "--precision", "1e-4", "--max-runs", 3000, "--seed", 2, "--json",
                         "--quiet").stdout)
    assert doc["points"] == r["points"]


def test_precision_mode_says_that_runs_is_its_first_batch_rounded_up():
    # As the command line's note for --runs (ux10: wedge.simulate said nothing): runs=100 runs
    # 2,048 a point in the first batch; none when runs is a whole number of blocks.
    with pytest.warns(UserWarning, match=r"^runs=100 is precision mode's first batch, which ends on whole blocks "
                                         r"of 2048 runs: each point runs 2048 in its first batch$") as caught:
        r = wedge.simulate(runs=100, precision=0.05, seed=3)
    assert [w.filename for w in caught if "first batch" in str(w.message)] == [__file__]
    assert r["points"][0]["runs"] >= 2048
    with pytest.warns(UserWarning, match=r"runs=2500 .* each point runs 3000 in its first batch \(at most max_runs=3000\)$"):
        wedge.simulate(runs=2500, precision=0.05, max_runs=3000, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wedge.simulate(runs=4096, precision=0.05, seed=3)  # whole blocks: no note
        wedge.simulate(runs=100, seed=3)  # not precision mode: runs is runs


def test_a_dict_extends_a_file_relative_to_the_working_directory(monkeypatch):
    monkeypatch.chdir(ROOT)
    r = wedge.simulate({"extends": "experiments/scenarios/c2_no_okinawa_threat.toml", "dulles": {"tact": 0.5}},
                       runs=2000, seed=4)
    file = wedge.simulate(C2, runs=2000, seed=4, set={"dulles.tact": 0.5})
    assert r["points"] == file["points"]
    assert "description = 'C2: no Okinawa threat" in r["experiment"] and "tact = 0.5" in r["experiment"]


def test_a_dict_extends_relative_to_base(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the working directory holds no scenario
    r = wedge.simulate({"extends": "c2_no_okinawa_threat.toml"}, base=SCENARIOS, runs=1500, seed=9)
    assert r["points"] == wedge.simulate(C2, runs=1500, seed=9)["points"]
    # A chain: the dict extends C2's file, which extends the baseline (relative to C2's directory).
    sweep = wedge.simulate({"extends": str(ROOT / "experiments" / "sweeps" / "threat_rewards_grid.toml"),
                            "run": {"runs": 300}}, seed=1)
    assert len(sweep["points"]) > 1
    with pytest.raises(_core.ConfigError, match=r'^<experiment dict>:1:11: extends = "nowhere.toml": no such file'):
        wedge.simulate({"extends": "nowhere.toml"}, runs=10)
    with pytest.raises(_core.ConfigError, match=r"dulles.tact = 1.4: must be \[0, 1\]"):
        wedge.simulate({"extends": "c2_no_okinawa_threat.toml", "dulles": {"tact": 1.4}}, base=SCENARIOS, runs=10)


def test_records_beyond_memory_are_refused_with_the_number_needed():
    """2^32 runs with records would need about 2^32 x (record bytes): refused before any run,
    with the estimate; without records the same run is only limited by time (not started here)."""
    with pytest.raises(_core.ConfigError) as error:
        wedge.simulate(runs=2**32, records=True)
    message = str(error.value)
    assert message.startswith("the run needs about ") and " of memory (" in message
    assert "+ 4294967296 records x " in message and "but this machine allows" in message
    assert message.endswith("; records=False keeps only the summaries")
    # The number it names is what the records take: 2^32 x record bytes is tens of GB at least.
    needed = message.split("the run needs about ")[1].split(" of memory")[0]
    value, unit = needed.split()
    assert unit in ("GB", "TB") and float(value) > 0
