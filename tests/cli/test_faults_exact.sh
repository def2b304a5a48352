#!/usr/bin/env bash
# Faults at exact points (issue 19 item 3), through the test seams of docs/design.md ("Test seams"),
# never with sleep: for a single run and for a sweep, an interruption after exactly N blocks or N
# checkpoints, a SIGKILL at every step of the results writer's protocol and a write failure (a full
# disk) at every step. Each must end with the expected exit code and only NAME.h5.partial; then
# --resume (never --force: there is no fallback) must resume from the partial's own checkpoint (the
# "resuming" line names as many runs as `wedge inspect` read in the partial, and more than 0) and
# finish bit-identical to an uninterrupted run. Nothing here is skipped: a seam that did not fire
# (the run finished) is a failure.
#   test_faults_exact.sh WEDGE SWEEPS
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
sweeps=$2
source "$here/common.sh"
setup tmpfs  # fsync waits are not the subject

# Exact checkpoints: one wave of one block, a checkpoint after every wave.
exact="--wave 1 --checkpoint-seconds 0"
steps="runs_appended blocks_appended slot_written slot_flushed slot_synced slot_named checkpoint_done"

# runs_done of a partial file, read by `wedge inspect --json`.
runs_done() { "$wedge" inspect "$1" --json 2>/dev/null | sed -n 's/.*"runs_done": \([0-9]*\).*/\1/p'; }

# check KIND ARGS TOTAL CODE SEAM...: the seam stops the run with CODE, leaving only the partial;
# --resume continues from the partial's checkpoint and ends bit-identical to whole-KIND.h5.
check() {
  local kind=$1 args=$2 total=$3 want=$4
  shift 4
  local seam="$*" code done line
  rm -f cut.h5 cut.h5.partial
  "$wedge" run $args --out cut.h5 --quiet $seam >/dev/null 2>err; code=$?
  if [ $code -ne $want ] || [ ! -f cut.h5.partial ] || [ -e cut.h5 ]; then
    bad "$kind $seam: exit $code (expected $want), partial $([ -f cut.h5.partial ] && echo kept || echo missing), final $([ -e cut.h5 ] && echo written || echo absent): $(head -c 300 err)"
    return
  fi
  done=$(runs_done cut.h5.partial)
  if [ -z "$done" ] || [ "$done" -le 0 ] || [ "$done" -gt "$total" ]; then
    bad "$kind $seam: the partial holds runs_done='$done' (expected 1 to $total)"; return
  fi
  # Not --quiet: the resume line says how many runs it took from the partial.
  "$wedge" run $args --out cut.h5 --resume >/dev/null 2>err; code=$?
  line=$(grep "^resuming " err)
  if [ $code -ne 0 ]; then bad "$kind $seam then --resume: exit $code: $(head -c 300 err)"; return; fi
  if [ "$line" != "resuming cut.h5.partial: $done of $total runs already done" ]; then
    bad "$kind $seam then --resume: '$line' (expected $done of $total runs from the partial)"; return
  fi
  if [ -e cut.h5.partial ] || ! same whole-$kind.h5 cut.h5; then
    bad "$kind $seam then --resume: results differ from the uninterrupted run"; return
  fi
  ok "$kind $seam: exit $want, partial with $done of $total runs; --resume from there is bit-identical"
}

run_args="--runs 20000 --seed 3"        # 10 blocks of 2048 runs (the last shorter)
sweep_args="$sweeps/threat_rewards_grid.toml --runs 2000"  # 12 points, a block each
"$wedge" run $run_args --out whole-run.h5 --quiet >/dev/null || bad "the uninterrupted run failed"
"$wedge" run $sweep_args --out whole-sweep.h5 --quiet >/dev/null || bad "the uninterrupted sweep failed"
# A single run: every seam at every step of the second checkpoint's protocol.
args=$run_args
for n in 1 5; do check run "$args" 20000 130 --test-stop-after-blocks $n; done
check run "$args" 20000 130 --test-stop-after-checkpoints 2 $exact
for step in $steps; do check run "$args" 20000 137 --test-crash-at $step:2 $exact; done
for step in runs_appended slot_written slot_synced checkpoint_done; do check run "$args" 20000 3 --test-fail-at $step:2 $exact; done
# The last checkpoint's summary: a complete state not yet renamed.
check run "$args" 20000 137 --test-crash-at summary_written:1 $exact
check run "$args" 20000 3 --test-fail-at summary_written:1 $exact
# A sweep (12 points, a block each): the seams at points other than the first.
args=$sweep_args
check sweep "$args" 24000 130 --test-stop-after-blocks 5
check sweep "$args" 24000 130 --test-stop-after-checkpoints 4 $exact
for step in blocks_appended slot_written slot_named; do check sweep "$args" 24000 137 --test-crash-at $step:3 $exact; done
check sweep "$args" 24000 3 --test-fail-at slot_flushed:3 $exact
check sweep "$args" 24000 137 --test-crash-at summary_written:1 $exact

# A crash between writing a checkpoint's slot and naming it leaves the slot the file names exactly
# as the previous checkpoint left it (the new state goes to the other slot): the named slot's
# datasets, its runs_done and the root's runs_done, read with h5py, equal those of a file killed
# just after the previous checkpoint.
slot_state() {
  HDF5_USE_FILE_LOCKING=FALSE /usr/bin/python3 - "$1" <<'PY'
import hashlib, sys
import h5py
with h5py.File(sys.argv[1], "r", locking=False) as f:
    slot = int(f.attrs["checkpoint_slot"])
    g = f[f"checkpoint/{slot}"]
    h = hashlib.sha256()
    g.visititems(lambda name, obj: (h.update(name.encode()), h.update(obj[()].tobytes()))
                 if isinstance(obj, h5py.Dataset) else None)
    print(f"root runs_done {int(f.attrs['runs_done'])}, named slot's runs_done {int(g.attrs['runs_done'])}, "
          f"state {h.hexdigest()[:16]}")
PY
}
for kind in run sweep; do
  [ $kind = run ] && args=$run_args || args=$sweep_args
  rm -f cut.h5*
  "$wedge" run $args --out cut.h5 --quiet --test-crash-at checkpoint_done:1 $exact >/dev/null 2>&1
  ref=$(slot_state cut.h5.partial)
  for step in slot_written slot_flushed slot_synced; do
    rm -f cut.h5*
    "$wedge" run $args --out cut.h5 --quiet --test-crash-at $step:2 $exact >/dev/null 2>&1
    got=$(slot_state cut.h5.partial)
    [ -n "$ref" ] && [ "$got" = "$ref" ] && ok "$kind: killed at $step of checkpoint 2, the named slot is checkpoint 1's: $got" \
      || bad "$kind: killed at $step of checkpoint 2: '$got', checkpoint 1 left '$ref'"
  done
done

finish
