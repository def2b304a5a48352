#!/usr/bin/env bash
# Values no checksum covers cannot mislead: a /design value changed (with h5py, or a flipped byte)
# in a grid, list, Latin hypercube, Sobol or Saltelli file, and a /blocks sum edited (alone, or
# with the checkpoint and /summary recomputed to match) are refused by `wedge inspect` and
# `wedge merge` with exit code 3 and one line naming the file, the object, the point or block and
# both values (docs/output-format.md, "What readers check").
#   test_forged_values.sh WEDGE SWEEPS_DIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$(realpath "$1")
sweeps=$(realpath "$2")
py=/usr/bin/python3
source "$here/common.sh"
setup

# refused WHAT LINE -- command...: exit 3, stderr exactly LINE, nothing on stdout, no output file.
refused() {
  local what=$1 line=$2; shift 3
  "$@" >out 2>err; local code=$?
  if [ $code -eq 3 ] && [ "$(cat err)" = "$line" ] && [ ! -s out ] && [ ! -e m.h5 ] &&
    [ ! -e m.h5.partial ]; then
    ok "$what"
  else
    bad "$what: exit $code: $(head -c 600 err)"
  fi
}

# set_design FILE KEY POINT VALUE: /design/KEY[POINT] = VALUE, with h5py.
set_design() {
  "$py" - "$@" <<'PY'
import sys, h5py
path, key, point, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with h5py.File(path, "r+") as f:
    f["design"][key][point] = value
PY
}
# flip_design FILE KEY POINT: flips the lowest bit of /design/KEY[POINT]'s first byte in the file
# itself (a flipped bit on disk: the dataset is contiguous, and no checksum covers it); prints the
# value it now holds.
flip_design() {
  "$py" - "$@" <<'PY'
import sys, h5py
path, key, point = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(path, "r") as f:
    ds = f["design"][key]
    offset = ds.id.get_offset() + 8 * point
    old = ds[point]
with open(path, "r+b") as raw:
    raw.seek(offset)
    byte = raw.read(1)[0]
    raw.seek(offset)
    raw.write(bytes([byte ^ 1]))
with h5py.File(path, "r") as f:
    print(repr(float(f["design"][key][point])), repr(float(old)))
PY
}

# 1. /design values, every kind of design (20 runs a point: the design is the subject).
for design in threat_rewards_grid:grid:dulles.reward_power:5 \
              cabinet_list:list:hatoyama.fall_hazard_late:2 \
              coercion_lhs:lhs:dulles.threat_strength:7 \
              wedge_sobol:sobol:soviet.carrots:11 \
              binding_saltelli:saltelli:dulles.tact:3; do
  IFS=: read -r toml name key point <<<"$design"
  "$wedge" run "$sweeps/$toml.toml" --runs 20 --out "$name.h5" --quiet >/dev/null 2>&1 ||
    { bad "$name: the run failed"; continue; }
  "$wedge" inspect "$name.h5" >/dev/null 2>err && [ ! -s err ] && ok "$name: the file as written inspects clean" ||
    bad "$name: the file as written: $(cat err)"
  was=$("$py" -c "import h5py,sys; print(repr(float(h5py.File(sys.argv[1])['design'][sys.argv[2]][int(sys.argv[3])])))" \
        "$name.h5" "$key" "$point")
  cp "$name.h5" edited.h5
  set_design edited.h5 "$key" "$point" 0.4375
  refused "$name: a /design value changed with h5py" \
    "error: edited.h5: damaged: /design/$key: point $point: holds 0.4375, but the stored experiment's $name design gives $was" \
    -- "$wedge" inspect edited.h5
  cp "$name.h5" flipped.h5
  read -r now _ <<<"$(flip_design flipped.h5 "$key" "$point")"
  refused "$name: a flipped bit in a /design value" \
    "error: flipped.h5: damaged: /design/$key: point $point: holds $now, but the stored experiment's $name design gives $was" \
    -- "$wedge" inspect flipped.h5
done
# A file from another build (its git_commit not this build's): the refusal says it may be intact
# and from a build whose design differed, naming both builds.
cp grid.h5 other.h5
"$py" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f.attrs['git_commit']='v0.0.0-1-gabcdef0'" other.h5
set_design other.h5 dulles.reward_power 5 0.4375
"$wedge" inspect other.h5 >out 2>err; code=$?
line=$(cat err)
ours=$("$wedge" --version | head -1)
if [ $code -eq 3 ] && [[ "$line" == "error: other.h5: damaged: /design/dulles.reward_power: point 5: holds 0.4375, but the stored experiment's grid design gives "*" (or the file is intact and was written by another wedge build, "*" v0.0.0-1-gabcdef0, whose grid design differed from this build's, "*": rerun the experiment with this build to compare)" ]]; then
  ok "another build's file: the refusal names both builds"
else
  bad "another build's file: exit $code: $line"
fi

# The same design value through wedge merge: a shard's /design changed.
"$wedge" run "$sweeps/threat_rewards_grid.toml" --runs 40 --shard 0/2 --out g0.h5 --quiet >/dev/null 2>&1
"$wedge" run "$sweeps/threat_rewards_grid.toml" --runs 40 --shard 1/2 --out g1.h5 --quiet >/dev/null 2>&1
cp g1.h5 g1.h5.orig
set_design g1.h5 dulles.threat_strength 4 1.5
refused "merge: a shard's /design value changed" \
  "error: g1.h5: damaged: /design/dulles.threat_strength: point 4: holds 1.5, but the stored experiment's grid design gives 1" \
  -- "$wedge" merge g0.h5 g1.h5 --out m.h5

# 2. /blocks: a block's continuous sums edited with h5py (HDF5 recomputes the chunk's checksum).
"$wedge" run --runs 4000 --shard 0/2 --out s0.h5 --quiet >/dev/null 2>&1
"$wedge" run --runs 4000 --shard 1/2 --out s1.h5 --quiet >/dev/null 2>&1
"$wedge" merge s0.h5 s1.h5 --out whole.h5 >/dev/null 2>&1 && "$wedge" inspect whole.h5 >/dev/null 2>&1 &&
  ok "shards as written merge and inspect clean" || bad "shards as written"
# forge FILE FIELD PART DELTA [chain]: adds DELTA to block 0's FIELD_PART; with "chain", also sets
# the checkpoint's and /summary's mean and m2 of point 0 to what the edited block gives (the one
# block of point 0 in these shards), so that only the records can tell. Prints the new value.
forge() {
  "$py" - "$@" <<'PY'
import sys, h5py
path, field, part, delta = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
chain = len(sys.argv) > 5
with h5py.File(path, "r+") as f:
    b = f["blocks"]
    assert b["count"].shape[0] == 1, "one block expected"
    d = b[f"{field}_{part}"]
    v = d[:]
    v[0] += delta
    d[...] = v
    print(repr(float(v[0])))
    if chain:
        n = int(b[f"{field}_n"][0])
        shift, s, s2 = (float(b[f"{field}_{p}"][0]) for p in ("shift", "sum", "sum2"))
        mean, m2 = shift + s / n, max(0.0, s2 - s * s / n)
        cp = f["checkpoint"][str(int(f.attrs["checkpoint_slot"]))]
        cp[f"{field}_mean"][0] = mean
        cp[f"{field}_m2"][0] = m2
        sm = f["summary"][field]
        sm["mean"][0] = mean
        sm["m2"][0] = m2
        sm["variance"][0] = m2 / (n - 1)
PY
}
cp s1.h5 sum.h5
forge sum.h5 alignment sum 50 >/dev/null
for cmd in inspect merge; do
  if [ $cmd = inspect ]; then args=(inspect sum.h5); else args=(merge s0.h5 sum.h5 --out m.h5); fi
  refused "$cmd: /blocks/alignment_sum edited" \
    "$(printf 'error: sum.h5: damaged: /blocks: the blocks of point 0 give alignment mean %s, the checkpoint %s (a block'"'"'s alignment_n, _shift, _sum, _sum2, _min or _max, or the checkpoint, was changed)' \
       "$("$py" -c "import h5py; b=h5py.File('sum.h5')['blocks']; print(repr(float(b['alignment_shift'][0] + b['alignment_sum'][0] / b['alignment_n'][0])))")" \
       "$("$py" -c "import h5py; f=h5py.File('sum.h5'); print(repr(float(f['checkpoint'][str(int(f.attrs['checkpoint_slot']))]['alignment_mean'][0])))")")" \
    -- "$wedge" "${args[@]}"
done
# The whole chain forged (block, checkpoint and /summary agree): the records refuse it, for every
# continuous field and each of its sums, however small the change beyond float32's rounding.
for edit in alignment:sum:50 reward_total:sum:-0.01 alignment:sum2:1 reward_total:sum2:0.5; do
  IFS=: read -r field part delta <<<"$edit"
  cp s1.h5 chain.h5
  now=$(forge chain.h5 "$field" "$part" "$delta" chain)
  "$wedge" inspect chain.h5 >/dev/null 2>err
  code=$?
  [ $code -eq 3 ] && grep -qxF "error: chain.h5: damaged: /runs/$field: block 0 (point 0, replicates 2048 + 1952): /blocks/${field}_$part is $now, but its records give $(sed -n 's/.*its records give \([^ ]*\) (float32.*/\1/p' err) (float32 records allow a difference of at most $(sed -n 's/.*at most \([^)]*\)).*/\1/p' err))" err &&
    grep -q "its records give [0-9.e+-]* (float32 records allow" err &&
    ok "inspect: ${field}_$part forged with the checkpoint and /summary" ||
    bad "inspect: ${field}_$part forged with the checkpoint and /summary: exit $code: $(cat err)"
  "$wedge" merge s0.h5 chain.h5 --out m.h5 >out 2>err2
  code=$?
  [ $code -eq 3 ] && cmp -s err err2 && [ ! -e m.h5 ] && ok "merge: ${field}_$part forged, refused as inspect refuses it" ||
    bad "merge: ${field}_$part forged: exit $code: $(cat err2)"
done
# The block's min and max are the records' own, rounded to float32, exactly.
cp s1.h5 min.h5
"$py" - <<'PY'
import h5py
with h5py.File("min.h5", "r+") as f:
    b = f["blocks"]
    b["alignment_min"][0] = b["alignment_min"][0] - 0.01
    cp = f["checkpoint"][str(int(f.attrs["checkpoint_slot"]))]
    cp["alignment_min"][0] = b["alignment_min"][0]
    f["summary"]["alignment"]["min"][0] = b["alignment_min"][0]
PY
"$wedge" inspect min.h5 >/dev/null 2>err
[ $? -eq 3 ] && grep -q "^error: min.h5: damaged: /runs/alignment: block 0 (point 0, replicates 2048 + 1952): /blocks/alignment_min is [0-9.]*, but its records give [0-9.]*$" err &&
  ok "inspect: alignment_min forged with the checkpoint and /summary" || bad "inspect: alignment_min forged: $(cat err)"
cp s1.h5 max.h5
"$py" - <<'PY'
import h5py
with h5py.File("max.h5", "r+") as f:
    b = f["blocks"]
    b["reward_total_max"][0] = b["reward_total_max"][0] + 0.5
    cp = f["checkpoint"][str(int(f.attrs["checkpoint_slot"]))]
    cp["reward_total_max"][0] = b["reward_total_max"][0]
    f["summary"]["reward_total"]["max"][0] = b["reward_total_max"][0]
PY
"$wedge" inspect max.h5 >/dev/null 2>err
[ $? -eq 3 ] && grep -q "^error: max.h5: damaged: /runs/reward_total: block 0 (point 0, replicates 2048 + 1952): /blocks/reward_total_max is [0-9.]*, but its records give [0-9.]*$" err &&
  ok "inspect: reward_total_max forged with the checkpoint and /summary" || bad "inspect: reward_total_max forged: $(cat err)"

# 3. A shard whose netCDF coordinates were damaged (a deleted flag_meanings, a dimension scale's
# CLASS changed) is refused by merge as inspect refuses it, before anything is written (merge
# writes its own coordinates, but the shard is damaged).
for damage in "del f['runs']['format'].attrs['flag_meanings']" \
              "f['design']['point'].attrs['CLASS'] = b'NOT_A_SCALE'"; do
  cp g1.h5.orig g1.h5; rm -f m.h5
  "$py" -c "import h5py; f = h5py.File('g1.h5', 'r+'); $damage; f.close()"
  "$wedge" inspect g1.h5 >/dev/null 2>inspect_err; inspect_code=$?
  "$wedge" merge g0.h5 g1.h5 --out m.h5 >out 2>err; code=$?
  if [ $inspect_code -eq 3 ] && [ $code -eq 3 ] && [ "$(cat err)" = "$(cat inspect_err)" ] &&
    grep -q "^error: g1.h5: " err && [ ! -e m.h5 ] && [ ! -e m.h5.partial ]; then
    ok "merge refuses a shard with damaged coordinates as inspect does ($damage)"
  else
    bad "merge, damaged coordinates ($damage): inspect exit $inspect_code, merge exit $code: $(cat err)"
  fi
done

# 3b. A scale's CLASS rewritten in place to another string of the same length (h5py's
# attrs.modify keeps the attribute's type): HDF5 1.10.8's H5DSis_scale frees its buffer twice on
# it, which aborted the probe child with glibc's "free(): double free detected" before wedge's
# message, naming no dataset. wedge reads CLASS itself before any H5DS call: one line naming the
# file, the dataset and what CLASS holds, from inspect and merge alike, nothing written.
for object in /design/point /summary/format/category /summary/alignment/bin /run; do
  cp g1.h5.orig g1.h5; rm -f m.h5
  "$py" -c "import h5py, sys; f = h5py.File('g1.h5', 'r+'); f[sys.argv[1]].attrs.modify('CLASS', b'NOT_A_SCALE____'); f.close()" "$object"
  line="error: g1.h5: damaged: $object: is no longer a dimension scale (attribute CLASS holds 'NOT_A_SCALE____', not 'DIMENSION_SCALE'; a damaged coordinate)"
  "$wedge" inspect g1.h5 >/dev/null 2>inspect_err; inspect_code=$?
  "$wedge" merge g0.h5 g1.h5 --out m.h5 >out 2>err; code=$?
  if [ $inspect_code -eq 3 ] && [ "$(cat inspect_err)" = "$line" ] && [ $code -eq 3 ] &&
    [ "$(cat err)" = "$line" ] && [ ! -s out ] && [ ! -e m.h5 ] && [ ! -e m.h5.partial ]; then
    ok "a CLASS of $object rewritten in place: inspect and merge name it in one line, nothing written"
  else
    bad "CLASS of $object rewritten in place: inspect exit $inspect_code: $(cat inspect_err); merge exit $code: $(cat err)"
  fi
done

# 3c. A scale's CLASS deleted (not rewritten): reported as missing, in the words of a wrong one,
# by inspect and merge alike (and wedge.open, which asks inspect's checks), nothing written.
for object in /design/point /summary/format/category /summary/alignment/bin /run; do
  cp g1.h5.orig g1.h5; rm -f m.h5
  "$py" -c "import h5py, sys; f = h5py.File('g1.h5', 'r+'); del f[sys.argv[1]].attrs['CLASS']; f.close()" "$object"
  line="error: g1.h5: damaged: $object: is no longer a dimension scale (attribute CLASS is missing, expected 'DIMENSION_SCALE'; a damaged coordinate)"
  "$wedge" inspect g1.h5 >/dev/null 2>inspect_err; inspect_code=$?
  "$wedge" merge g0.h5 g1.h5 --out m.h5 >out 2>err; code=$?
  if [ $inspect_code -eq 3 ] && [ "$(cat inspect_err)" = "$line" ] && [ $code -eq 3 ] &&
    [ "$(cat err)" = "$line" ] && [ ! -s out ] && [ ! -e m.h5 ] && [ ! -e m.h5.partial ]; then
    ok "a CLASS of $object deleted: inspect and merge say it is missing in one line, nothing written"
  else
    bad "CLASS of $object deleted: inspect exit $inspect_code: $(cat inspect_err); merge exit $code: $(cat err)"
  fi
done

# 3d. --store rounds: /round_row's CLASS and the /rounds columns' attachments are checked as the
# other scales are (ux10: inspect and merge read them unchecked), by inspect and merge alike.
"$wedge" run --runs 3000 --store rounds --shard 0/2 --out r0.h5 --quiet >/dev/null 2>&1
"$wedge" run --runs 3000 --store rounds --shard 1/2 --out r1.h5 --quiet >/dev/null 2>&1
cp r1.h5 r1.h5.orig
for case in "del f['round_row'].attrs['CLASS']|/round_row: is no longer a dimension scale (attribute CLASS is missing, expected 'DIMENSION_SCALE'; a damaged coordinate)" \
            "f['round_row'].attrs.modify('CLASS', b'NOT_A_SCALE____')|/round_row: is no longer a dimension scale (attribute CLASS holds 'NOT_A_SCALE____', not 'DIMENSION_SCALE'; a damaged coordinate)" \
            "del f['rounds']['alignment'].attrs['DIMENSION_LIST']|/rounds/alignment: attribute DIMENSION_LIST: dimension 0 is not attached to the scale round_row (a damaged coordinate)" \
            "del f['rounds']['run_begin'].attrs['DIMENSION_LIST']|/rounds/run_begin: attribute DIMENSION_LIST: dimension 0 is not attached to the scale run (a damaged coordinate)"; do
  damage=${case%%|*}; line="error: r1.h5: damaged: ${case#*|}"
  cp r1.h5.orig r1.h5; rm -f m.h5
  "$py" -c "import h5py; f = h5py.File('r1.h5', 'r+'); $damage; f.close()"
  "$wedge" inspect r1.h5 >/dev/null 2>inspect_err; inspect_code=$?
  "$wedge" merge r0.h5 r1.h5 --out m.h5 >out 2>err; code=$?
  if [ $inspect_code -eq 3 ] && [ "$(cat inspect_err)" = "$line" ] && [ $code -eq 3 ] &&
    [ "$(cat err)" = "$line" ] && [ ! -s out ] && [ ! -e m.h5 ] && [ ! -e m.h5.partial ]; then
    ok "--store rounds, $damage: inspect and merge name it in one line, nothing written"
  else
    bad "--store rounds, $damage: inspect exit $inspect_code: $(cat inspect_err); merge exit $code: $(cat err)"
  fi
done
cp r1.h5.orig r1.h5; rm -f m.h5
"$wedge" inspect r1.h5 >/dev/null 2>err && "$wedge" merge r0.h5 r1.h5 --out m.h5 >/dev/null 2>>err &&
  ok "--store rounds shards as written pass the checks and merge" || bad "--store rounds shards: $(cat err)"

# 4. An empty shard of a fixed plan (no runs fall to it) is not called precision mode.
"$wedge" run --runs 10 --shard 0/100 --out empty.h5 --quiet >/dev/null 2>&1
"$wedge" inspect empty.h5 >out 2>err
grep -q "^  runs 0 of 0 planned;" out && ! grep -q "precision mode" out &&
  ok "inspect: an empty shard says 0 of 0 planned" || bad "inspect of an empty shard: $(grep runs out) $(cat err)"

finish
