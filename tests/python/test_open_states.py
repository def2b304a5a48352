"""wedge.open() tells a file being written, an interrupted run and a damaged file apart, as
`wedge inspect` does, and never suggests --force for a healthy file."""
import fcntl
import os
import shlex
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

import wedge
from conftest import WEDGE, wedge as run_wedge


def _wait_for(path, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_a_file_being_written_by_wedge_is_busy_not_damaged(tmp_path):
    out = tmp_path / "busy.h5"
    writer = subprocess.Popen([str(WEDGE), "run", "--runs", "350000000", "--store", "summary", "--out", str(out),
                               "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        partial = tmp_path / "busy.h5.partial"
        _wait_for(partial)
        time.sleep(0.3)  # past the first flush
        inspect = run_wedge("inspect", partial, check=False)
        assert "being written by another process" in inspect.stderr
        for allow_partial in (False, True):
            with pytest.raises(wedge.ResultsBusyError, match="is being written by another process") as err:
                wedge.open(partial, allow_partial=allow_partial)
            assert "--force" not in str(err.value) and "damaged" not in str(err.value)
    finally:
        writer.send_signal(signal.SIGINT)
        writer.wait(timeout=60)
    # Once the writer has stopped, the same file is an interrupted run.
    with pytest.raises(wedge.ResultsPartialError):
        wedge.open(partial)


def test_a_partial_file_whose_lock_is_held_is_busy_even_if_hdf5_lets_it_open(files, tmp_path):
    # HDF5's own file locking can be off (HDF5_USE_FILE_LOCKING=FALSE, some file systems): the
    # lock wedge holds on NAME.h5.lock still says that the file is being written.
    partial = tmp_path / "held.h5.partial"
    shutil.copy(files["partial"], partial)
    fd = os.open(tmp_path / "held.h5.lock", os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(wedge.ResultsBusyError, match="held.h5.lock"):
            wedge.open(partial, allow_partial=True)
    finally:
        os.close(fd)
    with wedge.open(partial, allow_partial=True) as r:  # the lock released: readable again
        assert not r.complete
    # A complete file is readable while a new run of the same name holds the lock (it writes
    # NAME.h5.partial and replaces NAME.h5 only when it completes).
    fd = os.open(tmp_path / "baseline.h5.lock", os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        shutil.copy(files["baseline"], tmp_path / "baseline.h5")
        with wedge.open(tmp_path / "baseline.h5") as r:
            assert r.complete
    finally:
        os.close(fd)


def test_an_interrupted_run_says_how_to_resume_and_the_command_works(tmp_path):
    out = tmp_path / "cut.h5"
    # Far more runs than fit in the test's second: interrupted, resumed, interrupted again.
    command = [str(WEDGE), "run", "--runs", "200000000", "--seed", "5", "--store", "summary",
               "--out", str(out), "--quiet", "--checkpoint-seconds", "0.05"]
    writer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = tmp_path / "cut.h5.partial"
    _wait_for(partial)
    time.sleep(0.5)
    writer.send_signal(signal.SIGINT)
    assert writer.wait(timeout=60) == 130  # interrupted (README: exit codes)
    with pytest.raises(wedge.ResultsPartialError, match=r"interrupted after \d+ of 200000000 runs: resume with `") as err:
        wedge.open(partial)
    message = str(err.value)
    assert "--force" not in message and "damaged" not in message
    resume = shlex.split(err.value.resume_command)
    assert resume[:2] == [str(WEDGE), "run"] and "--resume" in resume and str(out) in resume
    with wedge.open(partial, allow_partial=True) as r:
        done = r.attrs["runs_done"]
        assert r.summary(["format"])["count"].sum() == done
    # The suggested command continues the same file (that a resumed run equals an uninterrupted
    # one bit for bit is tests/cli/test_interrupt.sh's business).
    resumed = subprocess.Popen(resume, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    resumed.send_signal(signal.SIGINT)
    _, stderr = resumed.communicate(timeout=60)
    assert resumed.returncode == 130, stderr
    with wedge.open(partial, allow_partial=True) as r:
        assert r.attrs["runs_done"] > done
        assert r.summary(["format"])["count"].sum() == r.attrs["runs_done"]


def test_damaged_files_say_damaged_and_what(files, tmp_path):
    # Truncated (a run killed before its first flush, a copy cut short).
    cut = tmp_path / "cut.h5"
    cut.write_bytes(files["baseline"].read_bytes()[:4000])
    with pytest.raises(wedge.ResultsDamagedError, match="cut.h5: damaged: cannot open it as HDF5"):
        wedge.open(cut)
    # Counts that do not add up to the runs (in the checkpoint, the authoritative copy).
    bad = tmp_path / "counts.h5"
    shutil.copy(files["grid"], bad)
    with h5py.File(bad, "r+") as f:
        counts = f[f"checkpoint/{f.attrs['checkpoint_slot']}/alliance_counts"]
        row = counts[3]
        row[0] += 7
        counts[3] = row
    with pytest.raises(wedge.ResultsDamagedError,
                       match=r"counts.h5: damaged: /checkpoint/\d/alliance_counts: point 3: sums to 3007, expected 3000 runs"):
        wedge.open(bad)
    # /summary saying other numbers than the checkpoint.
    flipped = tmp_path / "flipped.h5"
    shutil.copy(files["grid"], flipped)
    with h5py.File(flipped, "r+") as f:
        counts = f["summary/alliance/counts"]
        row = counts[3]
        row[0] += 7
        counts[3] = row
    with pytest.raises(wedge.ResultsDamagedError,
                       match="flipped.h5: damaged: /summary/alliance/counts: point 3, column 0 disagrees with the checkpoint"):
        wedge.open(flipped)
    # Fewer per-run records than runs.
    short = tmp_path / "short.h5"
    shutil.copy(files["grid"], short)
    with h5py.File(short, "r+") as f:
        for ds in f["runs"].values():
            ds.resize((100,))
    with pytest.raises(wedge.ResultsDamagedError, match=r"damaged: /runs/\w+: holds 100 records, 36000 runs are done"):
        wedge.open(short)
    # A corrupted chunk of records: the summaries open, the records' checksum fails when read.
    corrupt = tmp_path / "corrupt.h5"
    shutil.copy(files["grid"], corrupt)
    with h5py.File(corrupt, "r") as f:
        chunk = f["runs/alliance"].id.get_chunk_info(0)
    with open(corrupt, "r+b") as handle:
        handle.seek(chunk.byte_offset + 100)
        handle.write(bytes(np.full(64, 0xFF, dtype=np.uint8)))
    with wedge.open(corrupt) as r:
        assert r.summary(["alliance"])["count"].sum() == 36000
        with pytest.raises(wedge.ResultsDamagedError, match=r"damaged: /runs/alliance records 0 to \d+ cannot be read"):
            r.runs(columns=["alliance"])
    for path in (cut, bad, flipped, short):
        with pytest.raises(wedge.ResultsDamagedError) as err:
            wedge.open(path)
        assert "--force" not in str(err.value)
