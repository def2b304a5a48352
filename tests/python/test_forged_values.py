"""Values no checksum covers cannot mislead in Python either (docs/output-format.md, "What readers
check"): a /design value changed (with h5py, or a flipped bit) and a /blocks sum edited are
refused by wedge.open with ResultsDamagedError, in the words of `wedge inspect` (both come from
the C++ reader's checks, wedge._core.check_results). Fresh-clone testers had changed a swept key's
value in /design and seen tables and xarray show it as if the runs had used it."""
import shutil
import subprocess

import h5py
import pytest

import wedge
from conftest import WEDGE


def inspect_error(path):
    cli = subprocess.run([str(WEDGE), "inspect", str(path)], capture_output=True, text=True)
    assert cli.returncode == 3, cli.stderr
    assert cli.stderr.startswith("error: ") and cli.stderr.count("\n") == 1, cli.stderr
    return cli.stderr[len("error: "):].rstrip("\n")


def opened_error(path):
    with pytest.raises(wedge.ResultsDamagedError) as caught:
        with wedge.open(path) as r:
            r.summary()
    return str(caught.value)


@pytest.mark.parametrize("source, key, point", [
    ("grid", "dulles.reward_power", 5),
    ("lhs", "dulles.threat_strength", 7),
    ("saltelli", "dulles.tact", 3),
])
def test_a_changed_design_value_is_refused_with_both_values(files, tmp_path, source, key, point):
    path = tmp_path / f"{source}.h5"
    shutil.copy(files[source], path)
    with h5py.File(path, "r+") as f:
        was = float(f["design"][key][point])
        f["design"][key][point] = 0.4375
    message = (f"{path}: damaged: /design/{key}: point {point}: holds 0.4375, but the stored "
               f"experiment's {source} design gives {was!r}")
    assert inspect_error(path) == message
    assert opened_error(path) == message


def test_a_flipped_bit_in_a_design_value_is_refused(files, tmp_path):
    path = tmp_path / "grid.h5"
    shutil.copy(files["grid"], path)
    with h5py.File(path, "r") as f:
        ds = f["design"]["dulles.reward_power"]
        offset = ds.id.get_offset() + 8 * 6 + 6  # point 6, the float64's second-highest byte
        was = float(ds[6])
    with open(path, "r+b") as raw:
        raw.seek(offset)
        byte = raw.read(1)[0]
        raw.seek(offset)
        raw.write(bytes([byte ^ 0x08]))
    with h5py.File(path, "r") as f:
        now = float(f["design"]["dulles.reward_power"][6])
    assert now != was
    message = (f"{path}: damaged: /design/dulles.reward_power: point 6: holds {now!r}, but the "
               f"stored experiment's grid design gives {was!r}")
    assert inspect_error(path) == message
    assert opened_error(path) == message


def test_an_edited_block_sum_is_refused(files, tmp_path):
    path = tmp_path / "baseline.h5"
    shutil.copy(files["baseline"], path)
    with h5py.File(path, "r+") as f:
        f["blocks"]["reward_total_sum"][0] += 25.0
    message = inspect_error(path)
    assert message.startswith(f"{path}: damaged: /blocks: the blocks of point 0 give reward_total mean ")
    assert message.endswith("(a block's reward_total_n, _shift, _sum, _sum2, _min or _max, or the checkpoint, was changed)")
    assert opened_error(path) == message


def test_the_files_as_written_open(files):
    for source in ("baseline", "grid", "lhs", "saltelli", "summary_only"):
        with wedge.open(files[source]) as r:
            assert len(r.summary()) > 0
