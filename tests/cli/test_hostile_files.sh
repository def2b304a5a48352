#!/usr/bin/env bash
# Results files from elsewhere cannot hurt (issue 15, items 1-6): damaged and hostile files crafted
# with h5py (tests/python/hostile.py) are refused by `wedge inspect`, `wedge merge` and
# `wedge run --resume` with exit code 3 and "FILE: damaged: OBJECT: what", leave no lock or
# partial file, and make wedge open no other file; --resume checks every option of the plan; the
# lock and --force touch only regular files; `inspect` escapes what the file says; a crash while a
# complete file's dimension scales are written leaves a partial file that --resume finishes.
#   test_hostile_files.sh WEDGE SWEEPS_DIR HOSTILE_PY
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$(realpath "$1")
sweeps=$(realpath "$2")
hostile=$(realpath "$3")
py=/usr/bin/python3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$here/common.sh"
cd "$dir" || exit 1
mkdir -p crafted work

# run_refused WHAT CODE PATTERN -- command...: exits CODE, one line on stderr matching PATTERN (a
# Perl regular expression), nothing on stdout, within 60 s (a reader that opened one of the FIFOs
# among the crafted files' targets would hang).
run_refused() {
  local what=$1 want=$2 pattern=$3; shift 4
  timeout 60 "$@" >out 2>err; local code=$?
  if [ $code -eq "$want" ] && [ "$(wc -l < err)" -eq 1 ] && grep -qP "$pattern" err && [ ! -s out ]; then
    ok "$what"
  else
    bad "$what: exit $code (expected $want): $(head -c 400 err)"
  fi
}
# no_leftovers OUT: neither OUT, OUT.partial nor OUT.lock exists.
no_leftovers() { [ ! -e "$1" ] && [ ! -e "$1.partial" ] && [ ! -e "$1.lock" ]; }
# opened_elsewhere TRACE: the files a traced wedge opened beyond its own (shared libraries, /proc,
# /sys, /dev, locale data and the file it was given are its own); empty when there are none.
opened_elsewhere() {
  grep -E 'open(at)?\(' "$1" | grep -v ENOENT | grep -oE '"[^"]+"' | tr -d '"' | sort -u |
    grep -vE '^(/usr/lib|/lib|/usr/share/locale|/usr/lib/locale|/proc|/sys|/dev)/|^/etc/ld\.so\.cache$|\.so(\.[0-9]+)*$' |
    grep -vxF -e "$2"
}
have_strace=0; command -v strace >/dev/null && have_strace=1

"$wedge" run --runs 5000 --seed 3 --out single.h5 --quiet >/dev/null || bad "single.h5"
"$wedge" run "$sweeps/threat_rewards_grid.toml" --runs 1000 --out grid.h5 --quiet >/dev/null || bad "grid.h5"
"$wedge" run --runs 200 --seed 3 --store rounds --out rounds.h5 --quiet >/dev/null || bad "rounds.h5"

# -- The catalogue (items 1, 2, 3, 6): inspect refuses each crafted file, opening nothing else ---
"$py" "$hostile" craft-all . crafted work || bad "crafting the catalogue"
while IFS=$'\t' read -r kind base pattern; do
  f=crafted/$kind.h5
  run_refused "inspect refuses $kind" 3 "^error: \Q$f\E: damaged: $pattern" -- "$wedge" inspect "$f"
  run_refused "inspect --json refuses $kind" 3 "^error: \Q$f\E: damaged: $pattern" -- "$wedge" inspect --json "$f"
  if [ $have_strace -eq 1 ]; then
    timeout 60 strace -f -qq -e trace=open,openat -o trace "$wedge" inspect "$f" >/dev/null 2>&1
    others=$(opened_elsewhere trace "$f")
    [ -z "$others" ] && ok "$kind: inspect opens no other file" || bad "$kind: inspect opened: $others"
  fi
done < <("$py" "$hostile" list)
if [ $have_strace -eq 1 ]; then
  strace -f -qq -e trace=open,openat -o trace "$wedge" inspect grid.h5 >/dev/null 2>&1
  others=$(opened_elsewhere trace grid.h5)
  [ -z "$others" ] && ok "inspect of a healthy file opens that file only" || bad "inspect opened: $others"
else
  echo "note: strace is not installed; the FIFO targets still catch a reader that opens them"
fi
mkfifo fifo.h5
run_refused "inspect of a FIFO does not hang" 3 "^error: fifo.h5: not a regular file" -- "$wedge" inspect fifo.h5

# -- merge (items 1, 5, 6): damaged shards are refused before anything is written ----------------
"$wedge" run "$sweeps/threat_rewards_grid.toml" --runs 1000 --shard 0/2 --out s0.h5 --quiet >/dev/null
"$wedge" run "$sweeps/threat_rewards_grid.toml" --runs 1000 --shard 1/2 --out s1.h5 --quiet >/dev/null
"$wedge" merge s0.h5 s1.h5 --out merged.h5 2>/dev/null && same merged.h5 grid.h5 && ok "healthy shards merge into the whole run" \
  || bad "healthy merge"
rm -f merged.h5
# A shard rewritten as a consistent 1-point file (a 1-point run's shard, relabelled as the grid's).
"$wedge" run --runs 1000 --seed 7 --shard 1/2 --out one.h5 --quiet >/dev/null
"$py" - <<'EOF'
import h5py
with h5py.File("s1.h5", "r") as src, h5py.File("one.h5", "r+") as f:
    f.attrs.modify("experiment", src.attrs["experiment"])
EOF
run_refused "merge refuses a shard rewritten as a consistent 1-point file" 3 \
  "^error: one.h5: damaged: /design: 1 design points, but the experiment has 12" -- "$wedge" merge s0.h5 one.h5 --out merged.h5
no_leftovers merged.h5 && ok "the refused merge leaves no file, partial or lock" || bad "merge left files: $(ls)"
run_refused "inspect refuses the same file" 3 "^error: one.h5: damaged: /design: 1 design points" -- "$wedge" inspect one.h5
# merge_case NAME PATTERN PYTHON: s1.h5 crafted by PYTHON (h5py, on file f) must be refused.
merge_case() {
  local name=$1 pattern=$2 code=$3
  cp s1.h5 "$name.h5"
  "$py" -c "import h5py, numpy as np
with h5py.File('$name.h5', 'r+') as f:
$code" || bad "crafting $name"
  run_refused "merge refuses $name" 3 "^error: \Q$name.h5\E: damaged: $pattern" -- "$wedge" merge s0.h5 "$name.h5" --out merged.h5
  no_leftovers merged.h5 || bad "$name: merge left files"
}
merge_case block_point_out_of_range '/blocks: block 0 \(point 99, replicates 0 \+ 1000\) is outside the plan of 12 points' \
  "    f['blocks/point'][0] = 99"
merge_case blocks_huge '/blocks/count: declares 68719476736 elements \(274877906944 bytes\) but stores \d+ bytes' \
  "    f['blocks/count'].resize((1 << 36,))"
merge_case record_not_a_category '/runs/islands_promised: record 0 holds 3, which is no category of islands_promised' \
  "    f['runs/islands_promised'][0] = 3"
merge_case record_index_out_of_range '/runs/format: record 5 holds 7, which is no category of format' \
  "    f['runs/format'][5] = 7"
merge_case record_of_another_block '/runs/point: record 2 is \(point 7, replicate 2\), its block says \(point 6, replicate 2\)' \
  "    f['runs/point'][2] = 7"
merge_case records_disagree_with_counts "/runs/format: the records of point 6 hold (more|fewer) '\w+' than the checkpoint counts" \
  "    v = f['runs/format'][0]; f['runs/format'][0] = (v + 1) % 3"
# /rounds (--store rounds) of a shard is checked as /runs is: nothing is read from elsewhere.
"$wedge" run --runs 10000 --seed 3 --store rounds --shard 0/2 --out r0.h5 --quiet >/dev/null || bad "r0.h5"
"$wedge" run --runs 10000 --seed 3 --store rounds --shard 1/2 --out r1.h5 --quiet >/dev/null || bad "r1.h5"
"$wedge" merge r0.h5 r1.h5 --out rmerged.h5 2>/dev/null && ok "healthy --store rounds shards merge" || bad "rounds merge"
for k in rounds_external_storage_fifo rounds_virtual_missing_source rounds_soft_link; do
  "$py" "$hostile" craft $k r1.h5 "r1-$k.h5" work || bad "crafting r1-$k"
  pattern=$("$py" "$hostile" list | awk -F'\t' -v k=$k '$1 == k { print $3 }')
  run_refused "merge refuses a shard with $k" 3 "^error: \Qr1-$k.h5\E: damaged: $pattern" -- "$wedge" merge r0.h5 "r1-$k.h5" --out merged.h5
  no_leftovers merged.h5 || bad "$k: merge left files"
done
# --force never deletes or replaces an input (item 5).
cp s0.h5 s0.bak
run_refused "merge --force --out an input is refused" 2 "^error: merge: the input s0.h5 is the output file" -- \
  "$wedge" merge s0.h5 s1.h5 --out s0.h5 --force
cmp -s s0.h5 s0.bak && ok "the input named as --out is untouched" || bad "merge replaced its input"
cp s1.h5 out.h5.partial
run_refused "merge --force with an input that is out.partial is refused" 2 "^error: merge: the input out.h5.partial is out.h5.partial" -- \
  "$wedge" merge s0.h5 out.h5.partial --out out.h5 --force
cmp -s out.h5.partial s1.h5 && ok "the input named out.partial is untouched" || bad "merge removed its input"

# -- --resume (items 4, 5): every plan-defining option, our own lock, damaged partials ----------
partial() {  # partial NAME ARGS...: a partial file of 3 blocks of a 20,000-run plan
  local name=$1; shift
  rm -f "$name.h5" "$name.h5.partial"
  "$wedge" run --runs 20000 --seed 5 --out "$name.h5" --quiet --test-stop-after-blocks 3 "$@" >/dev/null 2>&1
  [ -f "$name.h5.partial" ] || bad "no partial $name"
}
partial whole
cp whole.h5.partial whole.bak
run_refused "--resume --shard 1/2 of a whole-run partial is refused" 3 \
  "^error: --resume: whole.h5.partial was written as a whole run \(no --shard\), not as --shard 1/2" -- \
  "$wedge" run --runs 20000 --seed 5 --out whole.h5 --resume --shard 1/2
partial half --shard 0/2
run_refused "--resume without --shard of a shard's partial is refused" 3 \
  "^error: --resume: half.h5.partial was written as --shard 0/2, not as a whole run \(no --shard\)" -- \
  "$wedge" run --runs 20000 --seed 5 --out half.h5 --resume
run_refused "--resume with other --runs is refused" 3 "^error: --resume: whole.h5.partial was run with --runs 20000, not 30000" -- \
  "$wedge" run --runs 30000 --seed 5 --out whole.h5 --resume
run_refused "--resume with --crn is refused" 3 "^error: --resume: whole.h5.partial was run without --crn" -- \
  "$wedge" run --runs 20000 --seed 5 --crn --out whole.h5 --resume
run_refused "--resume with other --compression is refused" 3 "^error: --resume: whole.h5.partial was written with --compression none" -- \
  "$wedge" run --runs 20000 --seed 5 --compression deflate --out whole.h5 --resume
run_refused "--resume with other --store is refused" 3 "^error: --resume: whole.h5.partial was written with --store runs" -- \
  "$wedge" run --runs 20000 --seed 5 --store summary --out whole.h5 --resume
cmp -s whole.h5.partial whole.bak && [ ! -e whole.h5.lock ] && ok "refused resumes leave the partial file as it was, and no lock" \
  || bad "a refused resume changed the partial file"
"$wedge" run --runs 20000 --seed 5 --out ref.h5 --quiet >/dev/null
"$wedge" run --runs 20000 --seed 5 --out whole.h5 --resume --quiet >/dev/null 2>err && same whole.h5 ref.h5 \
  && ok "the same options resume it to the uninterrupted run" || bad "resume: $(cat err)"
partial cut
head -c 30000 cut.h5.partial > cut.tmp && mv cut.tmp cut.h5.partial
run_refused "a truncated partial under --resume is damaged, not locked by another process" 3 \
  "^error: cut.h5.partial: cannot open as HDF5 \(damaged or truncated\?\)" -- "$wedge" run --runs 20000 --seed 5 --out cut.h5 --resume
[ ! -e cut.h5.lock ] && ok "the refused resume removed its lock" || bad "lock left behind"
partial rec
"$py" -c "import h5py
with h5py.File('rec.h5.partial', 'r+') as f: f['runs/islands_promised'][10] = 3"
run_refused "--resume refuses a record that is no category" 3 \
  "^error: rec.h5.partial: damaged: /runs/islands_promised: record 10 holds 3, which is no category" -- \
  "$wedge" run --runs 20000 --seed 5 --out rec.h5 --resume

# A partial --store rounds file whose /rounds points elsewhere is refused up front as damaged.
partial rpart --store rounds
"$py" "$hostile" craft rounds_external_storage rpart.h5.partial rext.h5.partial work || bad "crafting rext"
run_refused "--resume refuses a partial whose /rounds/alignment is stored in another file" 3 \
  "^error: rext.h5.partial: damaged: /rounds/alignment: stores its data in another file" -- \
  "$wedge" run --runs 20000 --seed 5 --store rounds --out rext.h5 --resume
[ ! -e rext.h5.lock ] && [ ! -e rext.h5 ] && ok "the refused resume leaves no lock and no file" || bad "rext: files left"

# -- the lock and --force touch regular files only (item 5) --------------------------------------
echo "precious" > victim
ln -s "$dir/victim" locked.h5.lock
run_refused "a lock path that is a symbolic link is refused" 3 "^error: --out locked.h5.lock: is a symbolic link" -- \
  "$wedge" run --runs 10 --out locked.h5
[ "$(cat victim)" = precious ] && [ ! -e locked.h5 ] && ok "the link's target is untouched" || bad "victim changed"
mkfifo target.h5
run_refused "--force does not replace a FIFO" 3 "^error: --out target.h5: is a FIFO; wedge replaces or continues regular files only" -- \
  "$wedge" run --runs 10 --out target.h5 --force
[ -p target.h5 ] && ok "the FIFO is still there" || bad "the FIFO was replaced"
ln -s victim link.h5
run_refused "--force does not replace a symbolic link" 3 "^error: --out link.h5: is a symbolic link" -- \
  "$wedge" run --runs 10 --out link.h5 --force
run_refused "merge --force does not replace a FIFO" 3 "^error: --out target.h5: is a FIFO" -- \
  "$wedge" merge s0.h5 s1.h5 --out target.h5 --force

# -- inspect prints what the file says, escaped (item 5) -----------------------------------------
cp single.h5 forged.h5
"$py" - <<'EOF'
import h5py
with h5py.File("forged.h5", "r+") as f:
    del f.attrs["created"]
    f.attrs["created"] = 'x", "complete": false, "forged": "\x1b[2J\x07'
EOF
"$wedge" inspect --json forged.h5 > forged.json 2>err
"$py" - <<'EOF' && ok "inspect --json escapes a forged attribute (one document, no forged keys)" || bad "inspect --json: $(head -c 300 forged.json)"
import json
d = json.load(open("forged.json"))
assert d["created"] == 'x", "complete": false, "forged": "\x1b[2J\x07', d["created"]
assert d["complete"] is True and "forged" not in d
EOF
"$wedge" inspect forged.h5 > forged.txt 2>err
! grep -qP '[\x00-\x08\x0b-\x1f\x7f]' forged.txt && grep -qF 'created x", "complete": false, "forged": "\x1b[2J\x07' forged.txt \
  && ok "inspect's text escapes control characters" || bad "inspect text: $(head -c 300 forged.txt | od -c | head -5)"

# -- a crash while a complete file gets its dimension scales (the window before `complete`) ------
"$wedge" run --runs 5000 --seed 3 --out scales-ref.h5 --quiet >/dev/null
for step in summary_written scales_written checkpoint_done; do
  rm -f sc.h5 sc.h5.partial
  "$wedge" run --runs 5000 --seed 3 --out sc.h5 --quiet --test-crash-at $step >/dev/null 2>&1; code=$?
  [ $code -eq 137 ] && [ -f sc.h5.partial ] && [ ! -e sc.h5 ] && ok "a crash at $step leaves only sc.h5.partial" \
    || bad "crash at $step: exit $code, $(ls sc.h5*)"
  complete=$("$py" -c "import h5py; print(int(h5py.File('sc.h5.partial')['/'].attrs['complete']))")
  if [ $step = checkpoint_done ]; then
    [ "$complete" = 1 ] && ok "at checkpoint_done the file is whole, complete = 1" || bad "$step: complete = $complete"
  else
    [ "$complete" = 0 ] && "$wedge" inspect sc.h5.partial | grep -q "PARTIAL (interrupted; continue with --resume)" \
      && ok "before checkpoint_done a crashed file says complete = 0 and inspect calls it partial" || bad "$step: complete = $complete"
  fi
  "$wedge" run --runs 5000 --seed 3 --out sc.h5 --resume --quiet >/dev/null 2>err && same sc.h5 scales-ref.h5 \
    && "$py" -c "import h5py, sys; f = h5py.File('sc.h5'); sys.exit(f['design/point'].attrs['CLASS'] != b'DIMENSION_SCALE')" \
    && ok "--resume after a crash at $step finishes the file, scales included, equal to an uninterrupted run" \
    || bad "resume after $step: $(cat err)"
done

# -- A byte flipped inside a /runs chunk: the metadata is intact, only reading the chunk shows it
# (HDF5 checks a chunk's Fletcher-32 when it reads it); inspect reads every record, so it refuses.
cp single.h5 chunk.h5
"$py" - chunk.h5 <<'PY' || bad "flipping a /runs chunk"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    info = f["runs/alliance"].id.get_chunk_info(0)
with open(sys.argv[1], "r+b") as h:
    h.seek(info.byte_offset + info.size // 2)
    b = h.read(1)
    h.seek(info.byte_offset + info.size // 2)
    h.write(bytes([b[0] ^ 0x5A]))
PY
run_refused "inspect refuses a byte flipped in a /runs chunk" 3 \
  '^error: chunk\.h5: damaged: /runs/alliance: cannot read elements 0 to \d+' -- "$wedge" inspect chunk.h5
run_refused "inspect --json refuses a byte flipped in a /runs chunk" 3 \
  '^error: chunk\.h5: damaged: /runs/alliance: cannot read elements' -- "$wedge" inspect --json chunk.h5
"$wedge" inspect single.h5 | grep -q "5000 per-run records stored, every one read and its checksum verified" \
  && ok "inspect says it verified every record" || bad "inspect of single.h5 does not say it verified the records"
"$wedge" inspect --json single.h5 | "$py" -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["records_verified"] is True else 1)' \
  && ok "inspect --json: records_verified" || bad "inspect --json lacks records_verified: true"

finish
