#!/usr/bin/env bash
# An interrupted run whose final checkpoint would take long (a checkpoint writes every point's
# summaries: 2.4 GB with 10^5 points, seconds that SIGTERM waited for) leaves the file at its last
# checkpoint instead, and says so: the file holds exactly those runs, `wedge inspect` reads them,
# and --resume ends bit-identical to an uninterrupted run. --interrupt-write-seconds 0 forces
# that path (the default, 0.25 s, writes the final checkpoint of small plans, as before).
#   test_interrupt_write.sh WEDGE
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$(realpath "$1")
source "$here/common.sh"
setup

common=(--runs 300000 --seed 4 --threads 2 --quiet)
"$wedge" run "${common[@]}" --out ref.h5 >/dev/null || bad "the uninterrupted run"
# stopped FILE ARGS...: runs a stop after 20 blocks; sets code, msg.
stopped() {
  local out=$1; shift
  "$wedge" run "${common[@]}" --out "$out" --test-stop-after-blocks 20 "$@" >/dev/null 2>err
  code=$?; msg=$(cat err)
}

# No checkpoint since the start, and the final one skipped: the file holds 0 runs, and says so.
stopped a.h5 --checkpoint-seconds 1000 --interrupt-write-seconds 0
if [ $code -eq 130 ] && grep -Eq "partial results are in a\.h5\.partial, at its last checkpoint \(0 runs; the final checkpoint was not written" <<<"$msg" \
   && [ "$(runs_done a.h5.partial)" = 0 ] && [ ! -e a.h5.lock ] && [ ! -e a.h5 ]; then
  ok "a skipped final checkpoint leaves the file at its last one (0 runs), unlocked, and says so"
else
  bad "skipped final checkpoint: exit $code, inspect $(runs_done a.h5.partial): $msg"
fi
"$wedge" run "${common[@]}" --out a.h5 --resume >/dev/null 2>err && [ -e a.h5 ] && same a.h5 ref.h5 \
  && ok "--resume after it ends bit-identical" || bad "--resume after a skipped checkpoint: $(cat err)"

# A checkpoint at every wave, the final one skipped: the runs of the last one, as inspect reads.
stopped b.h5 --checkpoint-seconds 0 --interrupt-write-seconds 0
kept=$(sed -n 's/.*at its last checkpoint (\([0-9]*\) runs.*/\1/p' <<<"$msg")
if [ $code -eq 130 ] && [ -n "$kept" ] && [ "$kept" -gt 0 ] && [ "$(runs_done b.h5.partial)" = "$kept" ]; then
  ok "the file holds exactly the runs of its last checkpoint ($kept)"
else
  bad "last checkpoint kept: exit $code, inspect $(runs_done b.h5.partial): $msg"
fi
"$wedge" run "${common[@]}" --out b.h5 --resume >/dev/null 2>err && same b.h5 ref.h5 \
  && ok "--resume from it ends bit-identical" || bad "--resume from the last checkpoint: $(cat err)"

# The default budget: a one-point plan's final checkpoint is written, every run done is kept.
stopped c.h5 --checkpoint-seconds 1000
done_runs=$(sed -n 's/.*interrupted by a test seam after \([0-9]*\) of.*/\1/p' <<<"$msg")
if [ $code -eq 130 ] && ! grep -q "last checkpoint" <<<"$msg" && [ -n "$done_runs" ] \
   && [ "$done_runs" -gt 0 ] && [ "$(runs_done c.h5.partial)" = "$done_runs" ]; then
  ok "by default a small plan's final checkpoint is written ($done_runs runs kept)"
else
  bad "default final checkpoint: exit $code, inspect $(runs_done c.h5.partial): $msg"
fi
"$wedge" run --runs 10 --interrupt-write-seconds 0 --quiet >/dev/null 2>err
[ $? -eq 2 ] && grep -q "^error: --interrupt-write-seconds applies to the results file" err \
  && ok "--interrupt-write-seconds without --out is refused" || bad "idle --interrupt-write-seconds: $(cat err)"
finish
