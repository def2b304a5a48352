#!/usr/bin/env bash
# Files of a build whose results arithmetic differs never mix with this build's runs: `--resume`
# of a partial file, and `wedge merge` of a shard, whose root attribute arithmetic_version is not
# this build's (edited with h5py), or absent (a file written before the attribute existed), are
# refused with exit code 3 and one line naming the file, both versions, both builds' git_commit
# and what to do; nothing is written. A file with this build's value resumes and merges as before,
# and a file without the attribute is still read by inspect (docs/output-format.md, "Root
# attributes"; docs/reliability.md).
#   test_arithmetic_version.sh WEDGE
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$(realpath "$1")
py=/usr/bin/python3
source "$here/common.sh"
setup

ours=$("$wedge" --version | sed -n 's/.*results arithmetic version \([0-9]*\);.*/\1/p')
commit=$("$wedge" --version | sed -n '1s/^wedge [^ ]* (git \([^,]*\),.*/\1/p')
[ -n "$ours" ] && [ -n "$commit" ] && ok "--version gives the arithmetic version ($ours) and git ($commit)" ||
  bad "--version: $("$wedge" --version | head -2)"
other=$((ours + 1))
theirs=v0.0.0-1-gabcdef0  # the other build's git_commit, as the edit below records it

# set_version FILE VALUE|none: the root attribute arithmetic_version set to VALUE (uint64), or
# removed, and git_commit set to the other build's.
set_version() {
  "$py" - "$@" "$theirs" <<'PY'
import sys, h5py, numpy as np
path, value, commit = sys.argv[1], sys.argv[2], sys.argv[3]
with h5py.File(path, "r+") as f:
    if value == "none":
        del f.attrs["arithmetic_version"]
    else:
        f.attrs.modify("arithmetic_version", np.uint64(int(value)))
    f.attrs["git_commit"] = commit
PY
}
attr() { "$py" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r').attrs.get('arithmetic_version'))" "$1"; }

# refused WHAT LINE -- command...: exit 3, stderr exactly LINE, nothing on stdout.
refused() {
  local what=$1 line=$2; shift 3
  "$@" >out 2>err; local code=$?
  if [ $code -eq 3 ] && [ "$(cat err)" = "$line" ] && [ ! -s out ]; then
    ok "$what"
  else
    bad "$what: exit $code: $(head -c 800 err)"
  fi
}

# 1. Every file records this build's version.
"$wedge" run --runs 200000 --seed 5 --out full.h5 --quiet >/dev/null 2>&1 || bad "uninterrupted run"
[ "$(attr full.h5)" = "$ours" ] && ok "a results file records arithmetic_version $ours" ||
  bad "full.h5: arithmetic_version $(attr full.h5)"

# 2. --resume.
"$wedge" run --runs 200000 --seed 5 --out p.h5 --quiet --test-stop-after-blocks 2 >/dev/null 2>&1
[ -f p.h5.partial ] && ok "a partial file to resume" || bad "no partial file"
cp p.h5.partial pristine.partial
done=$(runs_done p.h5.partial)
set_version p.h5.partial "$other"
sum=$(md5sum <p.h5.partial)
refused "--resume of a partial of another arithmetic version" \
  "error: --resume: p.h5.partial was written by a build whose results arithmetic differs (arithmetic_version $other, git $theirs) from this build's (arithmetic_version $ours, git $commit): their runs differ in their last digits and would mix silently; start the run over with this build (--force), or resume it with the build that wrote it (git $theirs)" \
  -- "$wedge" run --runs 200000 --seed 5 --out p.h5 --resume
[ "$(md5sum <p.h5.partial)" = "$sum" ] && [ ! -e p.h5 ] && ok "the refused partial is left as it was" ||
  bad "the refused partial changed, or p.h5 appeared"
# inspect's advice is what --resume does (one check, experiments::resume_refusal): not "continue
# with --resume" but the refusal itself, word for word; --json gives it as resume_refusal, and
# wedge.open's partial error gives it instead of a resume command.
advice_matches() {  # advice_matches WHAT: p.h5.partial as --resume refuses it (its message in err)
  local refusal; refusal=$(sed 's/^error: //' err)
  "$wedge" inspect p.h5.partial >iout 2>/dev/null
  "$wedge" inspect p.h5.partial --json 2>/dev/null |
    "$py" -c "import json,sys; print(json.load(sys.stdin)['resume_refusal'])" >ijson
  PYTHONPATH="$here/../../python" "$py" - p.h5.partial >iopen 2>&1 <<'PY'
import sys, wedge
try:
    wedge.open(sys.argv[1])
except wedge.ResultsPartialError as err:
    print(err.resume_command)
    print(err)
PY
  if head -1 iout | grep -q "PARTIAL (interrupted; this build's --resume refuses it, as the next line says)$" &&
    [ "$(sed -n 2p iout)" = "  $refusal" ] && [ "$(cat ijson)" = "$refusal" ] &&
    [ "$(head -1 iopen)" = "None" ] && grep -qF "this build cannot resume it ($refusal)" iopen &&
    ! grep -q "continue with --resume" iout; then
    ok "$1: inspect, inspect --json and wedge.open give --resume's refusal as their advice"
  else
    bad "$1: inspect's advice differs from --resume: $(head -2 iout) / json: $(cat ijson) / open: $(cat iopen)"
  fi
}
advice_matches "a partial of another arithmetic version"
set_version p.h5.partial none
refused "--resume of a partial written before the attribute existed" \
  "error: --resume: p.h5.partial was written by a build (git $theirs) that did not record its results arithmetic version, so it cannot be proven to compute runs as this build (arithmetic_version $ours, git $commit) does: their results may differ in their last digits and would mix silently; start the run over with this build (--force), or resume it with the build that wrote it (git $theirs)" \
  -- "$wedge" run --runs 200000 --seed 5 --out p.h5 --resume
advice_matches "a partial written before the attribute existed"
"$wedge" inspect p.h5.partial >out 2>err && grep -q "arithmetic_version not recorded" out &&
  ok "inspect still reads a file without the attribute" || bad "inspect without the attribute: $(cat err)"
"$wedge" inspect p.h5.partial --json 2>/dev/null | grep -q '"arithmetic_version": null' &&
  ok "inspect --json: arithmetic_version null" || bad "inspect --json without the attribute"
cp pristine.partial p.h5.partial
"$wedge" inspect p.h5.partial >iout 2>/dev/null
"$wedge" inspect p.h5.partial --json 2>/dev/null | grep -q '"resume_refusal": null' &&
  head -1 iout | grep -q "PARTIAL (interrupted; continue with --resume)$" &&
  ok "inspect advises --resume for a partial of this build's version" || bad "inspect of a resumable partial: $(head -1 iout)"
"$wedge" run --runs 200000 --seed 5 --out p.h5 --resume >/dev/null 2>err; code=$?
[ $code -eq 0 ] && resumed err p.h5.partial "$done" && same full.h5 p.h5 &&
  ok "a partial of this build's version resumes ($done runs kept) and equals the uninterrupted run" ||
  bad "resume with the matching version: exit $code: $(head -c 400 err)"

# 3. wedge merge.
"$wedge" run --runs 4000 --shard 0/2 --out s0.h5 --quiet >/dev/null 2>&1
"$wedge" run --runs 4000 --shard 1/2 --out s1.h5 --quiet >/dev/null 2>&1
cp s1.h5 s1.orig
set_version s1.h5 "$other"
refused "merge of a shard of another arithmetic version" \
  "error: merge: s1.h5 was written by a build whose results arithmetic differs (arithmetic_version $other, git $theirs) from this build's (arithmetic_version $ours, git $commit): their runs differ in their last digits and would mix silently; rerun that shard with this build, or merge with the build that wrote it (git $theirs)" \
  -- "$wedge" merge s0.h5 s1.h5 --out m.h5
[ ! -e m.h5 ] && [ ! -e m.h5.partial ] && ok "the refused merge writes nothing" || bad "the refused merge left a file"
set_version s1.h5 none
refused "merge of a shard written before the attribute existed" \
  "error: merge: s1.h5 was written by a build (git $theirs) that did not record its results arithmetic version, so it cannot be proven to compute runs as this build (arithmetic_version $ours, git $commit) does: their results may differ in their last digits and would mix silently; rerun that shard with this build, or merge with the build that wrote it (git $theirs)" \
  -- "$wedge" merge s0.h5 s1.h5 --out m.h5
cp s1.orig s1.h5
"$wedge" run --runs 4000 --out whole.h5 --quiet >/dev/null 2>&1
"$wedge" merge s0.h5 s1.h5 --out m.h5 >/dev/null 2>err && same whole.h5 m.h5 && [ "$(attr m.h5)" = "$ours" ] &&
  ok "shards of this build's version merge as before (equal to one process; the merged file records $ours)" ||
  bad "merge with the matching version: $(head -c 400 err)"

# 4. inspect --json's resume_refusal names why --resume will not continue any partial, not only
# the ones resume_refusal checks: an interrupted precision-mode run (its text line says "cannot be
# resumed yet"; resume_refusal was null for it).
"$wedge" run --precision 0.002 --seed 5 --out pp.h5 --quiet --test-stop-after-blocks 2 >/dev/null 2>&1
[ -e pp.h5.partial ] && "$wedge" inspect pp.h5.partial >iout 2>/dev/null &&
  "$wedge" inspect pp.h5.partial --json 2>/dev/null |
  "$py" -c "import json,sys; print(json.load(sys.stdin)['resume_refusal'])" >ijson &&
  head -1 iout | grep -q 'precision-mode run, which cannot be resumed yet' &&
  grep -q '^an interrupted precision-mode run, which --resume cannot continue yet' ijson &&
  ok "inspect --json: a precision-mode partial's resume_refusal says --resume cannot continue it" ||
  bad "inspect of a precision-mode partial: $(head -1 iout 2>/dev/null) / json: $(cat ijson 2>/dev/null)"
"$wedge" run --precision 0.002 --seed 5 --out pp.h5 --resume >/dev/null 2>err; code=$?
# Exit 3, as --resume's other refusals of the file to continue (README, "Exit codes"; ux10: it
# was 2, bad input), one line naming the partial and what to do.
[ $code -eq 3 ] && [ -e pp.h5.partial ] && [ "$(wc -l < err)" -eq 1 ] &&
  grep -q '^error: --resume: pp.h5.partial is not continued: --resume does not support precision mode (--precision) yet; rerun with --force to start over$' err &&
  ok "--resume of it is refused (exit 3, as --resume's other refusals), as inspect says: $(cat err)" ||
  bad "--resume of a precision-mode partial: exit $code: $(cat err)"
rm -f none.h5*
"$wedge" run --precision 0.002 --seed 5 --out none.h5 --resume >/dev/null 2>err; code=$?
[ $code -eq 3 ] && grep -q '^error: --resume: no partial file none.h5.partial to continue$' err &&
  ok "--resume in precision mode with no partial: exit 3, as without precision mode" ||
  bad "--resume in precision mode, no partial: exit $code: $(cat err)"

# 5. A partial whose stored experiment was edited (run.runs 200000 -> 100 with h5py; ux10: inspect
# advised --resume, which then refused every command): inspect and --json name --resume's own
# refusal, and --resume, with the file's --runs or the experiment's, gives it word for word.
cp pristine.partial ed.h5.partial
"$py" - ed.h5.partial <<'PY' || bad "editing the stored experiment"
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    text = f.attrs["experiment"]
    text = text.decode() if isinstance(text, bytes) else text
    assert "runs = 200000" in text, text
    f.attrs.modify("experiment", text.replace("runs = 200000", "runs = 100"))
PY
line="--resume: ed.h5.partial contradicts itself: its stored experiment says run.runs = 100, but its attribute replicates is 200000 (the file was edited, or is damaged), so --resume refuses it with any options; rerun with --force to start over"
"$wedge" inspect ed.h5.partial >iout 2>/dev/null; icode=$?
"$wedge" inspect ed.h5.partial --json 2>/dev/null |
  "$py" -c "import json,sys; print(json.load(sys.stdin)['resume_refusal'])" >ijson
[ $icode -eq 0 ] && ! grep -q "continue with --resume" iout && grep -qF -- "$line" iout && [ "$(cat ijson)" = "$line" ] &&
  ok "inspect of an edited partial gives --resume's refusal, not --resume" ||
  bad "inspect of an edited partial: exit $icode: $(cat iout) / json: $(cat ijson)"
for runs in 200000 100; do
  refused "--resume --runs $runs of it refuses it as inspect says" "error: $line" -- \
    "$wedge" run --runs $runs --seed 5 --out ed.h5 --resume
done

finish
