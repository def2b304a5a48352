#!/usr/bin/env bash
# A full or failing disk during a run loses nothing (docs/reliability.md, "A full disk"): the run
# stops with exit 3, a one-line error naming the file and only the partial file; the partial opens
# (`wedge inspect`) at its last checkpoint with more than 0 runs; `--resume` (never `--force`) says
# it continues from exactly those runs and ends bit-identical to an uninterrupted run. Kinds:
#   - a file-size limit (`ulimit -f`: EFBIG), with a checkpoint at every wave and every 0.2 s, for
#     --store runs and --store rounds;
#   - a real full file system (ENOSPC): a 96 MB tmpfs in a user and mount namespace of its own
#     (`unshare -rm`: no root needed; the test FAILS, never skips, when it cannot mount), filled by
#     another file while wedge is frozen (SIGSTOP once its partial holds a checkpoint), emptied
#     before --resume; on the same tmpfs, a --store rounds run that cannot fit even at one round
#     a run is refused before its file is created (the disk estimate counts /rounds);
#   - an I/O error (EIO) where new data goes and at the n-th write HDF5 asks for, wherever it
#     falls, through the test seams --test-io-error-at BYTES and --test-io-error-at-write N.
# Before the fix (issue 19) the failed flush left a superblock whose end of file lay past the file
# ("truncated file: eof = ..., stored_eof = ..."): the partial could not be opened.
#   test_full_disk.sh WEDGE [mpi]
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
source "$here/common.sh"
setup
partial_runs_done() { "$wedge" inspect "$1" --json 2>/dev/null | sed -n 's/.*"runs_done": \([0-9]*\).*/\1/p' | head -n 1; }
same_rounds() { same "$1" "$2" && h5diff -q "$1" "$2" /rounds /rounds >/dev/null 2>&1; }

# stopped LABEL CODE ERRFILE OUT: the failed run's exit code, message and files.
stopped() {
  local label=$1 code=$2 err=$3 out=$4
  if [ "$code" -eq 3 ] && [ "$(wc -l < "$err")" -eq 1 ] && grep -q "^error: .*$out.partial" "$err" \
     && [ -f "$out.partial" ] && [ ! -e "$out" ]; then
    ok "$label: exit 3, one line naming the file, only the partial: $(cat "$err")"
  else bad "$label: exit $code, files: $(ls "$out"* 2>/dev/null | tr '\n' ' '): $(cat "$err")"; fi
}
# resumed_bit_identical LABEL DONE TOTAL ERRFILE OUT: --resume said it continued from DONE (0 < DONE <= TOTAL:
# all of them when the failure came after the last run's checkpoint) runs.
resumed_bit_identical() {
  local label=$1 done=$2 total=$3 err=$4 out=$5
  if [ -n "$done" ] && [ "$done" -gt 0 ] && [ "$done" -le "$total" ] \
     && grep -q "^resuming $out.partial: $done of $total runs already done" "$err"; then
    ok "$label: the partial opens at its checkpoint ($done runs) and --resume continues from it"
  else bad "$label: the partial had '${done}' runs; --resume said: $(head -c 300 "$err")"; fi
}

big="--runs 3000000 --seed 3"
"$wedge" run $big --out whole.h5 --quiet >/dev/null

# A file-size limit (EFBIG), checkpoints at every wave (20 MB: 0.8·10^6 runs) and by the clock,
# every 0.05 s (60 MB: 2.4·10^6 runs; the default 2 s is longer than this whole file takes, so no
# checkpoint would come before the limit; 0.2 s was too: on a Zen 5 host two threads write the
# 60 MB in ~0.15 s, and the partial held no checkpoint).
for case in "--checkpoint-seconds 0:20000" "--checkpoint-seconds 0.05:60000"; do
  checkpoints=${case%:*}; limit=${case##*:}
  label="EFBIG $checkpoints"
  rm -f full.h5*
  ( ulimit -f $limit; "$wedge" run $big --out full.h5 --quiet $checkpoints >/dev/null 2>err ); code=$?
  stopped "$label" $code err full.h5
  grep -q "; free space and run the same command with --resume$" err || bad "$label: no advice: $(cat err)"
  done=$(partial_runs_done full.h5.partial)
  [ -n "$done" ] || bad "$label: the partial cannot be opened: $("$wedge" inspect full.h5.partial 2>&1 | head -c 200)"
  "$wedge" run $big --out full.h5 --resume >/dev/null 2>err; code=$?
  resumed_bit_identical "$label" "$done" 3000000 err full.h5
  [ $code -eq 0 ] && same whole.h5 full.h5 && ok "$label: --resume ends bit-identical to an uninterrupted run" \
    || bad "$label: --resume exit $code: $(head -c 300 err)"
done

# --store rounds under a file-size limit: /runs, /summary and /rounds bit-identical after --resume.
rounds="--runs 200000 --seed 4 --store rounds"
"$wedge" run $rounds --out rounds-whole.h5 --quiet >/dev/null
rm -f rounds.h5*
( ulimit -f 12000; "$wedge" run $rounds --out rounds.h5 --quiet --checkpoint-seconds 0 --wave 1 >/dev/null 2>err ); code=$?
stopped "EFBIG --store rounds" $code err rounds.h5
done=$(partial_runs_done rounds.h5.partial)
"$wedge" run $rounds --out rounds.h5 --resume >/dev/null 2>err; code=$?
resumed_bit_identical "EFBIG --store rounds" "$done" 200000 err rounds.h5
[ $code -eq 0 ] && same_rounds rounds-whole.h5 rounds.h5 && ok "EFBIG --store rounds: --resume ends bit-identical, /rounds too" \
  || bad "EFBIG --store rounds: --resume exit $code: $(head -c 300 err)"

# ... and before its first checkpoint (2 MB: less than the first chunks): the partial says it stores
# rounds (it said "written without --store rounds" before), and --resume starts from 0 (saying
# nothing of runs already done).
rm -f rounds.h5*
( ulimit -f 2000; "$wedge" run $rounds --out rounds.h5 --quiet --checkpoint-seconds 0 --wave 1 >/dev/null 2>err ); code=$?
stopped "EFBIG --store rounds before the first checkpoint" $code err rounds.h5
"$wedge" run $rounds --out rounds.h5 --resume >/dev/null 2>err; code=$?
[ $code -eq 0 ] && ! grep -q "resuming" err && same_rounds rounds-whole.h5 rounds.h5 \
  && ok "EFBIG --store rounds before the first checkpoint: --resume starts from 0 and ends bit-identical" \
  || bad "EFBIG --store rounds before the first checkpoint: --resume exit $code: $(head -c 300 err)"

# Every full disk says what to do next, on its one line (ux10: a failed flush, e.g. --store rounds
# on a small tmpfs, gave only "cannot flush: No space left on device"): free space and --resume
# where --resume continues the partial; --force for precision mode, which --resume refuses; the
# merge again for `wedge merge`, which leaves no file of its own.
advice() {  # advice LABEL CODE ERRFILE PATTERN
  if [ "$2" -eq 3 ] && [ "$(wc -l < "$3")" -eq 1 ] && grep -Eq "(No space left on device|File too large).*; free space and $4$" "$3"; then
    ok "$1: exit 3, one line with the advice: $(cat "$3")"
  else bad "$1: exit $2: $(cat "$3")"; fi
}
rm -f seam.h5*
"$wedge" run --runs 20000 --seed 4 --store rounds --out seam.h5 --quiet --checkpoint-seconds 0 --wave 1 --test-disk-full-at 400000 >/dev/null 2>err; code=$?
advice "a full disk while flushing (--store rounds)" $code err "run the same command with --resume"
"$wedge" run --runs 20000 --seed 4 --store rounds --out seam.h5 --resume >/dev/null 2>err && [ -f seam.h5 ] \
  && ok "... and --resume, as advised, finishes it" || bad "--resume after the advice: $(head -c 300 err)"
rm -f seam.h5*
"$wedge" run --precision 0.02 --out seam.h5 --quiet --checkpoint-seconds 0 --wave 1 --test-disk-full-at 400000 >/dev/null 2>err; code=$?
advice "a full disk in precision mode" $code err "run the same command with --force \(an interrupted precision-mode run cannot be resumed yet\)"
"$wedge" run --precision 0.02 --out seam.h5 --quiet --force >/dev/null 2>err && [ -f seam.h5 ] \
  && ok "... and --force, as advised, runs it again" || bad "--force after the advice: $(head -c 300 err)"
for i in 0 1; do "$wedge" run --runs 100000 --shard $i/2 --out seam-part-$i.h5 --quiet >/dev/null; done
rm -f seam.h5*
( ulimit -f 1500; "$wedge" merge seam-part-0.h5 seam-part-1.h5 --out seam.h5 >/dev/null 2>err ); code=$?
advice "a full disk in wedge merge" $code err "run the merge again"
[ ! -e seam.h5 ] && [ ! -e seam.h5.partial ] && "$wedge" merge seam-part-0.h5 seam-part-1.h5 --out seam.h5 2>err \
  && ok "... and the merge, run again as advised, succeeds" || bad "merge again after the advice: $(head -c 300 err)"

# A real full file system (ENOSPC) in a namespace of our own: the tmpfs lives as long as the script
# given to unshare, which runs the failing run, inspect and --resume, and leaves their outputs here.
mkdir fs
cat > enospc.sh <<'EOF'
set -u
wedge=$1; big=$2; out=$3
mount -t tmpfs -o size=96m tmpfs fs || { echo "cannot mount a tmpfs" > mount.err; exit 0; }
cd fs
# --store rounds that cannot fit even at one round a run (2*10^6 runs: ~50 MB of records, at
# least 56 MB of rounds on 96 MB): refused before the file is created (its estimate had left the
# rounds out and let it run into the full disk).
"$wedge" run --runs 2000000 --store rounds --out rounds.h5 --quiet >/dev/null 2>"$out/rounds.err"
echo $? > "$out/rounds.code"; ls > "$out/rounds.files"
"$wedge" run $big --out full.h5 --quiet --checkpoint-seconds 0 >/dev/null 2>"$out/enospc.err" &
pid=$!
# Frozen once the partial holds a checkpoint (more than 8 MB: some waves in), then the file system
# is filled by another file; a run that ended first fails the test (no partial, exit 0).
for _ in $(seq 1 3000); do
  size=$(stat -c %s full.h5.partial 2>/dev/null || echo 0)
  [ "$size" -gt 8000000 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.01
done
kill -STOP $pid 2>/dev/null
dd if=/dev/zero of=ballast bs=1M count=200 status=none 2>/dev/null
kill -CONT $pid 2>/dev/null
wait $pid; echo $? > "$out/enospc.code"
cp "$out/enospc.err" "$out/enospc.first.err"
df -k . | tail -n 1 > "$out/enospc.df"
"$wedge" inspect full.h5.partial --json 2>/dev/null | sed -n 's/.*"runs_done": \([0-9]*\).*/\1/p' | head -n 1 > "$out/enospc.done"
ls > "$out/enospc.files"
rm -f ballast
"$wedge" run $big --out full.h5 --resume >/dev/null 2>"$out/enospc.resume.err"; echo $? > "$out/enospc.resume.code"
[ -f full.h5 ] && cp full.h5 "$out/enospc.h5"
EOF
unshare -rm bash enospc.sh "$wedge" "$big" "$dir" 2>unshare.err
if [ -e mount.err ] || [ ! -e enospc.code ]; then
  bad "ENOSPC: cannot mount a tmpfs in a user and mount namespace (unshare -rm): $(cat unshare.err mount.err 2>/dev/null | head -c 300)"
else
  code=$(cat enospc.code)
  if [ "$code" -eq 3 ] && [ "$(wc -l < enospc.first.err)" -eq 1 ] && grep -q "^error: .*full.h5.partial: .*No space left on device.*; free space and run the same command with --resume$" enospc.first.err \
     && grep -qx "full.h5.partial" enospc.files && ! grep -qx "full.h5" enospc.files; then
    ok "ENOSPC (a full tmpfs): exit 3, one line naming the file and the cause, only the partial: $(cat enospc.first.err)"
  else bad "ENOSPC: exit $code, files: $(tr '\n' ' ' < enospc.files): $(cat enospc.first.err) (df: $(cat enospc.df))"; fi
  if [ "$(cat rounds.code)" -eq 3 ] && [ ! -s rounds.files ] && [ "$(wc -l < rounds.err)" -eq 1 ] &&
    grep -q "^error: the results file would take [0-9.]* MB to [0-9.]* MB (.* x 1 to 8 rounds .*) but its file system has [0-9.]* MB free; .*--store runs, --store summary or fewer runs$" rounds.err; then
    ok "--store rounds that cannot fit even at one round a run is refused up front: $(cat rounds.err)"
  else bad "--store rounds on 96 MB: exit $(cat rounds.code), files: $(tr '\n' ' ' < rounds.files): $(cat rounds.err)"; fi
  resumed_bit_identical "ENOSPC" "$(cat enospc.done)" 3000000 enospc.resume.err full.h5
  [ "$(cat enospc.resume.code)" -eq 0 ] && [ -f enospc.h5 ] && same whole.h5 enospc.h5 \
    && ok "ENOSPC: --resume (space freed) ends bit-identical to an uninterrupted run" \
    || bad "ENOSPC: --resume exit $(cat enospc.resume.code): $(head -c 300 enospc.resume.err)"
fi

# An I/O error (EIO): where new data goes (the first write past 4 MB and past 7 MB of a 7.5 MB
# file), and at the 130th and the 385th write HDF5 asks for, wherever it falls (at the 385th, the
# last checkpoint is done and the dimension scales were being written: a driver writing in place
# at once left /design/point pointing past the file there, and the 300,000 runs were lost).
mid="--runs 300000 --seed 3"
"$wedge" run $mid --out mid-whole.h5 --quiet >/dev/null
for seam in "--test-io-error-at 4000000" "--test-io-error-at 7000000" "--test-io-error-at-write 130" "--test-io-error-at-write 385"; do
  label="EIO ($seam)"
  rm -f eio.h5*
  "$wedge" run $mid --out eio.h5 --quiet --checkpoint-seconds 0 $seam >/dev/null 2>err; code=$?
  stopped "$label" $code err eio.h5
  grep -q "Input/output error" err || bad "$label: the message does not give the cause: $(cat err)"
  grep -q "; once the disk can be written again, run the same command with --resume$" err || bad "$label: no advice: $(cat err)"
  done=$(partial_runs_done eio.h5.partial)
  "$wedge" run $mid --out eio.h5 --resume >/dev/null 2>err; code=$?
  resumed_bit_identical "$label" "$done" 300000 err eio.h5
  [ $code -eq 0 ] && same mid-whole.h5 eio.h5 && ok "$label: --resume ends bit-identical" \
    || bad "$label: --resume exit $code: $(head -c 300 err)"
done
# Under mpirun (when built with MPI: the second argument is "mpi"): each rank writes its part
# through the same writer. A file-size limit on the ranks (not on mpirun, whose own shared-memory
# files it would break) stops the parts: both open (the rank that did not fail was stopped by
# MPI_Abort, as a kill), with more than 0 runs between them; with room for the parts but not the
# merged file, it stops the merge: the parts complete, no merged file. `mpirun ... --resume` then
# ends bit-identical to one process either way.
if [ "${2:-}" = mpi ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
  mpi() { timeout 120 mpirun --oversubscribe --bind-to none -np "$@"; }
  "$wedge" run $mid --out mpi-whole.h5 --quiet >/dev/null
  for case in "parts:3500" "merge:6500"; do
    what=${case%:*}; limit=${case##*:}
    rm -rf m.h5*
    mpi 2 bash -c "ulimit -f $limit; exec \"\$0\" \"\$@\"" "$wedge" run $mid --out m.h5 --quiet --checkpoint-seconds 0 --wave 1 >/dev/null 2>err; code=$?
    if [ "$what" = parts ]; then
      d0=$(partial_runs_done m.h5.shards/part-0-of-2.h5.partial); d1=$(partial_runs_done m.h5.shards/part-1-of-2.h5.partial)
      [ $code -eq 3 ] && grep -q "^error: m.h5.shards/part-.-of-2.h5.partial: cannot flush: File too large" err \
        && [ -n "$d0" ] && [ -n "$d1" ] && [ $((d0 + d1)) -gt 0 ] && [ ! -e m.h5 ] && [ ! -e m.h5.partial ] \
        && ok "mpirun, a full disk in the ranks' parts: exit 3, both parts partial and open ($d0 and $d1 runs)" \
        || bad "mpirun, a full disk in the parts: exit $code, runs '$d0' '$d1': $(ls m.h5* m.h5.shards 2>&1 | tr '\n' ' '): $(head -c 300 err)"
    else
      # Every rank knew of the failed merge (DistributedResult::failure_agreed): the job ends
      # through MPI_Finalize, not by MPI_Abort ("stopping every rank").
      [ $code -eq 3 ] && grep -q "^error: m.h5.partial: cannot flush: File too large" err \
        && ! grep -q "stopping every rank" err && [ -f m.h5.shards/part-0-of-2.h5 ] && [ -f m.h5.shards/part-1-of-2.h5 ] && [ ! -e m.h5 ] && [ ! -e m.h5.partial ] \
        && ok "mpirun, a full disk in the merge: exit 3, the parts complete, no merged file left" \
        || bad "mpirun, a full disk in the merge: exit $code: $(ls m.h5* m.h5.shards 2>&1 | tr '\n' ' '): $(head -c 300 err)"
    fi
    mpi 2 "$wedge" run $mid --out m.h5 --resume >/dev/null 2>err; code=$?
    [ $code -eq 0 ] && same mpi-whole.h5 m.h5 && [ ! -e m.h5.shards ] \
      && ok "mpirun, a full disk in the $what, then --resume: bit-identical to one process" \
      || bad "mpirun, a full disk in the $what, then --resume: exit $code: $(head -c 300 err)"
  done
fi
finish
