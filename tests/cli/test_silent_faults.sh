#!/usr/bin/env bash
# Faults a fresh-clone check found, each a kind: validate lists every problem, CSV files
# included (file, line and column; a missing CSV names where the experiment names it); a missed
# precision target is said even with --quiet and recorded in --json and the file; flags that
# would do nothing are refused; merge and inspect speak wedge's words for a missing file (and
# inspect of FILE while only FILE.partial exists reads the partial); no subcommand is an error;
# "did you mean" suggests close words only.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$here/common.sh"
run() { "$@" >"$dir/out" 2>"$dir/err"; code=$?; }
# check DESCRIPTION CODE REGEX: the last command's exit code, and its stderr matches REGEX.
check() {
  if [ "$code" -eq "$2" ] && grep -aEq -- "$3" "$dir/err"; then ok "$1"; else bad "$1: exit $code: $(head -c 600 "$dir/err")"; fi
}

# 1. validate lists every problem, the CSV's too, with line and column.
printf 'dulles.tact,negotiation.rounds\n0.1,4\nabc,6\n0.2,1.7\n0.3,5\n' > "$dir/pts.csv"
printf '[sweep]\ndesign = "list"\ncsv = "pts.csv"\n' > "$dir/list.toml"
run "$wedge" validate "$dir/list.toml"
check "validate: a bad value on CSV line 3 with its column" 2 "^error: .*pts.csv:3:1: dulles.tact = 'abc': not a number"
check "validate: and the bad value on line 4 too, at column 5" 2 "^error: .*pts.csv:4:5: negotiation.rounds: 1.7 is not an integer"
[ "$(grep -c '^error: ' "$dir/err")" -eq 2 ] && ok "validate: exactly the two CSV problems" || bad "validate CSV problems: $(cat "$dir/err")"
printf '[run]\nruns = 0\n[dulles]\ntcat = 0.5\n[sweep]\ndesign = "list"\ncsv = "pts.csv"\n' > "$dir/both.toml"
run "$wedge" validate "$dir/both.toml"
check "validate: the TOML's problems" 2 "^error: .*both.toml:2:.*runs"
check "validate: ... and the CSV's, checked although the TOML has problems" 2 "^error: .*pts.csv:4:5: negotiation.rounds"
[ "$(grep -c '^error: ' "$dir/err")" -eq 4 ] && ok "validate: four problems in two files" || bad "validate two files: $(cat "$dir/err")"
printf '[sweep]\ndesign = "list"\ncsv = "missing.csv"\n' > "$dir/missing.toml"
run "$wedge" validate "$dir/missing.toml"
check "a missing CSV names the experiment file and line that name it" 2 "^error: .*missing.toml:3:7: sweep.csv: .*missing.csv: cannot open"
run "$wedge" run "$dir/list.toml" --runs 10
check "run stops at the first CSV problem, in line order" 2 "^error: .*pts.csv:3:1: dulles.tact"

# 2. A missed precision target is said, even with --quiet, and recorded.
run "$wedge" run --precision 0.001 --max-runs 5000 --quiet --json --out "$dir/prec.h5"
check "a missed precision target: exit 0 and a warning despite --quiet" 0 "^warning: precision 0.001 not reached at every point within --max-runs 5000 \(widest 95% half-width 0\.0[0-9]+\)"
grep -q '^{"precision": {"target": 0.001, "max_runs": 5000, "reached": false, "widest_half_width": 0\.0[0-9]*}, "seed": 1,' "$dir/out" \
  && ok "--json records the missed target" || bad "--json precision: $(head -c 300 "$dir/out")"
h5dump -a /precision_reached "$dir/prec.h5" 2>/dev/null | grep -q "(0): 0" && ok "the file's precision_reached = 0" || bad "precision_reached attribute"
h5dump -a /precision_widest_half_width "$dir/prec.h5" >/dev/null 2>&1 && ok "the file's precision_widest_half_width" || bad "precision_widest_half_width"
run "$wedge" run --precision 0.05 --quiet --json
grep -q '"reached": true' "$dir/out" && [ ! -s "$dir/err" ] && ok "a reached target: recorded, no warning" || bad "reached target: $(cat "$dir/err")"
run "$wedge" run --precision 0.02 --max-runs 5000 --json --quiet --runs 1000
[ "$code" -eq 0 ] && ok "--runs (the first batch) within --max-runs is accepted" || bad "first batch within cap: $(cat "$dir/err")"
# --runs N in precision mode is rounded up to whole blocks of 2,048: said, not silent; the number
# said is the runs a point got (a target met at the first batch stops there).
run "$wedge" run --precision 0.2 --runs 100 --json
check "precision mode with --runs 100: a note says each point runs 2048 first" 0 "^note: --runs 100 is precision mode's first batch, which ends on whole blocks of 2048 runs: each point runs 2048 in its first batch$"
grep -q '"runs": 2048' "$dir/out" && ok "and each point ran 2048" || bad "runs of the first batch: $(head -c 300 "$dir/out")"
run "$wedge" run --precision 0.2 --runs 2500 --max-runs 3000 --json
check "... at most --max-runs, said" 0 "^note: --runs 2500 .*each point runs 3000 in its first batch \(at most --max-runs 3000\)$"
grep -q '"runs": 3000' "$dir/out" && ok "and each point ran 3000" || bad "runs of a capped first batch: $(head -c 300 "$dir/out")"
run "$wedge" run --precision 0.2 --runs 4096 --json
[ "$code" -eq 0 ] && ! grep -q "^note:" "$dir/err" && ok "no note when --runs is whole blocks" || bad "note for 4096: $(cat "$dir/err")"
run "$wedge" run --precision 0.2 --runs 100 --quiet
[ "$code" -eq 0 ] && [ ! -s "$dir/err" ] && ok "--quiet: no note" || bad "--quiet note: $(cat "$dir/err")"
printf '[run]\nprecision = 0.2\n' > "$dir/precise.toml"
run "$wedge" validate "$dir/precise.toml" --runs 100
grep -q "precision target 0.2: a first batch of 2048 replicates per point" "$dir/out" && grep -q "^note: --runs 100 is precision mode's first batch" "$dir/err" &&
  ok "validate says the first batch as run does" || bad "validate first batch: $(cat "$dir/out" "$dir/err")"

# 3. Flags that would do nothing are refused.
run "$wedge" run --runs 10 --out ""
check "--out '' is refused" 2 "^error: --out: an empty value"
[ -z "$(ls -A "$dir" | grep -v -e '^out$' -e '^err$' -e '\.csv$' -e '\.toml$' -e '^prec\.h5$')" ] && ok "--out '' writes nothing" || bad "files: $(ls "$dir")"
run "$wedge" run ""
check "an empty experiment file name is refused (not the baseline)" 2 "^error: experiment: an empty value"
run "$wedge" run --runs 10 --shard ""
check "--shard '' is refused" 2 "^error: --shard: an empty value"
run "$wedge" run --runs 10 --max-runs 100
check "--max-runs without precision mode is refused" 2 "^error: --max-runs applies to precision mode only"
run "$wedge" run --runs 10 --precision-outcomes format
check "--precision-outcomes without precision mode is refused" 2 "^error: --precision-outcomes applies to precision mode only"
run "$wedge" run --precision 0.01 --runs 50000 --max-runs 1000
check "--runs above --max-runs in precision mode is refused" 2 "^error: --runs 50000 \(the first batch in precision mode\) is above --max-runs 1000"
run "$wedge" run --runs 10 --compression deflate
check "--compression without --out is refused" 2 "^error: --compression applies to the per-run records of a results file"
run "$wedge" run --runs 10 --compression deflate --store summary --out "$dir/nothing.h5"
check "--compression with --store summary is refused" 2 "^error: --compression applies to per-run records, which --store summary"
run "$wedge" run --precision 0.5 --max-runs 10000001 --compression deflate --out "$dir/auto.h5" --quiet
check "--compression when the default --store resolves to summaries is refused" 2 "^error: --compression deflate applies to per-run records, which this run does not keep: 10000001 runs"
[ ! -e "$dir/auto.h5" ] && [ ! -e "$dir/auto.h5.partial" ] && ok "and nothing is written" || bad "a file was written: $(ls "$dir"/auto.h5* 2>&1)"
# Every command's flags: --crn where nothing depends on it, the test seams of the results file
# without one, the refinement's settings without a refinement stage.
run "$wedge" validate "$here/../../experiments/scenarios/baseline.toml" --crn
check "validate --crn is refused (validate runs nothing)" 2 "^error: --crn changes nothing here: validate runs nothing"
# ... and neither command lists it in its help (ux10: validate --help listed --crn).
for cmd in validate check; do
  "$wedge" $cmd --help >"$dir/out" 2>&1
  grep -q -- "--set" "$dir/out" && ! grep -q -- "--crn" "$dir/out" && ok "$cmd --help does not list --crn, which it refuses" ||
    bad "$cmd --help: $(grep -- --crn "$dir/out")"
done
run "$wedge" check --runs 100 --crn
check "check --crn is refused (a check always pairs its scenarios)" 2 "^error: --crn changes nothing here: wedge check always runs its scenarios on common random numbers"
for seam in "--checkpoint-seconds 0" "--test-stop-after-checkpoints 1" "--test-crash-at slot_named:1" \
            "--test-fail-at slot_named:1" "--test-disk-full-at 1000" "--test-io-error-at 1000" "--test-io-error-at-write 3"; do
  run "$wedge" run --runs 10 $seam
  check "$seam without --out is refused" 2 "^error: ${seam%% *} applies to the results file, and there is none: add --out FILE.h5$"
done
run "$wedge" run --runs 10 --test-fail-rank 0
check "--test-fail-rank outside mpirun is refused" 2 "^error: --test-fail-rank applies under mpirun with 2 or more ranks only"
calibration="$here/../../experiments/calibrate/history_1956.toml"
for setting in "--refine-points 8" "--defensive 0.5"; do
  run "$wedge" calibrate "$calibration" --points 8 --runs 10 --refine 0 $setting
  check "calibrate $setting with --refine 0 is refused" 2 "^error: ${setting%% *} applies to the refinement stages, and there are none \(refine is 0\)"
done
# A comma-separated option refuses an empty item, naming the option: --precision-outcomes (split
# by wedge, not CLI11, which dropped it), --where and --history (their parsers).
for value in "format," ",format" "format,,alliance" "," ""; do
  run "$wedge" run --precision 0.1 --precision-outcomes "$value" --quiet
  check "--precision-outcomes '$value' is refused" 2 "^error: --precision-outcomes '$value': an empty item"
done
run "$wedge" trace --where "format=treaty,"
check "--where with a trailing comma is refused" 2 "^error: --where 'format=treaty,': expected field=category"
run "$wedge" calibrate "$here/../../experiments/calibrate/history_1956.toml" --history "format=declaration,"
check "--history with a trailing comma is refused" 2 "^error: --history: 'format=declaration,': an empty element"
# ... and an item given twice, naming the option and the item (also across repeated options).
for value in "format,format" "format,alliance,format"; do
  run "$wedge" run --precision 0.1 --precision-outcomes "$value" --quiet
  check "--precision-outcomes '$value' is refused" 2 "^error: --precision-outcomes '$value': 'format' is given twice"
done
run "$wedge" run --precision 0.1 --precision-outcomes format --precision-outcomes alliance,format --quiet
check "--precision-outcomes repeated with one item twice is refused" 2 "^error: --precision-outcomes 'alliance,format': 'format' is given twice"
run "$wedge" trace --where "format=treaty,format=treaty"
check "--where with an item twice is refused" 2 "^error: --where: format is given twice"
run "$wedge" calibrate "$calibration" --history "format=declaration,okinawa=residual,format=declaration"
check "--history with a condition twice is refused" 2 "^error: --history: 'format=declaration,okinawa=residual,format=declaration': 'format=declaration' is given twice"
run "$wedge" calibrate "$calibration" --history "format=declaration|treaty|declaration"
check "--history with an alternative twice is refused" 2 "^error: --history: 'format=declaration\|treaty\|declaration': the alternative 'declaration' is given twice"
run "$wedge" run --runs 10 --set dulles.tact=0.1 --set dulles.tact=0.2
check "a key given twice by --set is refused, naming it" 2 "^error: --set dulles.tact=0.2: 'dulles.tact' is set twice \(also --set dulles.tact=0.1\)"
baseline="$here/../../experiments/scenarios/baseline.toml"
run "$wedge" compare "$baseline" "$baseline" --runs 1000 --quiet --set dulles.tact=0.5 --set-b dulles.tact=0.9
[ "$code" -eq 0 ] && ok "compare: --set-b still overrides --set" || bad "compare override: $(cat "$dir/err")"
run "$wedge" compare "$baseline" "$baseline" --runs 1000 --quiet --set-b dulles.tact=0.5 --set-b dulles.tact=0.9
check "compare: a key given twice by --set-b is refused" 2 "is set twice"
run "$wedge" validate "$dir/list.toml" --set dulles.backlash=0.1 --set " dulles.backlash =0.3"
check "validate refuses a key given twice by --set too" 2 "is set twice"

# 6. Missing files, no subcommand, suggestions, help.
# A missing required argument says what the command needs, with an example (not only CLI11's
# "parts is required"; ux10: not at all, in the usage line's words, "SHARD.h5...").
for cmd in "merge" "merge a.h5" "inspect" "compare a.toml" "validate" "calibrate"; do
  run "$wedge" $cmd
  name=${cmd%% *}
  if [ "$cmd" = merge ]; then required="^error: \`wedge merge\` needs SHARD.h5... (the shard files), and none was given$"
  elif [ "$cmd" = inspect ]; then required="^error: \`wedge inspect\` needs FILE.h5 (the results file), and none was given$"
  elif [ "$cmd" = "compare a.toml" ]; then required="^error: \`wedge compare\` needs B.toml (scenario B), and none was given$"
  elif [ "$cmd" = "merge a.h5" ]; then required="^error: --out is required$"
  else required="^error: \`wedge $name\` needs EXPERIMENT.toml (the experiment file), and none was given$"; fi
  if [ "$code" -eq 2 ] && grep -q "$required" "$dir/err" && ! grep -q "^error: [a-zA-Z]* is required" "$dir/err" && grep -q "^usage: wedge $name " "$dir/err" &&
    grep -q "^  wedge $name " "$dir/err" && grep -q "(\`wedge $name --help\` says more)$" "$dir/err" && [ ! -s "$dir/out" ]; then
    ok "wedge $cmd: what is required, the usage line and an example"
  else
    bad "wedge $cmd: exit $code: $(cat "$dir/err")"
  fi
done
run "$wedge" merge "$dir/nope.h5" --out "$dir/merged.h5"
check "merge of a missing file: wedge's words, exit 3" 3 "^error: .*nope.h5: no such file$"
grep -q "errno" "$dir/err" && bad "merge prints HDF5's text" || ok "no HDF5 text"
run "$wedge" inspect "$dir/nope.h5"
check "inspect of a missing file" 3 "^error: .*nope.h5: no such file$"
"$wedge" run --runs 100000 --seed 3 --out "$dir/cut.h5" --quiet --test-stop-after-blocks 2 >/dev/null 2>&1
run "$wedge" inspect "$dir/cut.h5"
grep -q "cut.h5.partial: PARTIAL" "$dir/out" && ok "inspect FILE while only FILE.partial exists reads the partial" || bad "inspect partial: $(cat "$dir/out" "$dir/err")"
run "$wedge" merge "$dir/cut.h5" --out "$dir/merged.h5"
check "merge of FILE while only FILE.partial exists says so" 3 "^error: .*cut.h5: no such file \(.*cut.h5.partial exists"
run "$wedge"
check "no subcommand: exit 2, the help on stderr" 2 "Exit codes: 0 success"
[ -s "$dir/out" ] && bad "no subcommand wrote to stdout" || ok "no subcommand: nothing on stdout"
printf '[sweep]\ndesign = "magic"\n[sweep.keys]\n"dulles.tact" = [0.1]\n' > "$dir/magic.toml"
run "$wedge" validate "$dir/magic.toml"
check "sweep.design = magic: no far-fetched suggestion" 2 "must be one of grid, lhs, sobol, saltelli, list$"
printf '[sweep]\ndesign = "gird"\n[sweep.keys]\n"dulles.tact" = [0.1]\n' > "$dir/gird.toml"
run "$wedge" validate "$dir/gird.toml"
check "sweep.design = gird: suggests grid" 2 "\(did you mean 'grid'\?\)$"
# A mistyped command or option gets the same suggestion (ux10: `wedge runn` got none).
run "$wedge" runn
check "wedge runn suggests run" 2 "^error: The following argument was not expected: runn \(did you mean 'run'\?\)$"
run "$wedge" insepct x.h5
check "wedge insepct suggests inspect" 2 "\(did you mean 'inspect'\?\)$"
run "$wedge" run --rnus 5
check "wedge run --rnus suggests --runs" 2 "^error: The following argument was not expected: --rnus \(did you mean '--runs'\?\)$"
run "$wedge" inspect x.h5 --jsno
check "inspect --jsno suggests --json" 2 "\(did you mean '--json'\?\)$"
run "$wedge" zzzzzz
check "a word far from every command gets no suggestion" 2 "^error: The following argument was not expected: zzzzzz$"
# Counts of one are singular (ux10: "1 threads", "1 points").
run "$wedge" run --runs 1 --threads 1 --out "$dir/one.h5"
[ $code -eq 0 ] && grep -q "^1 run in [0-9.]* s " "$dir/err" && grep -q "(1 run, seed 1)" "$dir/out" &&
  ok "--runs 1 says 1 run" || bad "--runs 1: exit $code: $(cat "$dir/out" "$dir/err" | head -c 600)"
run "$wedge" inspect "$dir/one.h5"
[ $code -eq 0 ] && grep -q " s on 1 thread (" "$dir/out" && ! grep -q "1 threads\|1 runs\|1 points" "$dir/out" &&
  ok "inspect of a 1-thread run says 1 thread" || bad "inspect of one.h5: exit $code: $(head -c 600 "$dir/out")"
run "$wedge" merge "$dir/one.h5" --out "$dir/one-merged.h5"
[ $code -eq 0 ] && grep -q "^merged 1 shard file into " "$dir/err" && ok "merge of one file says 1 shard file" ||
  bad "merge of one file: exit $code: $(cat "$dir/err")"
run "$wedge" run --runs 10 --set zzzzzz=1
check "an unknown key far from every key gets no suggestion" 2 "^error: unknown parameter 'zzzzzz'$"
"$wedge" run --help > "$dir/out" 2>&1
grep -q "default: the file's run.runs, else 1000000" "$dir/out" && ok "--runs help names the file's run.runs" || bad "--runs help"

# Every comma-separated list takes spaces around its items ("format, alliance" had been refused as
# ' alliance'): --precision-outcomes as --where and --history read theirs; an item of spaces only
# is still an empty item, and a spaced repeat is still a repeat.
"$wedge" run --runs 200 --precision 0.2 --precision-outcomes format,alliance --json --quiet >"$dir/tight.json" 2>/dev/null
for value in "format, alliance" " format ,	alliance " "format,alliance "; do
  run "$wedge" run --runs 200 --precision 0.2 --precision-outcomes "$value" --json --quiet
  [ $code -eq 0 ] && cmp -s "$dir/out" "$dir/tight.json" && ok "--precision-outcomes '$value' is format,alliance" ||
    bad "--precision-outcomes '$value': exit $code: $(head -c 300 "$dir/err")"
done
run "$wedge" run --precision 0.1 --precision-outcomes "format, ,alliance" --quiet
check "--precision-outcomes 'format, ,alliance' is refused" 2 "^error: --precision-outcomes 'format, ,alliance': an empty item"
run "$wedge" run --precision 0.1 --precision-outcomes "format, format" --quiet
check "--precision-outcomes 'format, format' is refused" 2 "^error: --precision-outcomes 'format, format': 'format' is given twice"
run "$wedge" trace --where "format=treaty, alliance=strained"
[ $code -eq 0 ] && grep -q "the first replicate with format=treaty, alliance=strained" "$dir/out" &&
  ok "--where 'format=treaty, alliance=strained' is read" || bad "--where with spaces: exit $code: $(head -c 300 "$dir/err")"
run "$wedge" calibrate "$calibration" --history "format=declaration, okinawa=residual" --points 8 --runs 10 --refine 0 --json
[ $code -eq 0 ] && ok "--history 'format=declaration, okinawa=residual' is read" ||
  bad "--history with spaces: exit $code: $(head -c 300 "$dir/err")"

# An output that cannot be created is explained in the user's terms, naming the output, its
# directory and why, for every command that writes one (run --out, merge --out); /proc/version
# --force had said only "cannot create the lock file: No such file or directory". Root may write
# anywhere, so the refusal comes when the lock file is created; others are refused before.
"$wedge" run --runs 100 --shard 0/2 --out "$dir/p0.h5" --quiet >/dev/null 2>&1
"$wedge" run --runs 100 --shard 1/2 --out "$dir/p1.h5" --quiet >/dev/null 2>&1
for target in "/proc/version --force" "/proc/wedge-test-out.h5"; do
  out=${target%% *}
  if [ "$(id -u)" -eq 0 ]; then
    want="^error: $out: cannot create files in directory /proc: its file system does not accept new files \(a virtual file system such as /proc or /sys\?\); creating $out.lock: No such file or directory$"
  else
    want="^error: --out $out: directory /proc is not writable$"
  fi
  # shellcheck disable=SC2086  # the target carries --force as a second word
  run "$wedge" run --runs 10 --out $target
  check "run --out $target: the output, its directory and why" 3 "$want"
  # shellcheck disable=SC2086
  run "$wedge" merge "$dir/p0.h5" "$dir/p1.h5" --out $target
  check "merge --out $target: the output, its directory and why" 3 "$want"
done
finish
