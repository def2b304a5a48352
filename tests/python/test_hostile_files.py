"""wedge.open refuses the damaged and hostile results files of tests/python/hostile.py with the
message `wedge inspect` gives (tests/cli/test_hostile_files.sh), never opens another file, and
never turns a stored value that is no category into a missing value."""
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest

import hostile
import wedge
from conftest import ROOT, SWEEPS, wedge as run_wedge


@contextlib.contextmanager
def deadline(seconds):
    """Fails instead of hanging: a reader that opened one of the crafted FIFOs would block."""
    def expired(signum, frame):
        raise TimeoutError(f"still reading after {seconds} s: a FIFO was opened?")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    run_wedge("run", "--runs", 5000, "--seed", 3, "--out", d / "single.h5", "--quiet")
    run_wedge("run", SWEEPS / "threat_rewards_grid.toml", "--runs", 1000, "--out", d / "grid.h5", "--quiet")
    run_wedge("run", "--runs", 200, "--seed", 3, "--store", "rounds", "--out", d / "rounds.h5", "--quiet")
    return d


@pytest.mark.parametrize("name", list(hostile.KINDS))
def test_open_refuses_each_kind_with_the_message_of_inspect(bases, tmp_path, name):
    kind = hostile.KINDS[name]
    crafted = tmp_path / f"{name}.h5"
    hostile.craft(name, bases / f"{kind.base}.h5", crafted, tmp_path / "work")
    for allow_partial in (False, True):
        with deadline(30), pytest.raises(wedge.ResultsDamagedError) as err:
            wedge.open(crafted, allow_partial=allow_partial)
        message = str(err.value)
        assert re.search(f"^{re.escape(str(crafted))}: damaged: {kind.pattern}", message), message
        assert "--force" not in message


def test_the_healthy_bases_open(bases):
    for base in ("single", "grid"):
        with wedge.open(bases / f"{base}.h5") as r:
            assert r.complete and len(r.summary()) > 0
    with wedge.open(bases / "rounds.h5") as r:
        assert r.has_rounds and len(r.rounds(runs=3)) > 0


def test_reading_a_file_opens_no_other_file(bases, tmp_path):
    # Every kind whose data or links point at another file, read in one traced process: the
    # external targets (in work/) must never be opened, whatever the reader is asked for.
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    names = ["external_storage", "external_storage_fifo", "virtual_dataset", "virtual_dataset_missing_source",
             "external_link", "external_link_fifo", "filter_plugin", "experiment_names_csv",
             "rounds_external_storage", "rounds_external_storage_fifo", "rounds_virtual_missing_source",
             "rounds_external_link"]
    for name in names:
        hostile.craft(name, bases / f"{hostile.KINDS[name].base}.h5", tmp_path / f"{name}.h5", tmp_path / "work")
    healthy = tmp_path / "healthy.h5"
    shutil.copy(bases / "single.h5", healthy)
    script = f"""
import sys, wedge
sys.path.insert(0, {str(ROOT / 'python')!r})
for name in {names!r}:
    try:
        wedge.open({str(tmp_path)!r} + "/" + name + ".h5")
        sys.exit(name + " opened")
    except wedge.ResultsDamagedError:
        pass
with wedge.open({str(healthy)!r}) as r:
    r.summary(); r.runs(); r.to_xarray(runs=True).load(); r.stats()
"""
    trace = tmp_path / "trace"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    done = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", str(trace), sys.executable, "-c", script],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    opened = [line for line in trace.read_text().splitlines() if "ENOENT" not in line and str(tmp_path) in line]
    others = {re.search(r'"([^"]+)"', line).group(1) for line in opened} - \
        {str(tmp_path / f"{n}.h5") for n in names} - {str(healthy)}
    assert not others, f"opened besides the results files: {others}"


def test_a_fifo_is_not_opened(tmp_path):
    fifo = tmp_path / "fifo.h5"
    os.mkfifo(fifo)
    with deadline(30), pytest.raises(wedge.ResultsError, match="not a regular file"):
        wedge.open(fifo)


@pytest.mark.parametrize("column, index, value, label", [
    ("islands_promised", 17, 3, "islands_promised"),  # stored by value: 3 is no category (0, 2, 4)
    ("format", 5, 7, "format"),                       # stored by index: 7 is past the 3 categories
])
def test_a_stored_value_that_is_no_category_is_damage_not_a_missing_value(bases, tmp_path, column, index, value, label):
    bad = tmp_path / "bad.h5"
    shutil.copy(bases / "single.h5", bad)
    with h5py.File(bad, "r+") as f:
        f[f"runs/{column}"][index] = value
    pattern = rf"bad.h5: damaged: /runs/{column}: record {index} holds {value}, which is no category of {label}"
    with wedge.open(bad) as r:  # the summaries are sound; the records are read on demand
        with pytest.raises(wedge.ResultsDamagedError, match=pattern):
            r.runs(columns=[column])
        with pytest.raises(wedge.ResultsDamagedError, match=pattern):
            r.to_xarray(runs=True)[column].values
        # The records before it are still read as they are.
        assert len(next(r.iter_runs(columns=[column], chunk_size=index))) == index


def test_the_checkpoint_is_authoritative_and_summary_must_agree(bases, tmp_path):
    # C++ and Python read the same numbers: the checkpoint slot; /summary is checked against it.
    with wedge.open(bases / "grid.h5") as r:
        counts = r.summary(["format"], all_categories=True)["count"].to_numpy()
        with h5py.File(bases / "grid.h5") as f:
            slot = f[f"checkpoint/{f.attrs['checkpoint_slot']}"]
            assert np.array_equal(counts, slot["format_counts"][()].reshape(-1))
            assert np.array_equal(f["summary/format/counts"][()].reshape(-1), counts)
    doc = json.loads(run_wedge("inspect", bases / "grid.h5", "--json").stdout)
    assert [sum(p["counts"]["format"].values()) for p in doc["points"]] == [1000] * 12
    labels = list(doc["points"][0]["counts"]["format"])
    assert np.array_equal(np.array([[p["counts"]["format"][c] for c in labels] for p in doc["points"]]).reshape(-1),
                          counts)
