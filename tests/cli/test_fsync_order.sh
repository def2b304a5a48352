#!/usr/bin/env bash
# A checkpoint reaches the disk before the file names it (docs/reliability.md: the writer "flushes,
# fsyncs, and only then names that slot"), observed with strace: the process is killed at exact
# steps of its K-th checkpoint (--test-crash-at, docs/design.md "Test seams") and the fsync calls
# on the partial file are counted up to that moment. Between the slot's flush and its naming there
# must be an fsync, and another before the checkpoint is done (the root's attributes).
#   test_fsync_order.sh WEDGE
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
source "$here/common.sh"
setup tmpfs  # fsync waits are not the subject
command -v strace >/dev/null || { bad "strace not found (scripts/install-deps.sh installs it)"; finish; }

# fsyncs STEP K: fsync/fdatasync calls on s.h5.partial before a SIGKILL at the K-th STEP.
fsyncs() {
  rm -f s.h5 s.h5.partial trace
  strace -f -y -qq -e trace=fsync,fdatasync -o trace "$wedge" run --runs 20000 --seed 3 --out s.h5 --quiet \
    --wave 1 --checkpoint-seconds 0 --test-crash-at "$1:$2" >/dev/null 2>err
  local code=$?
  if [ $code -ne 137 ] || ! grep -q "killed by SIGKILL" trace; then
    bad "--test-crash-at $1:$2 under strace: exit $code, not killed at the step: $(head -c 300 err)"; echo -1; return
  fi
  grep -c "^[0-9]* *f\(data\)\?sync([0-9]*<[^>]*/s\.h5\.partial>) = 0" trace
}

for k in 1 2 3; do
  flushed=$(fsyncs slot_flushed $k | tail -1)
  synced=$(fsyncs slot_synced $k | tail -1)
  named=$(fsyncs slot_named $k | tail -1)
  done_=$(fsyncs checkpoint_done $k | tail -1)
  echo "checkpoint $k: fsyncs at slot_flushed $flushed, slot_synced $synced, slot_named $named, checkpoint_done $done_"
  [ "$flushed" -ge 0 ] && [ "$synced" -gt "$flushed" ] \
    && ok "checkpoint $k: the slot is fsynced after its flush ($flushed -> $synced fsyncs)" \
    || bad "checkpoint $k: no fsync between the slot's flush and slot_synced ($flushed, $synced)"
  [ "$flushed" -ge 0 ] && [ "$named" -gt "$flushed" ] \
    && ok "checkpoint $k: fsynced before the root names the slot ($flushed -> $named fsyncs)" \
    || bad "checkpoint $k: the slot is named without an fsync after its flush ($flushed, $named)"
  [ "$named" -ge 0 ] && [ "$done_" -gt "$named" ] \
    && ok "checkpoint $k: the root's attributes are fsynced before the checkpoint is done ($named -> $done_)" \
    || bad "checkpoint $k: no fsync after naming the slot ($named, $done_)"
done
finish
