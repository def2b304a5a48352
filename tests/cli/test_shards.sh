#!/usr/bin/env bash
# --shard i/K + wedge merge equal the single-process run bit for bit (runs and summaries), and
# mismatched, missing or duplicated shards are refused with no file left behind.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
sweeps=$2
source "$here/common.sh"
setup

for case in "baseline:--runs 300001:1 2 3" "grid:$sweeps/threat_rewards_grid.toml --runs 5000:2 3 5"; do
  name=${case%%:*}; rest=${case#*:}; args=${rest%%:*}; ks=${rest##*:}
  "$wedge" run $args --out whole-$name.h5 --quiet >/dev/null || bad "$name: whole run"
  for k in $ks; do
    rm -f part-*.h5 merged.h5
    for ((i = 0; i < k; i++)); do "$wedge" run $args --shard $i/$k --out part-$i.h5 --quiet >/dev/null || bad "$name: shard $i/$k"; done
    "$wedge" merge $(ls part-*.h5 | sort -r) --out merged.h5 2>/dev/null || bad "$name: merge of $k"
    same whole-$name.h5 merged.h5 && ok "$name: $k shards merged equal one process bit for bit" || bad "$name: $k shards differ"
  done
done

rm -f part-*.h5
for i in 0 1 2; do "$wedge" run --runs 30000 --shard $i/3 --out part-$i.h5 --quiet >/dev/null; done
"$wedge" run --runs 30000 --seed 2 --shard 2/3 --out other-seed.h5 --quiet >/dev/null
"$wedge" run --runs 30000 --set dulles.tact=0.9 --shard 2/3 --out other-exp.h5 --quiet >/dev/null
"$wedge" run --runs 30000 --shard 1/2 --out other-k.h5 --quiet >/dev/null
check() {  # check DESCRIPTION CODE PATTERN -- merge args
  local what=$1 want=$2 pattern=$3; shift 4
  "$wedge" merge "$@" --out bad.h5 >/dev/null 2>err; local code=$?
  if [ $code -eq $want ] && grep -q "$pattern" err && [ ! -e bad.h5 ] && [ ! -e bad.h5.partial ]; then ok "$what (exit $want)"; else bad "$what: exit $code, expected $want: $(cat err)"; fi
}
# Shard files that are not one run are bad input (2); a file that cannot be read as results is a
# results-file problem (3), as for `wedge inspect`.
check "a missing shard is refused" 2 "missing shard(s) 2 of 3" -- part-0.h5 part-1.h5
# Missing shards are listed as ranges, at most 20 (one shard of 100,000 printed 689 KB before).
"$wedge" run --runs 2000 --shard 5/1000 --out one-of-many.h5 --quiet >/dev/null
check "many missing shards are listed as ranges" 2 "missing shard(s) 0-4, 6-999 of 1000$" -- one-of-many.h5
"$wedge" run --runs 2000 --shard 1/1000 --out odd-1.h5 --quiet >/dev/null
args=(); for i in $(seq 3 2 61); do "$wedge" run --runs 2000 --shard $i/1000 --out odd-$i.h5 --quiet >/dev/null; args+=(odd-$i.h5); done
check "at most 20 ranges of missing shards" 2 "missing shard(s) 0, 2, 4, .*, 36, 38, ... (969 missing in all) of 1000$" -- odd-1.h5 "${args[@]}"
[ "$(wc -c < err)" -lt 300 ] && ok "the message stays short" || bad "a $(wc -c < err)-byte message"
check "a duplicated shard is refused" 2 "given twice" -- part-0.h5 part-1.h5 part-1.h5 part-2.h5
# The refusals name what differs, with both files' values.
check "a shard of another seed is refused" 2 "different seed (1 in part-0.h5, 2 in other-seed.h5)$" -- part-0.h5 part-1.h5 other-seed.h5
check "a shard of another experiment is refused" 2 "different experiment; the keys that differ: dulles.tact: 0.3 in part-0.h5, 0.9 in other-exp.h5$" -- part-0.h5 part-1.h5 other-exp.h5
check "a shard of another split is refused" 2 "different shard count (3 in part-0.h5, 2 in other-k.h5)$" -- part-0.h5 part-1.h5 other-k.h5
# ... also the storage options and --crn (ux10: "different --store" named no values).
"$wedge" run --runs 30000 --shard 2/3 --store summary --out other-store.h5 --quiet >/dev/null
"$wedge" run --runs 30000 --shard 2/3 --compression deflate --out other-compression.h5 --quiet >/dev/null
"$wedge" run --runs 30000 --shard 2/3 --crn --out other-crn.h5 --quiet >/dev/null
check "a shard of another --store is refused" 2 "different --store (runs in part-0.h5, summary in other-store.h5)$" -- part-0.h5 part-1.h5 other-store.h5
check "a shard of another --compression is refused" 2 "different --compression (none in part-0.h5, deflate in other-compression.h5)$" -- part-0.h5 part-1.h5 other-compression.h5
check "a shard of another --crn is refused" 2 "different .*crn.*\(false\|without --crn\).* in part-0.h5, .*\(true\|with --crn\).* in other-crn.h5" -- part-0.h5 part-1.h5 other-crn.h5
"$wedge" run --runs 30000 --shard 2/3 --out cut.h5 --quiet --test-stop-after-blocks 2 >/dev/null 2>&1
check "an unfinished shard is refused" 2 "is not complete" -- part-0.h5 part-1.h5 cut.h5.partial
printf 'junk' > junk.h5
check "a foreign file is refused" 3 "not an HDF5 file" -- part-0.h5 junk.h5
check "a missing file is refused" 3 "nothere.h5" -- part-0.h5 nothere.h5
"$wedge" run --runs 10 --shard 1/2 --out shard-table.h5 > out.txt 2>&1
grep -q "^shard 1 of 2: 10 runs of design point 0 written to shard-table.h5; this is part of a run" out.txt && ! grep -q "design point 0 (" out.txt \
  && ok "a shard says what it holds instead of printing a table of zeros" || bad "shard output: $(cat out.txt)"
"$wedge" run --runs 10 --shard 3/2 --out x.h5 >/dev/null 2>&1; [ $? -eq 2 ] && ok "--shard 3/2 is bad input" || bad "--shard 3/2"

finish
