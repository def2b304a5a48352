"""A damaged `categories` attribute (the labels of a categorical field, in /summary/<field> and
/runs/<field>) is refused by `wedge inspect` and by wedge.open in the same words: both come from
the C++ reader's check (output::categories_problem, which wedge.open asks through
wedge._core.check_categories before its own reading). A fresh-clone tester had seen inspect say
"the categories differ from the model's" where Python said "differ from /summary's", or named a
checkpoint shape that the relabelled list had upset."""
import shutil
import subprocess

import h5py
import numpy as np
import pytest

import wedge
from conftest import WEDGE


def ascii_list(*labels):
    """A list of labels as h5py writes bytes: variable-length ASCII strings."""
    return np.array([label.encode() for label in labels], dtype=object)


CASES = {
    "summary relabelled": ("/summary/format", ascii_list("none", "declaration", "TREATY"),
                           "/summary/format: attribute categories: the categories differ from the model's"),
    "summary one short": ("/summary/format", ascii_list("none", "declaration"),
                          "/summary/format: attribute categories: the categories differ from the model's"),
    "summary round labels shifted": ("/summary/rounds", ascii_list(*(str(i) for i in range(2, 102))),
                                     "/summary/rounds: attribute categories: the categories differ from the model's"),
    "runs relabelled": ("/runs/alliance", ascii_list("intact", "strained", "rupture_realign", "rupture_neutral"),
                        "/runs/alliance: attribute categories: the categories differ from the model's"),
    "summary not strings": ("/summary/okinawa", np.array([0, 1]),
                            "/summary/okinawa attribute categories: is not a string"),
    "runs deleted": ("/runs/format", None, "/runs/format attribute categories: missing"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_inspect_and_wedge_open_word_a_damaged_categories_attribute_alike(files, tmp_path, case):
    target, value, what = CASES[case]
    path = tmp_path / "damaged.h5"
    shutil.copy(files["baseline"], path)
    with h5py.File(path, "r+") as f:
        if value is None:
            del f[target].attrs["categories"]
        else:
            f[target].attrs["categories"] = value
    cli = subprocess.run([str(WEDGE), "inspect", str(path)], capture_output=True, text=True)
    assert cli.returncode == 3, cli.stderr
    assert cli.stderr == f"error: {path}: damaged: {what}\n"
    with pytest.raises(wedge.ResultsDamagedError) as caught:
        with wedge.open(path) as r:
            r.summary()
    assert str(caught.value) == f"{path}: damaged: {what}"
