"""wedge.open reads a file in a child process first (wedge.results._probe): files that crash or
exhaust Debian 12's HDF5 1.10.8 itself (tests/fuzz/regressions-results/, which h5py uses too) raise
ResultsDamagedError instead of killing Python or allocating 4 GiB; the child's own errors reach
the caller unchanged; a crash, the memory limit and the time limit are each damage."""
import os
import pathlib
import resource
import signal
import time

import pytest

import wedge
import wedge.results as results
from conftest import ROOT

REGRESSIONS = sorted((ROOT / "tests" / "fuzz" / "regressions-results").glob("*.h5"))
WHY = {"hdf5-global-heap-segv.h5": "crashed the HDF5 library (SIGSEGV)",
       "hdf5-vlen-attribute-oom.h5": "needed more than 2 GiB of memory"}


def test_every_regression_file_has_its_reason():
    assert sorted(p.name for p in REGRESSIONS) == sorted(WHY)


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: p.name)
def test_files_that_crash_hdf5_are_damaged(path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    with pytest.raises(wedge.ResultsDamagedError) as err:
        wedge.open(path)
    assert str(err.value).startswith(f"{path} is damaged: reading its metadata {WHY[path.name]}")
    assert str(err.value).endswith("; nothing was written")
    assert time.monotonic() - start < 30
    # The child's largest resident set (kB) stays far below the 4 GiB the file claims.
    assert max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) < 1 << 20


def test_the_childs_errors_reach_the_caller_unchanged(files, tmp_path):
    bad = tmp_path / "not.h5"
    bad.write_bytes(b"not an HDF5 file")
    with pytest.raises(wedge.ResultsError, match=r"not an HDF5 file \(or damaged beyond reading\)$") as err:
        wedge.open(bad)
    assert type(err.value) is wedge.ResultsError
    # A healthy file opens (the child read it, then the parent).
    with wedge.open(files["baseline"]) as r:
        assert r.complete


@pytest.mark.parametrize("fault, seconds, message", [
    # The crash and memory faults keep the default time budget (60 s): the child meets them as
    # soon as it reaches the checks, and under load (TSan, busy cores) reaching them took longer
    # than the 0.5 s they once had, which reported the time limit instead of the crash.
    (lambda: os.kill(os.getpid(), signal.SIGSEGV), None, "crashed the HDF5 library (SIGSEGV)"),
    (lambda: os.abort(), None, "crashed the HDF5 library (SIGABRT)"),
    (lambda: bytearray(3 << 30), None, "needed more than 2 GiB of memory"),
    # The time limit: the child sleeps far past the budget, so it is exceeded however slowly the
    # child starts (before its checks or in them, the report is the same).
    (lambda: time.sleep(600), 0.5, "took longer than 0.5 s"),
])
def test_a_crash_memory_or_time_in_the_child_is_damage(files, monkeypatch, fault, seconds, message):
    # The fault where the file's checks run; the child meets it first, the parent never does.
    monkeypatch.setattr(results.Results, "_check", lambda self, allow_partial: fault())
    if seconds is not None:
        monkeypatch.setattr(results, "_PROBE_SECONDS", seconds)
    monkeypatch.setattr(results, "_PROBE_MEMORY_BYTES", 2 << 30)
    with pytest.raises(wedge.ResultsDamagedError, match=rf"^{files['baseline']} is damaged: reading its metadata "
                                                        rf"{message.replace('(', '[(]').replace(')', '[)]')}"):
        wedge.open(files["baseline"])


@pytest.mark.parametrize("raised", [KeyError("Unable to open object (bad object header version number)"),
                                    RuntimeError("Unable to determine if attribute exists"),
                                    OSError("Unable to read attribute (address of object past end of allocation)")])
def test_h5pys_own_errors_on_a_damaged_file_are_damage(files, monkeypatch, raised):
    # What h5py raises from inside the checked reading of a file damaged where no check names it
    # (found by flipping bytes of real files: KeyError, RuntimeError, OSError escaped before).
    def fail(self, allow_partial):
        raise raised
    monkeypatch.setattr(results.Results, "_check", fail)
    with pytest.raises(wedge.ResultsDamagedError,
                       match=rf"^{files['baseline']}: damaged: {type(raised).__name__}: "):
        wedge.open(files["baseline"])


def test_results_of_another_model_are_refused(files, tmp_path):
    # As wedge inspect does: a file whose model is not tug_of_war (another model's, or a damaged
    # name) is not read as this model's results.
    import shutil
    import h5py
    other = tmp_path / "other.h5"
    shutil.copyfile(files["baseline"], other)
    with h5py.File(other, "r+") as f:
        f.attrs["model"] = "tu=\x055<_war"
    with pytest.raises(wedge.ResultsError, match=r"results of model 'tu=\\x055<_war', not 'tug_of_war'$"):
        wedge.open(other)


def test_a_loop_of_symbolic_links_is_worded_as_wedge_words_it(tmp_path):
    # As every wedge command says it (output/paths.hpp), not "no such file".
    loop = tmp_path / "loop.h5"
    loop.symlink_to(loop)
    with pytest.raises(wedge.ResultsError, match=f"^{loop}: too many levels of symbolic links$"):
        wedge.open(loop)
    (tmp_path / "dir").symlink_to(tmp_path / "dir")
    inside = tmp_path / "dir" / "x.h5"
    with pytest.raises(wedge.ResultsError, match=f"^{inside}: too many levels of symbolic links$"):
        wedge.open(inside)
