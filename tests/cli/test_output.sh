#!/usr/bin/env bash
# Results files from the command line: never overwrite without --force, .partial until complete,
# SIGINT/SIGTERM (at a frozen, unmissable moment) then --resume equal to an uninterrupted run bit for bit, mismatched
# resumes refused, unwritable targets refused, h5dump-able output, inspect of bad files.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$here/common.sh"
expect_code() {  # expect_code CODE DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  "$@" >"$dir/out" 2>"$dir/err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok "$what"; else bad "$what: exit $got, expected $want: $(cat "$dir/err")"; fi
}

N=10000000  # enough work to interrupt mid-run
"$wedge" run --runs $N --seed 5 --out "$dir/full.h5" --quiet >/dev/null || bad "uninterrupted run"
[ -f "$dir/full.h5" ] && [ ! -e "$dir/full.h5.partial" ] && ok "a complete run leaves NAME.h5 and no .partial" || bad "complete run files"
h5dump -H "$dir/full.h5" >/dev/null 2>&1 && ok "h5dump reads the file" || bad "h5dump"

before=$(stat -c %Y%s "$dir/full.h5")
expect_code 3 "an existing file is not overwritten without --force" -- "$wedge" run --runs 100 --out "$dir/full.h5"
grep -q "^error: .*full.h5 exists; use --force" "$dir/err" && ok "the refusal says --force" || bad "refusal message: $(cat "$dir/err")"
[ "$(stat -c %Y%s "$dir/full.h5")" = "$before" ] && ok "the refused file is untouched" || bad "file changed"
cp "$dir/full.h5" "$dir/forced.h5"
expect_code 0 "--force overwrites" -- "$wedge" run --runs 1000 --seed 3 --out "$dir/forced.h5" --force --quiet
"$wedge" inspect "$dir/forced.h5" | grep -q "runs 1000 of 1000 planned" && ok "the forced file holds the new run" || bad "forced content"

# Real signals at a moment that cannot be missed: the writer is frozen (SIGSTOP) once its partial
# holds a named checkpoint, checked to be unfinished (else the test fails: nothing would be tested),
# sent the signal and continued. SIGKILL is covered at every step of the writer by
# test_faults_exact.sh; here INT and TERM take the real handler. No --force fallback, no skip.
for sig in INT TERM; do
  rm -f "$dir/cut.h5" "$dir/cut.h5.partial"
  "$wedge" run --runs $N --seed 5 --out "$dir/cut.h5" --quiet --checkpoint-seconds 0.05 >/dev/null 2>"$dir/err" &
  pid=$!
  for _ in $(seq 1 3000); do [ -s "$dir/cut.h5.partial" ] && break; sleep 0.01; done
  sleep 0.2  # not a race: only lets a first checkpoint be named (the resume line below checks it)
  kill -STOP $pid
  [ ! -e "$dir/cut.h5" ] && ok "SIG$sig: the run is frozen before it finished" || bad "SIG$sig: the run finished before the signal (more runs needed)"
  kill -s $sig $pid; kill -CONT $pid
  wait $pid; code=$?
  [ $code -eq 130 ] && ok "SIG$sig exits 130" || bad "SIG$sig exit $code"
  [ -f "$dir/cut.h5.partial" ] && [ ! -e "$dir/cut.h5" ] && ok "SIG$sig leaves only NAME.h5.partial" || bad "SIG$sig partial missing"
  grep -q "continue with --resume" "$dir/err" && ok "SIG$sig says how to resume" || bad "SIG$sig message: $(cat "$dir/err")"
  "$wedge" inspect "$dir/cut.h5.partial" | grep -q "PARTIAL" && ok "inspect reports the partial file" || bad "inspect partial"
  done=$(runs_done "$dir/cut.h5.partial")
  "$wedge" run --runs $N --seed 5 --out "$dir/cut.h5" --resume >/dev/null 2>"$dir/err"; code=$?
  [ $code -eq 0 ] && resumed "$dir/err" "$dir/cut.h5.partial" "$done" \
    && ok "SIG$sig then --resume continues from the partial: $(grep '^resuming' "$dir/err" | sed 's|.*/||')" \
    || bad "SIG$sig resume exit $code: $(head -c 300 "$dir/err")"
  same "$dir/full.h5" "$dir/cut.h5" && ok "SIG$sig then --resume equals the uninterrupted run bit for bit" || bad "SIG$sig resumed results differ"
done

rm -f "$dir/m.h5"*
"$wedge" run --runs $N --seed 5 --out "$dir/m.h5" --quiet --test-stop-after-blocks 3 >/dev/null 2>&1
[ -f "$dir/m.h5.partial" ] && ok "a partial file to resume (--test-stop-after-blocks)" || bad "no partial file from --test-stop-after-blocks"
{
  expect_code 3 "resume with another seed is refused" -- "$wedge" run --runs $N --seed 6 --out "$dir/m.h5" --resume
  grep -q "was run with seed 5, not 6" "$dir/err" && ok "the refusal names both seeds" || bad "seed message: $(cat "$dir/err")"
  expect_code 3 "resume of another experiment is refused" -- "$wedge" run --runs $N --seed 5 --set dulles.tact=0.9 --set negotiation.rounds=7 --out "$dir/m.h5" --resume
  # The refusal names each key that differs, the file's value and this run's.
  grep -qF "different experiment (the file's is in its 'experiment' attribute); the keys that differ: dulles.tact: 0.3 in the file, 0.9 in this run; negotiation.rounds: 8 in the file, 7 in this run; resume with the file's experiment" "$dir/err" &&
    ok "the refusal names the keys that differ, with both values" || bad "experiment message: $(cat "$dir/err")"
  expect_code 3 "a new run refuses to clobber a partial file" -- "$wedge" run --runs 10 --out "$dir/m.h5"
}
expect_code 3 "resume without a partial file" -- "$wedge" run --runs 10 --out "$dir/none.h5" --resume
expect_code 3 "resume of a complete file" -- "$wedge" run --runs $N --seed 5 --out "$dir/full.h5" --resume

expect_code 3 "output in a missing directory" -- "$wedge" run --runs 10 --out "$dir/no/such/dir/x.h5"
expect_code 3 "output path that is a directory" -- "$wedge" run --runs 10 --out "$dir"
# (A read-only directory, also when the tests run as root: test_readonly.sh.)
expect_code 3 "output in an unwritable file system (/proc)" -- "$wedge" run --runs 10 --out /proc/wedge-test.h5
[ ! -e "$dir/no" ] && [ ! -e /proc/wedge-test.h5 ] && [ ! -e /proc/wedge-test.h5.partial ] \
  && ok "no file is left behind by refused runs" || bad "file left"
expect_code 2 "an invalid experiment creates no output file" -- "$wedge" run --set dulles.tact=2 --out "$dir/invalid.h5"
[ ! -e "$dir/invalid.h5" ] && [ ! -e "$dir/invalid.h5.partial" ] && ok "nothing written for an invalid experiment" || bad "invalid left a file"

printf 'not hdf5' > "$dir/text.h5"
expect_code 3 "inspect of a non-HDF5 file" -- "$wedge" inspect "$dir/text.h5"
grep -q "not an HDF5 file" "$dir/err" && ok "inspect says it is not HDF5" || bad "inspect text: $(cat "$dir/err")"
head -c 4000 "$dir/full.h5" > "$dir/truncated.h5"
expect_code 3 "inspect of a truncated file" -- "$wedge" inspect "$dir/truncated.h5"
expect_code 3 "inspect of a missing file" -- "$wedge" inspect "$dir/nothere.h5"
"$wedge" inspect "$dir/full.h5" --json | grep -q '^{"path": ".*full.h5", "complete": true, "runs_done": 10000000' && ok "inspect --json" || bad "inspect --json"

# Test seams (docs/design.md, "Test seams"): deterministic stops, an injected write failure and a
# crash at an exact step of the checkpoint protocol; each leaves a .partial that --resume finishes.
S=20000
"$wedge" run --runs $S --seed 5 --out "$dir/seam-whole.h5" --quiet >/dev/null
for seam in "--test-stop-after-blocks 3:130" "--test-stop-after-checkpoints 2 --wave 1 --checkpoint-seconds 0:130" \
            "--test-fail-at slot_written:2 --wave 1 --checkpoint-seconds 0:3" \
            "--test-crash-at slot_synced:2 --wave 1 --checkpoint-seconds 0:137"; do
  args=${seam%:*}; want=${seam##*:}
  rm -f "$dir/seam.h5"*
  "$wedge" run --runs $S --seed 5 --out "$dir/seam.h5" --quiet $args >/dev/null 2>"$dir/err"; code=$?
  if [ $code -eq $want ] && [ -f "$dir/seam.h5.partial" ] && [ ! -e "$dir/seam.h5" ]; then ok "$args: exit $want, .partial kept"
  else bad "$args: exit $code (expected $want): $(cat "$dir/err")"; fi
  done=$(runs_done "$dir/seam.h5.partial")
  if "$wedge" run --runs $S --seed 5 --out "$dir/seam.h5" --resume >/dev/null 2>"$dir/err" \
     && resumed "$dir/err" "$dir/seam.h5.partial" "$done" && same "$dir/seam-whole.h5" "$dir/seam.h5"; then
    ok "$args then --resume from the partial's $done runs equals the uninterrupted run"
  else bad "$args then --resume: $(cat "$dir/err")"; fi
done
grep -q "injected write failure at slot_written" <("$wedge" run --runs $S --out "$dir/seam2.h5" --test-fail-at slot_written --checkpoint-seconds 0 2>&1) \
  && ok "an injected write failure is reported as one" || bad "injected failure message"

finish
