"""Damaged and hostile results files, crafted with h5py from healthy ones (issue 15, items 1-3
and 6): the catalogue that `tests/cli/test_hostile_files.sh` runs `wedge inspect` on and
`tests/python/test_hostile_files.py` runs `wedge.open` on. Each kind names the healthy file it
starts from and the message both readers must give (exit code 3 for the command line).

As a program: ``hostile.py list`` prints the kinds, one per line, as ``KIND<TAB>BASE<TAB>PATTERN``;
``hostile.py craft KIND SRC DST WORKDIR`` writes DST, a copy of SRC crafted as KIND (extra files,
such as the targets of external storage, go to WORKDIR); ``hostile.py craft-all BASEDIR OUTDIR
WORKDIR`` crafts every kind from BASEDIR/<base>.h5 into OUTDIR/<kind>.h5.

Targets that other files would be read from are FIFOs where possible: a reader that opened one
would hang (the tests run under a timeout) instead of silently reading it.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import sys
from dataclasses import dataclass
from typing import Callable

import h5py
import numpy as np


@dataclass
class Kind:
    name: str
    base: str     # "single" (1 point, 5000 runs with records), "grid" (12 points x 1000 runs) or
                  # "rounds" (1 point, 200 runs, --store rounds)
    pattern: str  # regular expression of the message, after "FILE: damaged: "
    craft: Callable[[h5py.File, pathlib.Path], None]


KINDS: dict[str, Kind] = {}


def kind(name: str, base: str, pattern: str):
    def register(fn):
        KINDS[name] = Kind(name, base, pattern, fn)
        return fn
    return register


def slot(f: h5py.File) -> str:
    return f"/checkpoint/{int(f.attrs['checkpoint_slot'])}"


def replace_attr(obj, name: str, value) -> None:
    del obj.attrs[name]
    obj.attrs[name] = value


def fifo(work: pathlib.Path, name: str) -> str:
    path = work / name
    if not path.exists():
        os.mkfifo(path)
    return str(path.resolve())


# -- item 1: types, ranks, shapes and sizes ------------------------------------------------------

@kind("format_version_array", "single", r"attribute format_version: holds 2 values, expected one")
def _(f, work):
    replace_attr(f, "format_version", np.array([1, 2], dtype=np.uint64))


@kind("complete_string", "single", r"attribute complete: is not an integer")
def _(f, work):
    replace_attr(f, "complete", "yes")


@kind("seed_negative", "single", r"attribute seed: is -1, expected a non-negative integer")
def _(f, work):
    replace_attr(f, "seed", np.int64(-1))


# A string attribute stored as two strings.
for _name in ("experiment", "engine_version"):
    kind(f"{_name}_two_strings", "single", rf"attribute {_name}: holds 2 values, expected one")(
        lambda f, work, name=_name: replace_attr(f, name, [f.attrs[name]] * 2))


@kind("points_attribute_wrong", "single", r"/design/point: has shape \[1\], expected \[5\]")
def _(f, work):
    f.attrs.modify("points", 5)
    f.attrs.modify("runs_planned", 5 * 5000)


@kind("design_point_shuffled", "grid", r"/design/point: entry 0 is 11, expected 0")
def _(f, work):
    f["design/point"][...] = np.arange(12, dtype=np.uint32)[::-1]


@kind("keys_not_strings", "grid", r"/design attribute keys: is not a string")
def _(f, work):
    replace_attr(f["design"], "keys", np.array([1, 2], dtype=np.int64))


@kind("checkpoint_alignment_n_short", "grid", r"/checkpoint/\d/alignment_n: has shape \[3\], expected \[12\]")
def _(f, work):
    g = f[slot(f)]
    n = g["alignment_n"][()]
    del g["alignment_n"]
    g["alignment_n"] = n[:3]


@kind("counts_as_floats", "single", r"/checkpoint/\d/format_counts: holds .*expected unsigned integers")
def _(f, work):
    g = f[slot(f)]
    c = g["format_counts"][()]
    del g["format_counts"]
    g["format_counts"] = c.astype(np.float64)


@kind("counts_do_not_sum", "grid", r"/checkpoint/\d/format_counts: point 3: sums to 1007, expected 1000 runs")
def _(f, work):
    c = f[slot(f) + "/format_counts"]
    row = c[3]
    row[0] += 7
    c[3] = row


@kind("slot_runs_done_wrong", "single",
      r"/checkpoint/\d: the points' runs add up to 5000, the slot's runs_done is 5001")
def _(f, work):
    f[slot(f)].attrs.modify("runs_done", 5001)


@kind("summary_disagrees", "grid", r"/summary/format/counts: point 3, column 0 disagrees with the checkpoint")
def _(f, work):
    # A flipped bit in /summary: today's readers would show different numbers in C++ and Python.
    c = f["summary/format/counts"]
    row = c[3]
    row[0] ^= np.uint64(1)
    c[3] = row


@kind("summary_p_disagrees", "single", r"/summary/format/p: point 0, column 1 disagrees with the checkpoint")
def _(f, work):
    p = f["summary/format/p"]
    row = p[0]
    row[1] = np.nextafter(row[1], 2.0)
    p[0] = row


@kind("runs_column_short", "single", r"/runs/format: holds 100 records, 5000 runs are done")
def _(f, work):
    f["runs/format"].resize((100,))


@kind("encoding_wrong", "single", r"/runs/format: attribute encoding: expected 'index'")
def _(f, work):
    replace_attr(f["runs/format"], "encoding", "value")


@kind("complete_but_short", "single", r"/checkpoint/\d: the file says complete but holds 4096 of 5000 planned runs")
def _(f, work):
    # A consistent checkpoint of fewer runs in a file marked complete.
    g = f[slot(f)]
    for name, ds in g.items():
        if name == "runs" or name.endswith("_n"):
            ds[...] = 4096
        elif name.endswith(("_counts", "_histogram")):
            data = np.zeros(ds.shape, dtype=ds.dtype)
            data[:, 0] = 4096
            ds[...] = data
    g.attrs.modify("runs_done", 4096)


# -- item 6: declared sizes the file does not hold -----------------------------------------------

@kind("huge_design", "single", r"/design/point: declares 4000000000 elements \(16000000000 bytes\) but stores 0 bytes")
def _(f, work):
    f.attrs.modify("points", 4_000_000_000)
    f.attrs.modify("runs_planned", 4_000_000_000 * 5000)
    del f["design/point"]
    f["design"].create_dataset("point", shape=(4_000_000_000,), dtype=np.uint32)  # never written


@kind("huge_histogram_compressed", "single",
      r"/checkpoint/\d/alignment_histogram: has shape \[1, 100000000\], expected \[1, 52\]")
def _(f, work):
    g = f[slot(f)]
    del g["alignment_histogram"]
    g.create_dataset("alignment_histogram", shape=(1, 100_000_000), dtype=np.uint64, chunks=(1, 1 << 20),
                     compression="gzip")


# -- item 2: storage that points elsewhere -------------------------------------------------------

@kind("external_storage", "single", r"/checkpoint/\d/format_counts: stores its data in another file "
                                    r"\(external storage: .*\); wedge reads data stored in the file only")
def _(f, work):
    # The same numbers, stored outside the file: only the refusal tells it apart.
    g = f[slot(f)]
    data = g["format_counts"][()].astype("<u8")
    target = work / "external_counts.bin"
    target.write_bytes(data.tobytes())
    del g["format_counts"]
    g.create_dataset("format_counts", shape=data.shape, dtype="<u8", external=[(str(target.resolve()), 0, data.nbytes)])


@kind("external_storage_fifo", "single", r"/summary/format/p: stores its data in another file")
def _(f, work):
    ds = f["summary/format/p"]
    shape = ds.shape
    del f["summary/format/p"]
    f["summary/format"].create_dataset("p", shape=shape, dtype="<f8", external=[(fifo(work, "never_opened"), 0, 8 * 3)])


@kind("external_storage_etc_passwd", "grid", r"/checkpoint/\d/alignment_min: stores its data in another file "
                                             r"\(external storage: \"/etc/passwd\"\)")
def _(f, work):
    g = f[slot(f)]
    del g["alignment_min"]
    g.create_dataset("alignment_min", shape=(12,), dtype="<f8", external=[("/etc/passwd", 0, 96)])


@kind("virtual_dataset", "single", r"/checkpoint/\d/format_counts: is a virtual dataset")
def _(f, work):
    copy = work / "virtual_source.h5"
    shutil.copy(f.filename, copy)
    g = f[slot(f)]
    shape = g["format_counts"].shape
    del g["format_counts"]
    layout = h5py.VirtualLayout(shape=shape, dtype="<u8")
    layout[:] = h5py.VirtualSource(str(copy.resolve()), slot(f) + "/format_counts", shape=shape)
    g.create_virtual_dataset("format_counts", layout)


@kind("virtual_dataset_missing_source", "single", r"/checkpoint/\d/runs: is a virtual dataset")
def _(f, work):
    # Its source does not exist: HDF5 would read zeros (the fill value).
    g = f[slot(f)]
    del g["runs"]
    layout = h5py.VirtualLayout(shape=(1,), dtype="<u8")
    layout[:] = h5py.VirtualSource(str(work / "no_such_source.h5"), "/runs", shape=(1,))
    g.create_virtual_dataset("runs", layout, fillvalue=5000)


@kind("external_link", "single", r"/checkpoint/\d: is an external link \(to another file\)")
def _(f, work):
    copy = work / "linked.h5"
    shutil.copy(f.filename, copy)
    name = slot(f)
    del f[name]
    f[name] = h5py.ExternalLink(str(copy.resolve()), name)


@kind("external_link_fifo", "single", r"/runs/alignment: is an external link")
def _(f, work):
    del f["runs/alignment"]
    f["runs/alignment"] = h5py.ExternalLink(fifo(work, "never_opened_link"), "/runs/alignment")


@kind("soft_link", "single", r"/summary/format/counts: is a soft link")
def _(f, work):
    del f["summary/format/counts"]
    f["summary/format/counts"] = h5py.SoftLink(slot(f) + "/format_counts")


@kind("filter_plugin", "single", r"/checkpoint/\d/format_counts: uses filter 32004")
def _(f, work):
    g = f[slot(f)]
    data = g["format_counts"][()]
    del g["format_counts"]
    g.create_dataset("format_counts", data=data, chunks=data.shape, compression=32004, allow_unknown_filter=True)


@kind("experiment_names_csv", "single", r"attribute experiment: its list design names a CSV file")
def _(f, work):
    # wedge would read the CSV when re-resolving the design: a FIFO hangs a reader that opens it.
    text = f.attrs["experiment"]
    text = text.decode() if isinstance(text, bytes) else str(text)
    head = text.split("[sweep]")[0]
    csv = fifo(work, "points.csv")
    replace_attr(f, "experiment", head + f'\n[sweep]\ndesign = "list"\ncsv = "{csv}"\n')


# -- item 2 for /rounds (--store rounds): the same refusals as for /runs ---------------------------
# Base "rounds": `wedge run --runs 200 --seed 3 --store rounds`.

@kind("rounds_external_storage", "rounds", r"/rounds/alignment: stores its data in another file "
                                           r"\(external storage: .*\); wedge reads data stored in the file only")
def _(f, work):
    # The same numbers, stored outside the file: only the refusal tells it apart.
    data = f["rounds/alignment"][()].astype("<f4")
    target = work / "external_alignment.bin"
    target.write_bytes(data.tobytes())
    del f["rounds/alignment"]
    f["rounds"].create_dataset("alignment", shape=data.shape, dtype="<f4",
                               external=[(str(target.resolve()), 0, data.nbytes)])


@kind("rounds_external_storage_fifo", "rounds", r"/rounds/support_treaty: stores its data in another file")
def _(f, work):
    shape = f["rounds/support_treaty"].shape
    del f["rounds/support_treaty"]
    f["rounds"].create_dataset("support_treaty", shape=shape, dtype="<f4",
                               external=[(fifo(work, "never_opened_rounds"), 0, 4 * shape[0])])


@kind("rounds_virtual_missing_source", "rounds", r"/rounds/alignment: is a virtual dataset")
def _(f, work):
    # Its source does not exist: HDF5 would read the fill value.
    shape = f["rounds/alignment"].shape
    del f["rounds/alignment"]
    layout = h5py.VirtualLayout(shape=shape, dtype="<f4")
    layout[:] = h5py.VirtualSource(str(work / "no_such_rounds_source.h5"), "/rounds/alignment", shape=shape)
    f["rounds"].create_virtual_dataset("alignment", layout, fillvalue=0.5)


@kind("rounds_soft_link", "rounds", r"/rounds/alignment: is a soft link")
def _(f, work):
    del f["rounds/alignment"]
    f["rounds/alignment"] = h5py.SoftLink("/rounds/support_treaty")


@kind("rounds_external_link", "rounds", r"/rounds: is an external link \(to another file\)")
def _(f, work):
    copy = work / "linked_rounds.h5"
    shutil.copy(f.filename, copy)
    del f["rounds"]
    f["rounds"] = h5py.ExternalLink(str(copy.resolve()), "/rounds")


@kind("rounds_filter_plugin", "rounds", r"/rounds/dulles: uses filter 32004")
def _(f, work):
    data = f["rounds/dulles"][()]
    del f["rounds/dulles"]
    f["rounds"].create_dataset("dulles", data=data, chunks=data.shape, compression=32004, allow_unknown_filter=True)


@kind("rounds_run_begin_floats", "rounds", r"/rounds/run_begin: holds .*expected unsigned integers")
def _(f, work):
    data = f["rounds/run_begin"][()]
    del f["rounds/run_begin"]
    f["rounds/run_begin"] = data.astype(np.float64)


@kind("rounds_run_begin_short", "rounds", r"/rounds/run_begin: holds 150 runs, 200 runs are done")
def _(f, work):
    f["rounds/run_begin"].resize((150,))


@kind("rounds_column_2d", "rounds", r"/rounds/fisheries: has shape \[\d+, 2\], expected a list")
def _(f, work):
    data = f["rounds/fisheries"][()]
    del f["rounds/fisheries"]
    f["rounds/fisheries"] = np.stack([data, data], axis=1)


# -- one rule for both readers: a scalar where the format says scalar (docs/output-format.md) -----

@kind("runs_done_array", "single", r"attribute runs_done: holds 2 values, expected one")
def _(f, work):
    replace_attr(f, "runs_done", np.array([5000, 5000], dtype=np.uint64))


@kind("wall_seconds_array", "single", r"attribute wall_seconds: holds 2 values, expected one")
def _(f, work):
    value = float(f.attrs["wall_seconds"])
    replace_attr(f, "wall_seconds", np.array([value, value]))


@kind("runs_per_second_array", "single", r"attribute runs_per_second: holds 3 values, expected one")
def _(f, work):
    replace_attr(f, "runs_per_second", np.array([1.0, 2.0, 3.0]))


@kind("wall_seconds_string", "single", r"attribute wall_seconds: is not a floating-point number")
def _(f, work):
    replace_attr(f, "wall_seconds", "0.5")


@kind("created_integer", "single", r"attribute created: is not a string")
def _(f, work):
    replace_attr(f, "created", np.int64(20260101))


@kind("compression_unknown", "single", r"attribute compression: is 'lzma', expected none or shuffle\+deflate")
def _(f, work):
    replace_attr(f, "compression", "lzma")


@kind("hist_min_array", "single", r"/summary/alignment attribute hist_min: holds 2 values, expected one")
def _(f, work):
    replace_attr(f["summary/alignment"], "hist_min", np.array([0.0, 0.0]))


@kind("shard_index_beyond", "single", r"attribute shard_index: shard 3 of 1 does not exist")
def _(f, work):
    replace_attr(f, "shard_index", np.uint64(3))


# -- user text: control characters are refused where the experiment is read (docs/design.md) ------

@kind("description_with_escape", "single",
      r"attribute experiment: .*description: holds a control character \(U\+001B at byte 4\)")
def _(f, work):
    text = f.attrs["experiment"]
    text = text.decode() if isinstance(text, bytes) else str(text)
    kept = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("description ="))
    replace_attr(f, "experiment", 'description = "red\\u001b[31m"\n' + kept)


@kind("faction_name_with_nul", "single",
      r"attribute experiment: .*japan\.factions\.HK\.name: holds a control character \(U\+0000 at byte 3\)")
def _(f, work):
    text = f.attrs["experiment"]
    text = text.decode() if isinstance(text, bytes) else str(text)
    start = text.index("[japan.factions.HK]\n")
    end = text.index("\n", start + len("[japan.factions.HK]\n"))
    line = text[start + len("[japan.factions.HK]\n"):end]
    assert line.startswith("name = "), line
    replace_attr(f, "experiment", text[:start] + '[japan.factions.HK]\nname = "HK\\u0000x"' + text[end:])


def craft(name: str, src: pathlib.Path, dst: pathlib.Path, work: pathlib.Path) -> None:
    """Writes `dst`: a copy of `src` crafted as kind `name`."""
    shutil.copy(src, dst)
    work.mkdir(parents=True, exist_ok=True)
    with h5py.File(dst, "r+") as f:
        KINDS[name].craft(f, work)


def main(argv: list[str]) -> int:
    if argv[1:2] == ["list"]:
        for k in KINDS.values():
            print(f"{k.name}\t{k.base}\t{k.pattern}")
        return 0
    if argv[1:2] == ["craft"] and len(argv) == 6:
        craft(argv[2], pathlib.Path(argv[3]), pathlib.Path(argv[4]), pathlib.Path(argv[5]))
        return 0
    if argv[1:2] == ["craft-all"] and len(argv) in (5, 6):
        # craft-all BASES OUT WORK [--only-present]: every kind; with --only-present, only the kinds
        # whose base file is in BASES
        bases, out, work = (pathlib.Path(a) for a in argv[2:5])
        only_present = argv[5:6] == ["--only-present"]
        for k in KINDS.values():
            if only_present and not (bases / f"{k.base}.h5").exists():
                continue
            craft(k.name, bases / f"{k.base}.h5", out / f"{k.name}.h5", work)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
