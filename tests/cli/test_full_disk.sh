#!/usr/bin/env bash
# A real full disk (a file-size limit: EFBIG) during a run: exit 3, a one-line error naming the file,
# only the partial left; then --resume (never --force) continues from the partial's checkpoint and
# ends bit-identical. KNOWN TO FAIL (registered DISABLED in tests/cli/CMakeLists.txt, so ctest lists
# it as not run): the failed flush leaves a superblock whose end of file lies beyond the file
# ("truncated file: eof = ..., stored_eof = ..."), so the partial cannot be opened and the work is
# lost; and --resume then reports its own lock as "being written by another process". The
# previous test fell back to --force and hid both.
#   test_full_disk.sh WEDGE
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
source "$here/common.sh"
runs_done() { "$wedge" inspect "$1" --json 2>/dev/null | sed -n 's/.*"runs_done": \([0-9]*\).*/\1/p'; }

big="--runs 3000000 --seed 3"
"$wedge" run $big --out whole.h5 --quiet >/dev/null
for checkpoints in "--checkpoint-seconds 0" ""; do
  rm -f full.h5*
  ( ulimit -f 20000; "$wedge" run $big --out full.h5 --quiet $checkpoints >/dev/null 2>err ); code=$?
  if [ $code -eq 3 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "^error: .*full.h5.partial" err && [ -f full.h5.partial ] && [ ! -e full.h5 ]; then
    ok "a full disk ($checkpoints): exit 3, one line naming the file, only the partial: $(cat err)"
  else bad "a full disk ($checkpoints): exit $code, files: $(ls full.h5* 2>/dev/null | tr '\n' ' '): $(cat err)"; fi
  done=$(runs_done full.h5.partial)
  [ -n "$done" ] && ok "the partial opens: $done runs" || bad "the partial cannot be opened: $("$wedge" inspect full.h5.partial 2>&1 | head -c 200)"
  "$wedge" run $big --out full.h5 --resume >/dev/null 2>err; code=$?
  if [ $code -eq 0 ] && [ "${done:-0}" -gt 0 ] && grep -q "^resuming full.h5.partial: $done of 3000000 runs already done" err \
     && same whole.h5 full.h5; then
    ok "after a full disk, --resume continues from $done runs, bit-identical"
  else bad "after a full disk: resume exit $code, partial had '$done' runs: $(head -c 300 err)"; fi
done
finish
