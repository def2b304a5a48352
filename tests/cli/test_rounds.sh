#!/usr/bin/env bash
# --store rounds (docs/output-format.md, "/rounds"): the per-round table is the same on any thread
# count, resumes bit for bit after an interruption, a write failure or a crash at any step of the
# checkpoint protocol (rows written past the last checkpoint are dropped: a crash after a flush
# leaves more runs in /rounds/run_begin than the checkpoint names, one before it as many), merges from shards
# bit for bit, and a resume or merge that mixes storage modes is refused.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
sweeps=$2
source "$here/common.sh"
setup
# same_rounds A B: same /runs and /summary, and bit-identical /rounds.
same_rounds() { same "$1" "$2" && h5diff -q "$1" "$2" /rounds /rounds >/dev/null 2>&1; }

# 12 points x 3000 runs: 24 blocks of the plan.
args="$sweeps/threat_rewards_grid.toml --runs 3000 --seed 5 --store rounds --quiet"
"$wedge" run $args --out whole.h5 --threads 2 >/dev/null || bad "whole run"
h5ls whole.h5/rounds | grep -q "^run_begin .*{36000/Inf}" && ok "/rounds/run_begin has one entry per run" || bad "run_begin: $(h5ls whole.h5/rounds)"
"$wedge" run $args --out one-thread.h5 --threads 1 >/dev/null
same_rounds whole.h5 one-thread.h5 && ok "1 and 2 threads give the same /rounds bit for bit" || bad "threads differ"
"$wedge" run $sweeps/threat_rewards_grid.toml --runs 3000 --seed 5 --store runs --quiet --out plain.h5 >/dev/null
same whole.h5 plain.h5 && ok "--store rounds keeps /runs and /summary exactly as --store runs" || bad "--store rounds changed /runs"
! h5ls plain.h5/rounds >/dev/null 2>&1 && ok "--store runs writes no /rounds" || bad "--store runs wrote /rounds"

for seam in "--test-stop-after-blocks 3:130" "--test-stop-after-checkpoints 2 --wave 1 --checkpoint-seconds 0:130" \
            "--test-fail-at slot_written:2 --wave 1 --checkpoint-seconds 0:3" \
            "--test-fail-at runs_appended:4 --wave 1 --checkpoint-seconds 0:3" \
            "--test-crash-at blocks_appended:3 --wave 1 --checkpoint-seconds 0:137" \
            "--test-crash-at slot_flushed:3 --wave 1 --checkpoint-seconds 0:137" \
            "--test-crash-at slot_synced:2 --wave 1 --checkpoint-seconds 0:137"; do
  opts=${seam%:*}; want=${seam##*:}
  rm -f cut.h5*
  "$wedge" run $args --out cut.h5 $opts >/dev/null 2>err; code=$?
  if [ $code -eq $want ] && [ -f cut.h5.partial ] && [ ! -e cut.h5 ]; then ok "$opts: exit $want, .partial kept"
  else bad "$opts: exit $code (expected $want): $(cat err)"; fi
  done=$(runs_done cut.h5.partial)
  if "$wedge" run ${args/--quiet/} --out cut.h5 --resume >/dev/null 2>err && resumed err cut.h5.partial "$done" \
     && same_rounds whole.h5 cut.h5; then
    ok "$opts then --resume from the partial's $done runs: /rounds equals the uninterrupted run's bit for bit"
  else bad "$opts then --resume: $(cat err)"; fi
done

rm -f cut.h5*
"$wedge" run $args --out cut.h5 --test-stop-after-blocks 3 >/dev/null 2>&1
"$wedge" run ${args/--store rounds/--store runs} --out cut.h5 --resume >/dev/null 2>err; code=$?
[ $code -eq 3 ] && grep -q "was written with --store rounds" err && ok "resuming a rounds file without --store rounds is refused" \
  || bad "resume without --store rounds: exit $code: $(cat err)"
rm -f cut.h5*
"$wedge" run ${args/--store rounds/--store runs} --out cut.h5 --test-stop-after-blocks 3 >/dev/null 2>&1
"$wedge" run $args --out cut.h5 --resume >/dev/null 2>err; code=$?
[ $code -eq 3 ] && grep -q "was written without --store rounds" err && ok "resuming a runs file with --store rounds is refused" \
  || bad "resume with --store rounds: exit $code: $(cat err)"

for k in 2 5; do
  rm -f part-*.h5 merged.h5
  for ((i = 0; i < k; i++)); do "$wedge" run $args --shard $i/$k --out part-$i.h5 >/dev/null || bad "shard $i/$k"; done
  "$wedge" merge $(ls part-*.h5 | sort -r) --out merged.h5 2>err || bad "merge of $k: $(cat err)"
  same_rounds whole.h5 merged.h5 && ok "$k shards with --store rounds merged equal one process bit for bit" || bad "$k shards differ"
done
h5dump -a /store_rounds merged.h5 | grep -q '(0): 1' && ok "the merged file says it holds /rounds" || bad "merged store_rounds"
"$wedge" run ${args/--store rounds/--store runs} --shard 1/2 --out plain-1.h5 >/dev/null
rm -f part-*.h5 && "$wedge" run $args --shard 0/2 --out part-0.h5 >/dev/null 2>&1
"$wedge" merge part-0.h5 plain-1.h5 --out mixed.h5 >/dev/null 2>err; code=$?
[ $code -eq 2 ] && grep -q "hold per-round histories" err && [ ! -e mixed.h5 ] && [ ! -e mixed.h5.partial ] \
  && ok "merging shards with and without /rounds is refused, no file left" || bad "mixed merge: exit $code: $(cat err)"

finish
