#!/usr/bin/env bash
# mpirun -np K wedge run ... equals the single-process run bit for bit (K = 1, 2, 3); a failing or
# killed rank (SIGKILL mid-work) ends the job with a clear error and no merged
# file, and --resume then finishes it bit-identical with nothing left behind.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
sweeps=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
command -v mpirun >/dev/null || { echo "FAILED: mpirun not found (scripts/install-deps.sh installs openmpi-bin)"; echo "0 passed, 1 failed"; exit 1; }
source "$here/common.sh"
setup
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

# A real rank killed: rank 1 SIGKILLs itself mid-work (the --test-crash-at seam, given to rank 1
# alone through mpirun's MPMD form `-np 1 A : -np 1 B`) at the end of its second checkpoint, with a
# checkpoint at every wave boundary, so where it dies does not depend on how fast the machine is or
# how loaded (the test used to find the rank in mpirun's process tree and SIGKILL it from outside;
# on a fast or loaded host the job finished before the search did). Rank 0 runs as usual. The job
# must fail, write no merged file and keep rank 1's part partial; `--resume` must then finish the
# job bit-identical to one process and leave no shard directory or partial file behind.
kill_args="--runs 3000000 --seed 9 --threads 1"
"$wedge" run $kill_args --out kill-whole.h5 --quiet >/dev/null
killed_run="run $kill_args --out killed.h5 --quiet --checkpoint-seconds 0"
mpirun --oversubscribe --bind-to none -np 1 "$wedge" $killed_run \
  : -np 1 "$wedge" $killed_run --test-crash-at checkpoint_done:2 >/dev/null 2>err; code=$?
[ $code -ne 0 ] && ok "a killed rank fails the job (exit $code)" || bad "a killed rank: exit 0"
[ ! -e killed.h5 ] && [ ! -e killed.h5.partial ] && ok "no merged or partial file after a killed rank" || bad "killed.h5 exists"
complete_parts=$(ls killed.h5.shards 2>/dev/null | grep -c '\.h5$')
[ -f killed.h5.shards/part-1-of-2.h5.partial ] && [ "$complete_parts" -le 1 ] && [ ! -e killed.h5.shards/part-1-of-2.h5 ] \
  && ok "the killed rank's part is left partial, for --resume: $(ls killed.h5.shards | tr '\n' ' ')" \
  || bad "parts after the kill: $(ls killed.h5.shards 2>&1 | tr '\n' ' ')"
# What `wedge inspect` reads in each part before the resume; not --quiet: every rank resuming a
# partial part prints "resuming PART.partial: K of N", K must be what inspect read (a resume that
# restarted a part from zero fails), and a complete part is not run again.
declare -A part_done
for r in 0 1; do
  p=killed.h5.shards/part-$r-of-2.h5
  [ -f $p.partial ] && part_done[$r]=$(runs_done $p.partial) || part_done[$r]=complete
done
echo "parts before the resume: rank 0 ${part_done[0]}, rank 1 ${part_done[1]}"
mpi 2 "$wedge" run $kill_args --out killed.h5 --resume >/dev/null 2>err; code=$?
[ $code -eq 0 ] && same kill-whole.h5 killed.h5 && ok "--resume after the killed rank equals one process bit for bit" \
  || bad "--resume after a killed rank: exit $code: $(head -c 300 err)"
for r in 0 1; do
  p=killed.h5.shards/part-$r-of-2.h5.partial
  if [ "${part_done[$r]}" = complete ]; then
    ! grep -q "^resuming $p" err && ok "rank $r's complete part is not resumed" || bad "rank $r's complete part resumed: $(grep '^resuming' err)"
  else
    resumed_or_fresh err "$p" "${part_done[$r]}" && ok "rank $r resumes its part from the ${part_done[$r]} runs inspect read" \
      || bad "rank $r's resume line (inspect read ${part_done[$r]} runs): $(grep '^resuming' err | tr '\n' ' ')"
  fi
done
[ ! -e killed.h5.shards ] && [ ! -e killed.h5.partial ] && ok "no shard directory or partial file left behind" \
  || bad "left behind: $(ls -d killed.h5.* 2>&1 | tr '\n' ' ')"

finish
