#!/usr/bin/env bash
# A run killed while its results file is being created (docs/reliability.md): the writer creates
# FILE.partial.new and names it FILE.partial only once the file's skeleton is flushed and synced,
# so no FILE.partial that HDF5 cannot open is ever left. `--resume` then finds only the .new file:
# nothing was run, so it starts from zero and gives the uninterrupted result; a new run replaces
# the stale .new file; an existing file is never replaced.
#   test_killed_creation.sh WEDGE
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
source "$here/common.sh"
setup
args=(run --runs 20000 --seed 4 --quiet)

"$wedge" "${args[@]}" --out whole.h5 >/dev/null 2>err || bad "plain run: $(cat err)"
# What a kill during creation leaves: the half-made file under its .new name (garbage to HDF5).
head -c 3000 whole.h5 > k.h5.partial.new
loud=(run --runs 20000 --seed 4)  # not --quiet: the resume line is checked
"$wedge" "${loud[@]}" --out k.h5 --resume >/dev/null 2>err; code=$?
[ $code -eq 0 ] && ! grep -q "^resuming" err && same whole.h5 k.h5 && ok "--resume after a kill during creation starts from zero, bit-identical" \
  || bad "--resume after a kill during creation: exit $code: $(head -c 300 err)"
[ ! -e k.h5.partial.new ] && [ ! -e k.h5.partial ] && ok "no .new or .partial left" || bad "left: $(ls k.h5.*)"
head -c 3000 whole.h5 > n.h5.partial.new
"$wedge" "${args[@]}" --out n.h5 >/dev/null 2>err; code=$?
[ $code -eq 0 ] && same whole.h5 n.h5 && [ ! -e n.h5.partial.new ] && ok "a new run replaces a stale .new file" \
  || bad "new run over a stale .new: exit $code: $(head -c 300 err)"
"$wedge" "${args[@]}" --out whole.h5 --resume >/dev/null 2>err; code=$?
[ $code -eq 3 ] && grep -q "already complete" err && ok "--resume of a complete file is refused (exit 3)" \
  || bad "--resume of a complete file: exit $code: $(head -c 300 err)"
# ... and of a complete file that is damaged (cut short): the damage, as inspect names it, and what
# to do (ux10: it said "already complete" alone).
head -c 200000 whole.h5 > cut.h5
"$wedge" inspect cut.h5 >/dev/null 2>inspect.err
"$wedge" "${args[@]}" --out cut.h5 --resume >/dev/null 2>err; code=$?
damage=$(sed 's/^error: //' inspect.err)
[ $code -eq 3 ] && [ "$(wc -l < err)" -eq 1 ] && [ -n "$damage" ] \
  && grep -qF "already complete, so there is nothing to resume, but \`wedge inspect\` refuses it ($damage); run the same command with --force instead of --resume" err \
  && ok "--resume of a damaged complete file names the damage and --force: $(cat err)" \
  || bad "--resume of a damaged complete file: exit $code: $(head -c 400 err) (inspect: $damage)"
"$wedge" "${args[@]}" --out cut.h5 --force >/dev/null 2>err && same whole.h5 cut.h5 \
  && ok "... and --force, as advised, writes it again" || bad "--force after the advice: $(head -c 300 err)"
# A file being created never shows as FILE.partial before its skeleton is on disk: kill at the
# first checkpoint's first step and the partial opens and resumes.
"$wedge" "${args[@]}" --out c.h5 --checkpoint-seconds 0 --wave 1 --test-crash-at slot_written:1 >/dev/null 2>&1
[ -e c.h5.partial ] && [ ! -e c.h5.partial.new ] && ok "killed at the first checkpoint: only FILE.partial" \
  || bad "after a kill at the first checkpoint: $(ls c.h5* 2>&1)"
done=$(runs_done c.h5.partial)
"$wedge" "${loud[@]}" --out c.h5 --resume >/dev/null 2>err; code=$?
# The first checkpoint was never named, so the partial holds no runs (inspect reads 0) and the
# resume starts from zero: no "resuming" line; had one been named, the line must name its runs.
[ $code -eq 0 ] && [ -n "$done" ] && resumed_or_fresh err c.h5.partial "$done" && same whole.h5 c.h5 \
  && ok "and --resume ($done runs in the partial) completes it bit-identically" \
  || bad "--resume after a kill at the first checkpoint: exit $code: $(head -c 300 err)"
finish
