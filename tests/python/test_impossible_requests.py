"""Impossible requests are refused with an error naming the argument and its valid range, never
answered with an empty table or a scan to the cap (the testers' leftovers, items 1, 3, 4 and 6):
Results.runs/rounds arguments, wedge.calibrate's arguments and histories, `wedge trace --where`,
and every unsigned option of the command line given a negative value."""
import math
import re
import subprocess

import numpy as np
import pytest
from conftest import ROOT, wedge as cli

import wedge
from wedge import _core

CAL = ROOT / "experiments" / "calibrate" / "history_1956.toml"
SMALL = dict(points=4, runs=10, draws=20)


@pytest.fixture(scope="module")
def rounds_file(tmp_path_factory):
    """One design point, 300 runs, with every run's rounds."""
    path = tmp_path_factory.mktemp("impossible") / "rounds.h5"
    cli("run", "--runs", 300, "--seed", 3, "--store", "rounds", "--out", path, "--quiet")
    return path


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("impossible") / "grid.h5"
    cli("run", ROOT / "experiments" / "sweeps" / "threat_rewards_grid.toml", "--runs", 200, "--out", path, "--quiet")
    return path


# -- item 1: Results.runs() and Results.rounds() ---------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda r: r.rounds(points=[5]), IndexError,
     r"^points = \[5\]: point 5 is not in the file \(1 point; valid: 0 to 0\)$"),
    (lambda r: r.runs(points=[5]), IndexError,
     r"^points = \[5\]: point 5 is not in the file \(1 point; valid: 0 to 0\)$"),
    (lambda r: r.runs(points=[-1]), IndexError, r"^points = \[-1\]: point -1 is not in the file"),
    (lambda r: r.iter_runs(points=[0, 1]), IndexError, r"^points = \[0, 1\]: point 1 is not in the file"),
    (lambda r: r.rounds(runs=-1), ValueError,
     r"^runs = -1: must be an integer >= 1 \(keeps replicates 0 to runs - 1 of each point\) or a list of "
     r"replicates in \[0, 299\]$"),
    (lambda r: r.rounds(runs=0), ValueError, r"^runs = 0: must be an integer >= 1"),
    (lambda r: r.rounds(runs=[300]), IndexError,
     r"^runs = \[300\]: replicate 300 is not in the file \(300 replicates; valid: 0 to 299\)$"),
    (lambda r: r.iter_rounds(runs=[2, -4]), IndexError, r"^runs = \[2, -4\]: replicate -4 is not in the file"),
    (lambda r: r.rounds(points=5), TypeError, r"^points must be a list of point indices \(integers in \[0, 0\]\), not int$"),
    (lambda r: r.runs(points=[0.0]), TypeError, r"^points must be a list of point indices .*not a list holding float 0.0$"),
    (lambda r: r.rounds(runs="5"), TypeError, r"^runs must be an integer >= 1 or a list of replicate indices, not str$"),
    (lambda r: r.rounds(runs=True), TypeError, r"^runs must be an integer >= 1 or a list of replicate indices, not bool$"),
    (lambda r: r.runs(columns="format"), TypeError, r"^columns must be a list of names \(e\.g\. \[\"format\"\]\), not str 'format'$"),
    (lambda r: r.rounds(run_fields="format"), TypeError, r"^run_fields must be a list of names"),
    (lambda r: r.summary(fields="format"), TypeError, r"^fields must be a list of names"),
    (lambda r: r.runs(chunk_size=0), ValueError, r"^chunk_size = 0: must be an integer >= 1$"),
    (lambda r: r.rounds(chunk_size=-3), ValueError, r"^chunk_size = -3: must be an integer >= 1$"),
])
def test_results_arguments_outside_the_file_are_refused(rounds_file, call, error, message):
    with wedge.open(rounds_file) as r:
        with pytest.raises(error, match=message):
            call(r)


def test_results_arguments_inside_the_file_still_read(rounds_file, grid_file):
    """The checks refuse only what is impossible: every valid point and replicate reads, NumPy
    integers and sets too, and an int above the replicates keeps them all."""
    with wedge.open(rounds_file) as r:
        assert len(r.runs(points=[0])) == 300
        assert set(r.rounds(runs=2)["replicate"]) == {0, 1}
        assert set(r.rounds(runs={np.int64(299), 0})["replicate"]) == {0, 299}
        assert r.rounds(runs=10**6)["replicate"].nunique() == 300
    with wedge.open(grid_file) as r:
        picked = r.runs(points=np.array([11, 3]), columns=["format"])
        assert sorted(picked["point"].unique()) == [3, 11] and len(picked) == 400
        with pytest.raises(IndexError, match=r"^points = \[12\]: point 12 is not in the file \(12 points; valid: 0 to 11\)$"):
            r.runs(points=[12])


# -- item 3: wedge.calibrate's arguments, in Python's words ----------------------------------------

@pytest.mark.parametrize("arguments, message", [
    ({"runs": -3}, r"^runs = -3: must be an integer in \[1, 10000000\]$"),
    ({"runs": 0}, r"^runs = 0: must be an integer in \[1, 10000000\]$"),
    ({"runs": 10**7 + 1}, r"^runs = 10000001: must be an integer in \[1, 10000000\]$"),
    ({"points": 1}, r"^points = 1: must be an integer in \[2, 100000\]$"),
    ({"refine": -1}, r"^refine = -1: must be an integer in \[0, 10\]$"),
    ({"refine_points": 1}, r"^refine_points = 1: must be an integer in \[2, 100000\]$"),
    ({"draws": 19}, r"^draws = 19: must be an integer in \[20, 100000\]$"),
    ({"top": 0}, r"^top = 0: must be an integer in \[1, 1000\]$"),
    ({"defensive": 0.0}, r"^defensive = 0.0: must be a number in \[0.01, 1\]$"),
    ({"defensive": math.nan}, r"^defensive = nan: must be a number in \[0.01, 1\]$"),
    ({"seed": -1}, r"^seed = -1: must be an integer in \[0, 9223372036854775807\]$"),
    ({"threads": -1}, r"^threads = -1: must be an integer in \[1, 1024\]$"),
    ({"design": "grid"}, r"^design = 'grid': must be sobol or lhs$"),
])
def test_calibrate_arguments_out_of_range_name_the_argument(arguments, message):
    with pytest.raises(_core.ConfigError, match=message) as error:
        wedge.calibrate(CAL, **{**SMALL, **arguments})
    assert isinstance(error.value, ValueError)
    assert "--" not in str(error.value)  # Python's words, not the command line's


@pytest.mark.parametrize("arguments, message", [
    ({"runs": 10.0}, r"^runs must be an integer \(an integer in \[1, 10000000\]\), not float$"),
    ({"points": "8"}, r"^points must be an integer \(an integer in \[2, 100000\]\), not str$"),
    ({"refine": True}, r"^refine must be an integer .*not bool$"),
    ({"defensive": "0.1"}, r"^defensive must be a number \(a number in \[0.01, 1\]\), not str$"),
    ({"design": 1}, r"^design must be 'sobol' or 'lhs', not int$"),
    ({"quiet": 0}, r"^quiet must be True or False, not int$"),
    ({"history": 3}, r"^history must be a dict, a string or a list of them, not int$"),
])
def test_calibrate_arguments_of_the_wrong_type_raise_type_error(arguments, message):
    with pytest.raises(TypeError, match=message):
        wedge.calibrate(CAL, **{**SMALL, **arguments})


@pytest.mark.parametrize("history, message", [
    ("format=declaration,format=treaty",
     r"^history: 'format = declaration' and 'format = treaty' cannot hold in the same run \(no value of format "
     r"satisfies both\): no run can match this history$"),
    ("rounds=2..3,rounds=5..", r"^history: 'rounds = 2..3' and 'rounds = 5..' cannot hold in the same run"),
    ("alignment=0..0.2,alignment=0.5..", r"^history: 'alignment = 0..0.2' and 'alignment = 0.5..' cannot hold"),
    ({"rounds": 99}, r"^history: rounds = 99: no run can end so: negotiation.rounds is 8, so rounds takes 1 to 8; "
                     r"no run can match this history$"),
    ({"threat_round": {"min": 9}}, r"^history: threat_round = 9..: no run can end so: negotiation.rounds is 8"),
    ({"alignment": {"min": 1.5}}, r"^history: alignment = 1.5..: no run can end so: alignment lies in \[0, 1\]"),
    ({"reward_total": {"max": -1}}, r"^history: reward_total = ..-1: no run can end so: reward_total is a sum"),
    ("format=peace", r"^history: format has no category 'peace'"),
])
def test_calibrate_refuses_impossible_histories_before_running(history, message):
    with pytest.raises(_core.ConfigError, match=message):
        wedge.calibrate(CAL, history=history, **SMALL)


def test_impossible_means_impossible_in_the_whole_prior():
    """A round beyond the file's negotiation.rounds is possible when the prior sweeps the rounds
    up to it; a threat round is impossible only when no point of the prior threatens."""
    prior = {"sweep": {"design": "sobol", "points": 4,
                       "keys": {"negotiation.rounds": {"min": 4, "max": 12}}}}
    cal = wedge.calibrate(prior, history={"rounds": 11}, points=4, runs=50, draws=20)
    assert cal.points["runs"].sum() == 200
    with pytest.raises(_core.ConfigError, match=r"rounds = 13: no run can end so: negotiation.rounds is 12, so "
                                                r"rounds takes 1 to 12 \(at the widest point of the prior\)"):
        wedge.calibrate(prior, history={"rounds": 13}, points=4, runs=50, draws=20)
    no_threat = {"dulles": {"threat_strength": 0.0},
                 "sweep": {"design": "sobol", "points": 4, "keys": {"dulles.tact": {"min": 0, "max": 1}}}}
    with pytest.raises(_core.ConfigError, match=r"threat_round != 0: no run can end so: dulles.threat_strength is 0"):
        wedge.calibrate(no_threat, points=4, runs=50, draws=20)  # the 1956 history has a threat
    swept = {"sweep": {"design": "sobol", "points": 4, "keys": {"dulles.threat_strength": {"min": 0, "max": 1}}}}
    wedge.calibrate(swept, history={"threat_round": {"not": 0}}, points=4, runs=50, draws=20)


# -- item 4: trace --where ---------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["", " ", ",", "format=treaty,"])
def test_trace_refuses_an_empty_condition(where):
    r = cli("trace", "--where", where, check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert re.match(r"^error: --where '.*': expected field=category\[,field=category\.\.\.\]", r.stderr), r.stderr
    assert r.stderr.count("\n") == 1


def test_the_explorers_search_refuses_impossible_conditions_too():
    with pytest.raises(_core.ConfigError, match=r"condition rounds=9: no run of point 0 can end so: "
                                                r"negotiation.rounds is 8"):
        _core.find_run("", "", [], 100, 1, 0, ["rounds=9"], 1)


# -- item 3: every unsigned option refuses a negative value ------------------------------------------

# The commands with numeric options (params, inspect and merge have none).
COMMANDS = ["run", "validate", "calibrate", "trace", "check", "compare"]
HIDDEN = {"run": ["--grain", "--wave", "--checkpoint-seconds", "--test-stop-after-blocks",
                  "--test-stop-after-checkpoints"]}


def numeric_options(command):
    """The options of `wedge COMMAND --help` that take a number (CLI11 shows UINT, INT, FLOAT),
    and the hidden ones of HIDDEN."""
    text = cli(command, "--help").stdout
    found = re.findall(r"^\s+(--[a-z-]+)(?:,[^ ]+)?\s+(?:UINT|INT|FLOAT|INT:|UINT:|FLOAT:)", text, re.M)
    return sorted(set(found) | set(HIDDEN.get(command, [])))


def test_every_numeric_option_is_found():
    """The help parser finds the options this test is about (a change of CLI11's help layout must
    not make the next test check nothing)."""
    assert {"--runs", "--seed", "--threads", "--max-runs", "--precision"} <= set(numeric_options("run"))
    assert {"--points", "--runs", "--refine", "--refine-points", "--draws", "--top", "--defensive",
            "--threads", "--seed"} <= set(numeric_options("calibrate"))
    assert {"--point", "--replicate", "--where-limit", "--seed"} <= set(numeric_options("trace"))


@pytest.mark.parametrize("command", COMMANDS)
def test_no_numeric_option_wraps_a_negative_value(command, tmp_path):
    experiment = {"calibrate": [CAL], "compare": [CAL, CAL], "validate": [CAL]}.get(command, [])
    options = numeric_options(command)
    assert options, command
    for option in options:
        r = cli(command, *experiment, option, "-1", check=False)
        assert r.returncode == 2, (command, option, r.stderr)
        assert "18446744073709551615" not in r.stderr, (command, option, r.stderr)
        assert re.search(rf"^error: {option}: -1 is out of range; must be (an integer|a number) in \[", r.stderr), \
            (command, option, r.stderr)


# -- item 3: Python's messages use Python's names, never the command line's flags ----------------------

def test_python_messages_name_python_arguments():
    with pytest.raises(_core.ConfigError) as error:
        wedge.simulate(set=["dulles.tact=0.1", "dulles.tact=0.2"], runs=10)
    assert str(error.value) == ("set item dulles.tact=0.2: 'dulles.tact' is set twice (also set item "
                                "dulles.tact=0.1); give each key once")
    grid = ROOT / "experiments" / "sweeps" / "threat_rewards_grid.toml"
    with pytest.raises(_core.ConfigError, match=r"^set item dulles.threat_strength=1: 'dulles.threat_strength' is "
                                                r"swept by the experiment"):
        wedge.simulate(grid, set={"dulles.threat_strength": 1}, runs=10)
    with pytest.raises(_core.ConfigError, match=r"^set item japan.factions.PUB.softens=true: 'softens' is set in "
                                                r"experiment files only"):
        wedge.simulate(set={"japan.factions.PUB.softens": True}, runs=10)
    with pytest.warns(UserWarning) as caught:
        wedge.simulate(runs=2048, precision=0.001, max_runs=2048)
    message = str(caught[0].message)
    assert "within max_runs=2048 " in message and message.endswith("raise max_runs") and "--" not in message
    r = cli("run", "--runs", 2048, "--precision", 0.001, "--max-runs", 2048, "--quiet", check=False)
    assert "within --max-runs 2048 " in r.stderr and r.stderr.rstrip().endswith("raise --max-runs")
