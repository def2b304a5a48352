import os
import signal
import threading
import time

import numpy as np
import pytest

import wedge
from conftest import ROOT, SWEEPS, cli_json


def without_experiment(doc):
    return {k: v for k, v in doc.items() if k not in ("experiment", "records")}


def test_simulate_equals_the_command_line():
    assert without_experiment(wedge.simulate(runs=20000, seed=7)) == cli_json("--runs", 20000, "--seed", 7)
    grid = SWEEPS / "threat_rewards_grid.toml"
    assert without_experiment(wedge.simulate(grid, runs=2000, threads=1)) == cli_json(grid, "--runs", 2000)
    assert (without_experiment(wedge.simulate(set={"dulles.tact": 0.9}, runs=5000, seed=3, crn=True))
            == cli_json("--runs", 5000, "--seed", 3, "--crn", "--set", "dulles.tact=0.9"))


def test_simulate_takes_a_dict_and_returns_records():
    out = wedge.simulate({"run": {"seed": 11}, "dulles": {"tact": 0.9},
                          "sweep": {"design": "grid", "keys": {"dulles.threat_strength": [0.0, 2.0]}}},
                         runs=4000, records=True)
    assert out["seed"] == 11
    assert [p["params"] for p in out["points"]] == [{"dulles.threat_strength": 0}, {"dulles.threat_strength": 2}]
    rec = out["records"]
    assert len(rec["format"]) == 8000 and rec["point"].dtype == np.uint32
    for p, point in enumerate(out["points"]):
        mask = rec["point"] == p
        counts = np.bincount(rec["format"][mask], minlength=3)
        assert counts.tolist() == [point["counts"]["format"][c] for c in ("none", "declaration", "treaty")]
    assert 'tact = 0.9' in out["experiment"]


def test_simulate_rejects_bad_input_with_the_key_named():
    with pytest.raises(ValueError, match="dulles.tact = 1.4: must be"):
        wedge.simulate(set={"dulles.tact": 1.4}, runs=10)
    with pytest.raises(ValueError, match="did you mean 'dulles.tact'"):
        wedge.simulate(set=["dulles.tcat=0.4"], runs=10)
    with pytest.raises(ValueError, match="runs"):
        wedge.simulate(runs=0)


def test_simulate_releases_the_gil():
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    before = len(ticks)
    wedge.simulate(runs=3_000_000, threads=1)
    during = len(ticks) - before
    stop.set()
    t.join()
    assert during > 10  # the other Python thread kept running while the engine worked


def test_ctrl_c_stops_simulate_with_keyboard_interrupt():
    # 4e9 runs take many minutes; Ctrl-C must stop the engine at its next wave boundary.
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        wedge.simulate(runs=4_000_000_000, threads=2)
    timer.join()
    assert time.monotonic() - start < 30
    # Nothing process-wide was left behind: the next call runs normally.
    assert without_experiment(wedge.simulate(runs=5000, seed=2)) == cli_json("--runs", 5000, "--seed", 2)


def test_simulate_from_two_threads_at_once_equals_one_after_the_other():
    grid = SWEEPS / "threat_rewards_grid.toml"
    alone = [wedge.simulate(runs=100_000, seed=4), wedge.simulate(grid, runs=5000)]
    together = [None, None]

    def run(i):
        together[i] = wedge.simulate(runs=100_000, seed=4) if i == 0 else wedge.simulate(grid, runs=5000)

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == alone


def test_simulate_warnings_name_the_callers_line(tmp_path):
    # The design's warning (a Sobol design of 5 points) is raised in C++ under wedge.simulate: it
    # names the line that called simulate, not python/wedge/__init__.py.
    experiment = tmp_path / "five.toml"
    experiment.write_text(f'extends = "{ROOT / "experiments" / "scenarios" / "baseline.toml"}"\n'
                          '[sweep]\ndesign = "sobol"\npoints = 5\n'
                          '[sweep.keys]\n"dulles.tact" = { min = 0.0, max = 1.0 }\n')
    with pytest.warns(UserWarning, match="not a power of two") as caught:
        wedge.simulate(experiment, runs=10, seed=1)
    assert [w.filename for w in caught if "power of two" in str(w.message)] == [__file__]
