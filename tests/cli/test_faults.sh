#!/usr/bin/env bash
# Faults: SIGINT, SIGTERM and SIGKILL at random moments of a run and of a sweep (the process frozen
# first, so that the signal cannot arrive after the end), each followed by --resume (never --force),
# always end in results bit-identical to an uninterrupted run; a full disk (ulimit -f) gives a clear error and only a
# partial file (its --resume: test_full_disk.sh); a corrupted partial file is refused; a second writer of the same file is
# refused and reading a file being written is safe.
#   test_faults.sh WEDGE SWEEPS [ITERATIONS]
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
sweeps=$2
iterations=${3:-6}
source "$here/common.sh"
setup
RANDOM=20261125  # fixed seed: the same moments every time

run_args="--runs 10000000 --seed 3"
sweep_args="$sweeps/threat_rewards_grid.toml --runs 600000"
# The uninterrupted runs, timed: the moments are fractions (up to 60%) of how long each takes on
# this machine (fixed moments of up to 0.6 s fell after the end of the sweep on a Zen 5 host).
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms); "$wedge" run $run_args --out whole-run.h5 --quiet >/dev/null; t_run=$(($(ms) - t0))
t0=$(ms); "$wedge" run $sweep_args --out whole-sweep.h5 --quiet >/dev/null; t_sweep=$(($(ms) - t0))
signals=(INT TERM KILL)
for ((i = 0; i < iterations; i++)); do
  for kind in run sweep; do
    [ $kind = run ] && args=$run_args took=$t_run || args=$sweep_args took=$t_sweep
    sig=${signals[$((RANDOM % 3))]}
    delay_ms=$((RANDOM % 600 * took / 1000))  # 0 to 60% of the run's own time
    delay=$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))
    # Under load a run can be faster than when it was timed: a moment after its end is tried again
    # at half the delay (down to none), so every iteration interrupts a run.
    for _ in 1 2 3 4 5; do
      rm -f cut.h5 cut.h5.partial
      "$wedge" run $args --out cut.h5 --quiet --checkpoint-seconds 0.2 >/dev/null 2>&1 &
      pid=$!
      for _ in $(seq 1 3000); do [ -s cut.h5.partial ] && break; sleep 0.01; done
      sleep "$delay"
      # Frozen first, so the signal cannot come after the end.
      kill -STOP $pid
      [ -e cut.h5 ] || break
      kill -CONT $pid; wait $pid
      delay_ms=$((delay_ms / 2)); [ $delay_ms -lt 10 ] && delay_ms=0
      delay=$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))
    done
    if [ -e cut.h5 ]; then bad "$kind: the run finished before any moment could interrupt it"; continue; fi
    kill -s "$sig" $pid; kill -CONT $pid
    wait $pid 2>/dev/null
    # A signal in the run's last moments (its runs all done, the file being closed) may let it
    # finish: then the file must be complete and the same as the uninterrupted run's.
    if [ -e cut.h5 ] && [ ! -e cut.h5.partial ]; then
      same whole-$kind.h5 cut.h5 && ok "$kind: SIG$sig ${delay}s after the partial appeared came at the end: complete, bit-identical" \
        || bad "$kind: SIG$sig at the end left a complete file that differs"
      continue
    fi
    # Always --resume, never --force: whatever the moment, the partial must be resumable.
    # Not --quiet: the resume line must name the runs `wedge inspect` reads in the partial.
    done=$(runs_done cut.h5.partial)
    if "$wedge" run $args --out cut.h5 --resume >/dev/null 2>err && resumed_or_fresh err cut.h5.partial "$done" \
       && same whole-$kind.h5 cut.h5; then
      ok "$kind: SIG$sig ${delay}s after the partial appeared, then --resume from its $done runs: bit-identical"
    else
      bad "$kind: SIG$sig after ${delay}s, then --resume: $(head -c 300 err)"
    fi
  done
done

# A full disk: a file-size limit stops the writer with a clear error and a resumable file.
rm -f full.h5*
( ulimit -f 40000; "$wedge" run $run_args --out full.h5 --quiet >/dev/null 2>err ); code=$?
[ $code -eq 3 ] && ok "a full disk is exit code 3" || bad "full disk: exit $code: $(cat err)"
[ "$(wc -l < err)" -eq 1 ] && grep -q "^error: .*full.h5.partial" err && ok "a full disk is a one-line error naming the file: $(cat err)" || bad "full disk message: $(cat err)"
[ ! -e full.h5 ] && [ -e full.h5.partial ] && ok "a full disk leaves only the partial file" || bad "full disk files"
# (--resume after a full disk: test_full_disk.sh.)

# A corrupted partial file is refused by --resume.
rm -f bad.h5*
"$wedge" run $run_args --out bad.h5 --quiet --test-stop-after-blocks 40 >/dev/null 2>&1
[ -e bad.h5.partial ] && ok "a partial file to corrupt (--test-stop-after-blocks)" || bad "no partial file to corrupt"
{
  size=$(stat -c %s bad.h5.partial)
  printf '\xde\xad\xbe\xef%.0s' $(seq 1 4096) | dd of=bad.h5.partial bs=1 seek=$((size / 2)) conv=notrunc status=none
  "$wedge" run $run_args --out bad.h5 --resume --quiet >/dev/null 2>err; code=$?
  [ $code -eq 3 ] && grep -q "damaged\|cannot\|not an HDF5" err && ok "a corrupted partial file is refused: $(cat err)" || bad "corrupted partial: exit $code: $(cat err)"
  head -c 2000 bad.h5.partial > trunc.h5.partial
  "$wedge" inspect trunc.h5.partial >/dev/null 2>err; code=$?
  [ $code -eq 3 ] && grep -q "damaged or truncated" err && ok "a truncated partial file is reported: $(cat err)" || bad "truncated: exit $code: $(cat err)"
}

# Two writers of one path: the second is refused at once; reading while writing is safe.
rm -f busy.h5*
"$wedge" run --runs 400000000 --store summary --out busy.h5 --quiet >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 3000); do [ -s busy.h5.partial ] && break; sleep 0.01; done
"$wedge" run --runs 10 --out busy.h5 --force >/dev/null 2>err; code=$?
[ $code -eq 3 ] && grep -q "another wedge process is writing" err && ok "a second writer of the same file is refused" || bad "second writer: exit $code: $(cat err)"
"$wedge" inspect busy.h5.partial >/dev/null 2>err; code=$?
[ $code -eq 3 ] && grep -q "being written by another process" err && ok "inspect of a file being written says so" || bad "inspect while writing: exit $code: $(cat err)"
kill -INT $pid; wait $pid 2>/dev/null
"$wedge" inspect busy.h5.partial | grep -q PARTIAL && ok "the first writer's partial file is intact" || bad "first writer's file"

finish
