#!/usr/bin/env bash
# Seeds for the results-file fuzzer (tests/fuzz/fuzz_results.cpp): small healthy files of each
# kind wedge writes (one point and a grid, with and without per-run records, compressed, a shard,
# a merged file, an interrupted run), repacked with small chunks to keep them small, and the
# damaged and hostile catalogue of tests/python/hostile.py crafted from them.
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
"$wedge" run --runs 5000 --seed 3 --out cut.h5 --quiet --test-stop-after-blocks 1 >/dev/null 2>&1 || true
mv cut.h5.partial cut.h5
for f in single grid summary deflate s0 merged cut; do h5repack -l CHUNK=64 "$f.h5" "$out/$f.h5"; done
mkdir -p bases crafted
cp "$out/single.h5" "$out/grid.h5" bases/
/usr/bin/python3 "$root/tests/python/hostile.py" craft-all bases crafted targets --only-present
for f in crafted/*.h5; do cp "$f" "$out/hostile-$(basename "$f")"; done
echo "$(ls "$out" | wc -l) seeds in $out ($(du -sh "$out" | cut -f1))"
