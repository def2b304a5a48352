#!/usr/bin/env bash
# mpirun -np K wedge run ... equals the single-process run bit for bit (K = 1, 2, 3); a failing or
# killed rank ends the job with a clear error and no merged file.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
sweeps=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
command -v mpirun >/dev/null || { echo "FAILED: mpirun not found (scripts/install-deps.sh installs openmpi-bin)"; echo "0 passed, 1 failed"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
source "$here/common.sh"
mpi() { mpirun --oversubscribe --bind-to none -np "$@"; }
# identical A B: the datasets README promises identical (/summary, /runs, /design, /blocks) are
# byte-identical, attributes included; only the root attributes of the run (command line, time,
# threads) and the internal /checkpoint slots may differ.
identical() {
  local g
  for g in /summary /runs /design /blocks; do
    h5diff -q "$1" "$2" $g $g >/dev/null 2>&1 || { echo "  $g differs"; return 1; }
  done
}
# same_attrs A B NAME...: these root attributes are equal.
same_attrs() {
  local a=$1 b=$2 n; shift 2
  for n in "$@"; do
    [ "$(h5dump -a /$n "$a" 2>&1 | grep '(0)')" = "$(h5dump -a /$n "$b" 2>&1 | grep '(0)')" ] || { echo "  /$n differs"; return 1; }
  done
}

grid="$sweeps/threat_rewards_grid.toml --runs 20000"
"$wedge" run $grid --out whole.h5 --quiet >/dev/null
"$wedge" run $grid --json --quiet > whole.json
for k in 1 2 3; do
  mpi $k "$wedge" run $grid --out mpi$k.h5 --quiet --json > mpi$k.json 2>err
  code=$?
  [ $code -eq 0 ] || bad "mpirun -np $k exit $code: $(cat err)"
  identical whole.h5 mpi$k.h5 && ok "mpirun -np $k equals one process bit for bit (/summary, /runs, /design, /blocks)" || bad "mpirun -np $k differs"
  cmp -s whole.json mpi$k.json && ok "mpirun -np $k prints the same JSON" || bad "mpirun -np $k JSON differs"
  [ ! -e mpi$k.h5.shards ] && ok "mpirun -np $k leaves no shard directory" || bad "shards left"
done

# Precision mode: the ranks share every batch and stop where one process stops.
prec="$sweeps/threat_rewards_grid.toml --precision 0.006 --max-runs 100000 --store runs"
"$wedge" run $prec --out prec1.h5 --quiet --json > prec1.json
for k in 2 3; do
  mpi $k "$wedge" run $prec --out prec$k.h5 --quiet --json > prec$k.json 2>err || bad "precision -np $k: $(cat err)"
  cmp -s prec1.json prec$k.json && identical prec1.h5 prec$k.h5 \
    && same_attrs prec1.h5 prec$k.h5 precision_target precision_max_runs precision_reached precision_widest_half_width \
    && ok "precision mode on $k ranks stops where one process stops, bit for bit (and records the same outcome)" \
    || bad "precision mode on $k ranks differs"
done

mpi 2 "$wedge" run $grid --out failed.h5 --quiet --test-fail-rank 1 >/dev/null 2>err
code=$?
[ $code -ne 0 ] && ok "a failing rank fails the job (exit $code)" || bad "a failing rank: exit 0"
grep -q "rank 1 of 2 failed" err && ok "the error names the rank" || bad "message: $(head -c 300 err)"
[ ! -e failed.h5 ] && ok "no merged file after a failing rank" || bad "failed.h5 exists"

mpi 2 "$wedge" run --runs 400000000 --out killed.h5 --quiet >/dev/null 2>err &
launcher=$!
sleep 2
victim=$(pgrep -f "wedge run --runs 400000000" | head -1)
[ -n "$victim" ] && kill -9 "$victim"
for _ in $(seq 1 60); do kill -0 $launcher 2>/dev/null || break; sleep 0.5; done
if kill -0 $launcher 2>/dev/null; then bad "the job kept running after a rank was killed"; kill -9 $launcher; pkill -9 -f "wedge run --runs 400000000"; fi
wait $launcher; code=$?
[ $code -ne 0 ] && ok "a killed rank fails the job (exit $code)" || bad "a killed rank: exit 0"
[ ! -e killed.h5 ] && ok "no merged file after a killed rank" || bad "killed.h5 exists"

finish
