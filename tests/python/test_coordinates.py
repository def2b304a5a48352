"""The coordinates netCDF readers label a results file's numbers with (docs/output-format.md,
"Dimensions": /summary/<field>/category, the histogram's bin, bin_low and bin_high, the typed
copies of integer and boolean design keys, CF flag_meanings) are derived from the rest of the file
and covered by no checksum. A fresh-clone tester flipped a byte that changed a category label:
both `wedge inspect` and wedge.open accepted the file, while xarray (h5netcdf) would have shown
correct counts under a wrong label. Each kind of coordinate, damaged, is now refused by both; so
are the scales themselves (CF flag_values and flag_meanings deleted or changed, values written into
the /run dimension, a scale's CLASS or NAME, a DIMENSION_LIST deleted or pointing at another
scale), which decide what netCDF readers name and label."""
import shutil
import subprocess

import h5py
import numpy as np
import pytest

import wedge
from conftest import WEDGE

TYPED = """[sweep]
design = "grid"
[sweep.keys]
"negotiation.rounds" = [4, 6]
"soviet.straits_clause" = [true, false]
"""


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    """A grid over an integer and a boolean key (their coordinates are typed copies)."""
    d = tmp_path_factory.mktemp("coordinates")
    (d / "typed.toml").write_text(TYPED)
    out = d / "typed.h5"
    subprocess.run([str(WEDGE), "run", str(d / "typed.toml"), "--runs", "300", "--out", str(out), "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def relabel(f):
    f["/summary/format/category"][0] = b"treaty"  # "none" -> a real label of another category


def renumber(f):
    f["/summary/rounds/category"][3] = 7


def move_bin(f):
    f["/summary/alignment/bin_low"][5] = 0.123


def move_bin_index(f):
    f["/summary/alignment/bin"][1] = 9


def rename_flag(f):
    f["/runs/format"].attrs["flag_meanings"] = "none treaty declaration"


def change_integer_key(f):
    f["/summary/negotiation.rounds"][0] = 5


def change_boolean_key(f):
    f["/summary/soviet.straits_clause"][0] = 0


def swap_boolean_meanings(f):
    f["/summary/soviet.straits_clause"].attrs["flag_meanings"] = "true false"


def delete_flag_values(f):
    del f["/runs/format"].attrs["flag_values"]


def change_flag_values(f):
    f["/runs/alliance"].attrs["flag_values"] = np.array([0, 1, 3, 2], dtype=np.uint8)


def delete_flag_meanings(f):
    del f["/runs/end_reason"].attrs["flag_meanings"]


def delete_boolean_flag_values(f):
    del f["/summary/soviet.straits_clause"].attrs["flag_values"]


def negative_boolean_flag_values(f):
    # HDF5's conversion to an unsigned type clips -1 to 0: read unsigned, this passed.
    f["/summary/soviet.straits_clause"].attrs["flag_values"] = np.array([-1, 1], dtype=np.int8)


def write_run_values(f):
    f["/run"][...] = np.arange(f["/run"].shape[0], dtype=np.float32)  # "dimension without values"


def rename_run_scale(f):
    f["/run"].attrs["NAME"] = np.bytes_("run")  # then a netCDF variable of the values above


def rename_point_scale(f):
    f["/design/point"].attrs["NAME"] = np.bytes_("points")


def unscale_point(f):
    del f["/design/point"].attrs["CLASS"]  # once hid every other check of the scales


def unscale_category(f):
    del f["/summary/format/category"].attrs["CLASS"]


def rewrite_point_class(f):
    # The same length in place (attrs.modify keeps the type): HDF5's H5DSis_scale freed its buffer
    # twice on it, aborting the reader with glibc's "double free" and naming no dataset.
    f["/design/point"].attrs.modify("CLASS", b"NOT_A_SCALE____")


def detach_p(f):
    del f["/summary/format/p"].attrs["DIMENSION_LIST"]


def cross_dimension_list(f):
    # Both references are valid objects, the second the histogram's bins, not the categories.
    f["/summary/format/counts"].attrs["DIMENSION_LIST"] = f["/summary/alignment/histogram"].attrs["DIMENSION_LIST"]


def detach_run(f):
    del f["/runs/okinawa"].attrs["DIMENSION_LIST"]


CASES = [
    ("baseline", relabel, "/summary/format: category: the labels differ"),
    ("baseline", renumber, "/summary/rounds/category: holds other values"),
    ("baseline", move_bin, "/summary/alignment/bin_low: holds other values"),
    ("baseline", move_bin_index, "/summary/alignment/bin: holds other values"),
    ("baseline", rename_flag, "/runs/format: attribute flag_meanings differs"),
    ("typed", change_integer_key, "/summary/negotiation.rounds: holds other values"),
    ("typed", change_boolean_key, "/summary/soviet.straits_clause: holds other values"),
    ("typed", swap_boolean_meanings, "/summary/soviet.straits_clause: attribute flag_meanings differs"),
    ("baseline", delete_flag_values, "/runs/format: attribute flag_values is missing"),
    ("baseline", change_flag_values, "/runs/alliance: attribute flag_values differs from the categories' codes"),
    ("baseline", delete_flag_meanings, "/runs/end_reason: attribute flag_meanings is missing"),
    ("typed", delete_boolean_flag_values, "/summary/soviet.straits_clause: attribute flag_values is missing"),
    ("typed", negative_boolean_flag_values,
     "/summary/soviet.straits_clause: attribute flag_values differs from the categories' codes"),
    ("baseline", write_run_values, "/run: holds values; the records' dimension has none"),
    ("baseline", rename_run_scale, "/run: attribute NAME: the scale is not named 'This is a netCDF dimension"),
    ("baseline", rename_point_scale, "/design/point: attribute NAME: the scale is not named 'point'"),
    ("typed", unscale_point, "/design/point: is no longer a dimension scale (attribute CLASS is missing, expected "
                             "'DIMENSION_SCALE'; a damaged coordinate)"),
    ("baseline", unscale_category, "/summary/format/category: is no longer a dimension scale (attribute CLASS is "
                                   "missing, expected 'DIMENSION_SCALE'; a damaged coordinate)"),
    ("typed", rewrite_point_class,
     "/design/point: is no longer a dimension scale (attribute CLASS holds 'NOT_A_SCALE____', not 'DIMENSION_SCALE'"),
    ("baseline", detach_p, "/summary/format/p: attribute DIMENSION_LIST: dimension 0 is not attached to the scale point"),
    ("baseline", cross_dimension_list,
     "/summary/format/counts: attribute DIMENSION_LIST: dimension 1 is not attached to the scale category"),
    ("baseline", detach_run, "/runs/okinawa: attribute DIMENSION_LIST: dimension 0 is not attached to the scale run"),
]


@pytest.mark.parametrize("source, damage, message", CASES, ids=[c[1].__name__ for c in CASES])
def test_a_damaged_coordinate_is_refused_by_inspect_and_wedge_open(files, typed, tmp_path, source,
                                                                    damage, message):
    original = files["baseline"] if source == "baseline" else typed
    path = tmp_path / "damaged.h5"
    shutil.copy(original, path)
    with h5py.File(path, "r+") as f:
        damage(f)
    cli = subprocess.run([str(WEDGE), "inspect", str(path)], capture_output=True, text=True)
    assert cli.returncode == 3, cli.stderr
    assert cli.stderr.startswith(f"error: {path}: damaged: {message}"), cli.stderr
    assert cli.stderr.count("\n") == 1
    with pytest.raises(wedge.ResultsError, match="damaged coordinate"):
        with wedge.open(path) as r:
            r.summary()


def test_the_undamaged_coordinates_pass(files, typed):
    for path in (files["baseline"], files["grid"], files["saltelli"], typed):
        cli = subprocess.run([str(WEDGE), "inspect", str(path)], capture_output=True, text=True)
        assert cli.returncode == 0, cli.stderr
    # The coordinates checked are the ones the file has: typed copies, the labels, the edges.
    with h5py.File(typed, "r") as f:
        assert f["/summary/negotiation.rounds"].dtype == np.int64
        assert list(f["/summary/soviet.straits_clause"][:]) == [1, 0, 1, 0]
        assert [x.decode() for x in f["/summary/format/category"][:]] == ["none", "declaration", "treaty"]
