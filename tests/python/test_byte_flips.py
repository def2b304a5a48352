"""`wedge inspect` and wedge.open apply the same checks (a fresh-clone tester flipped single bytes
of a 20,000-run file, at offsets 873, 1358, 3880 and 4074, and wedge.open read files inspect
refused: a format attribute HDF5 cannot convert, an empty experiment, a summary's kind). A byte
flipped in the metadata region of a results file (anywhere outside the datasets' stored data) is
refused by both or accepted by both: inspect exits 3, and wedge.open, or reading the per-run
records (which inspect reads too), raises a ResultsError. (Which words each uses may differ: a
damaged type can make HDF5 convert garbage, read differently by the two processes.) The offsets: the tester's four and a fixed-seed sample of the region (an exhaustive
run over every byte of the region is in docs/reliability.md)."""
import random
import shutil

import h5py
import pytest

import wedge
from conftest import wedge as run_wedge

SAMPLE = 10
SEED = 20261130


def stored_data(path):
    """(start, end) of every dataset's stored data (chunks, or contiguous storage)."""
    out = []
    with h5py.File(path, "r") as f:
        def visit(_, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            if obj.chunks:
                for i in range(obj.id.get_num_chunks()):
                    c = obj.id.get_chunk_info(i)
                    out.append((c.byte_offset, c.byte_offset + c.size))
            elif obj.id.get_offset() is not None:
                out.append((obj.id.get_offset(), obj.id.get_offset() + obj.id.get_storage_size()))
        f.visititems(visit)
    return sorted(out)


def metadata_offsets(path):
    """Offsets of the bytes before the end of the last dataset's data that belong to no data."""
    ranges = stored_data(path)
    end = ranges[-1][1]
    inside = bytearray(end)
    for a, b in ranges:
        inside[a:b] = b"\1" * (b - a)
    return [i for i in range(end) if not inside[i]]


def verdicts(path):
    """(inspect's exit code and stderr, wedge.open's verdict: "ok" or the exception)."""
    cli = run_wedge("inspect", path, check=False)
    try:
        with wedge.open(path) as r:
            r.runs()
        python = "ok"
    except wedge.ResultsError as err:
        python = err
    return cli, python


def test_flipped_bytes_are_refused_by_both_readers_or_by_neither(files, tmp_path):
    source = files["baseline"]
    region = metadata_offsets(source)
    assert len(region) > 4000  # the superblock, the groups, the attributes, the B-trees
    offsets = [873, 1358, 3880, 4074] + random.Random(SEED).sample(region, SAMPLE)
    data = source.read_bytes()
    disagree = []
    for offset in offsets:
        flipped = tmp_path / f"flip{offset}.h5"
        body = bytearray(data)
        body[offset] ^= 0xFF
        flipped.write_bytes(body)
        cli, python = verdicts(flipped)
        if cli.returncode == 0 and python == "ok":
            continue
        if cli.returncode != 3 or python == "ok":
            disagree.append(f"{offset}: inspect exit {cli.returncode} {cli.stderr.strip()!r}; "
                            f"wedge.open {python!r}")
    assert not disagree, "\n".join(disagree)
