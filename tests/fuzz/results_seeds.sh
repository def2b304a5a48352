#!/usr/bin/env bash
# Seeds for the results-file fuzzer (tests/fuzz/fuzz_results.cpp): small healthy files of each
# kind wedge writes (one point and a grid, with and without per-run records, compressed, a shard,
# a merged file, an interrupted run, every run's rounds), repacked with small chunks to keep them
# small, and the damaged and hostile catalogue of tests/python/hostile.py crafted from them.
#   results_seeds.sh WEDGE OUTDIR
set -eu
wedge=$(realpath "$1")
out=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out" && mkdir -p "$out"
cd "$work"
"$wedge" run --runs 100 --seed 3 --out single.h5 --quiet >/dev/null
"$wedge" run "$root/experiments/sweeps/threat_rewards_grid.toml" --runs 10 --out grid.h5 --quiet >/dev/null
"$wedge" run --runs 100 --store summary --out summary.h5 --quiet >/dev/null
"$wedge" run --runs 100 --compression deflate --out deflate.h5 --quiet >/dev/null
"$wedge" run "$root/experiments/sweeps/threat_rewards_grid.toml" --runs 10 --shard 0/2 --out s0.h5 --quiet >/dev/null
"$wedge" run "$root/experiments/sweeps/threat_rewards_grid.toml" --runs 10 --shard 1/2 --out s1.h5 --quiet >/dev/null
"$wedge" merge s0.h5 s1.h5 --out merged.h5 2>/dev/null
"$wedge" run --runs 100 --seed 3 --store rounds --out rounds.h5 --quiet >/dev/null
"$wedge" run --runs 5000 --seed 3 --out cut.h5 --quiet --test-stop-after-blocks 1 >/dev/null 2>&1 || true
mv cut.h5.partial cut.h5
# The same bytes in every clone and at every run (the fuzzer's path follows the bytes): what wedge
# records of the moment and the machine (created, wall_seconds, runs_per_second, the paths in
# command_line) is set to fixed values; wedge writes no HDF5 object times
# (H5Pset_obj_track_times(false), output/hdf5.cpp), but h5repack stamps the datasets it rechunks
# with the time of day: it runs with the clock frozen (faketime, scripts/install-deps.sh).
/usr/bin/python3 - "$wedge" "$root" single grid summary deflate s0 merged cut rounds <<'PY'
import sys
import h5py
wedge, root, names = sys.argv[1], sys.argv[2], sys.argv[3:]
def fixed(obj):
    if "created" in obj.attrs:
        obj.attrs.modify("created", "2000-01-01T00:00:00Z")
    for name in ("wall_seconds", "runs_per_second"):
        if name in obj.attrs:
            obj.attrs.modify(name, 1.0)
    if "command_line" in obj.attrs:
        text = obj.attrs["command_line"]
        text = text.decode() if isinstance(text, bytes) else str(text)
        obj.attrs.modify("command_line", text.replace(wedge, "wedge").replace(root + "/", ""))
for name in names:
    with h5py.File(f"{name}.h5", "r+") as f:
        fixed(f)
        f.visititems(lambda _, obj: fixed(obj))
PY
for f in single grid summary deflate s0 merged cut rounds; do
  faketime -f "2000-01-01 00:00:00" h5repack -l CHUNK=64 "$f.h5" "$out/$f.h5"
done
mkdir -p bases crafted
cp "$out/single.h5" "$out/grid.h5" "$out/rounds.h5" bases/
# The crafted files name the absolute paths of their targets (external storage, links, FIFOs):
# one fixed directory, so that they are the same in every clone, taken in turn (flock) by
# concurrent runs; h5py stamps the objects it creates or changes with the (frozen) time.
targets=/tmp/wedge-results-seeds.targets
exec 9>/tmp/wedge-results-seeds.lock
flock 9
rm -rf "$targets"
faketime -f "2000-01-01 00:00:00" /usr/bin/python3 "$root/tests/python/hostile.py" craft-all bases crafted "$targets"
rm -rf "$targets"
flock -u 9
for f in crafted/*.h5; do cp "$f" "$out/hostile-$(basename "$f")"; done
echo "$(ls "$out" | wc -l) seeds in $out ($(du -sh "$out" | cut -f1))"
