#!/usr/bin/env bash
# Values in, through the command line: the largest seed round-trips through a results file,
# estimates match the files written, a plan that does not fit is refused before it is built,
# `validate` lists every problem, SIGINT stops a long JSON document (exit 130), and a file's own
# design points are the ones shown and resumed.
set -u
wedge=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAILED: $*"; failed=1; }

# 1. Seeds: [0, 2^63 - 1] everywhere; the largest is written and read back.
max=9223372036854775807
"$wedge" run --seed $max --runs 100 --out "$tmp/seed.h5" --quiet >/dev/null 2>"$tmp/err" || fail "seed $max refused: $(cat "$tmp/err")"
"$wedge" inspect "$tmp/seed.h5" --json >"$tmp/out" 2>"$tmp/err" || fail "inspect of a seed-$max file: $(cat "$tmp/err")"
grep -q "\"seed\": $max, \"points\"" "$tmp/out" || fail "inspect does not show seed $max"
"$wedge" run --seed 9223372036854775808 --runs 100 --out "$tmp/big.h5" --quiet >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && [ ! -e "$tmp/big.h5" ] && [ ! -e "$tmp/big.h5.partial" ] || fail "seed 2^63 not refused: $(cat "$tmp/err")"

# 2. The estimates `validate` prints are within 15% of the files runs write.
grid() {  # grid FILE POINTS_A POINTS_B RUNS
  printf '[run]\nruns = %s\n[sweep]\ndesign = "grid"\n[sweep.keys]\n"dulles.tact" = { min = 0.0, max = 1.0, steps = %s }\n"dulles.backlash" = { min = 0.0, max = 0.3, steps = %s }\n' "$4" "$2" "$3" > "$1"
}
bytes() {  # "12.3 MB" -> bytes
  awk -v n="$1" -v u="$2" 'BEGIN { m = u == "KB" ? 1e3 : u == "MB" ? 1e6 : u == "GB" ? 1e9 : 1; printf "%d", n * m }'
}
within() {  # within ESTIMATE ACTUAL WHAT
  awk -v e="$1" -v a="$2" 'BEGIN { exit !(e > 0.85 * a && e < 1.15 * a) }' || fail "$3: estimate $1 bytes, file $2 bytes"
}
grid "$tmp/g1000.toml" 40 25 1
grid "$tmp/g16.toml" 4 4 20000
for g in g1000 g16; do
  line=$("$wedge" validate "$tmp/$g.toml" | grep '^estimates')
  read -r rec_n rec_u sum_n sum_u rmin_n rmin_u rmax_n rmax_u < <(sed -nE 's/.*results file about ([0-9.]+) ([KMG]?B) with per-run records, ([0-9.]+) ([KMG]?B) with --store summary, ([0-9.]+) ([KMG]?B) to ([0-9.]+) ([KMG]?B) with --store rounds .*/\1 \2 \3 \4 \5 \6 \7 \8/p' <<<"$line")
  [ -n "$rmax_u" ] || fail "validate gives no --store rounds estimate: $line"
  "$wedge" run "$tmp/$g.toml" --out "$tmp/$g-runs.h5" --store runs --quiet --threads 2 >/dev/null || fail "run $g"
  "$wedge" run "$tmp/$g.toml" --out "$tmp/$g-sum.h5" --store summary --quiet --threads 2 >/dev/null || fail "run $g"
  "$wedge" run "$tmp/$g.toml" --out "$tmp/$g-rounds.h5" --store rounds --quiet --threads 2 >/dev/null || fail "run $g"
  within "$(bytes "$rec_n" "$rec_u")" "$(stat -c %s "$tmp/$g-runs.h5")" "$g with records"
  within "$(bytes "$sum_n" "$sum_u")" "$(stat -c %s "$tmp/$g-sum.h5")" "$g summaries only"
  # --store rounds: the file lies in the range (one round a run to every round), 15% either side.
  awk -v lo="$(bytes "$rmin_n" "$rmin_u")" -v hi="$(bytes "$rmax_n" "$rmax_u")" -v a="$(stat -c %s "$tmp/$g-rounds.h5")" \
    'BEGIN { exit !(lo < hi && a > 0.85 * lo && a < 1.15 * hi) }' ||
    fail "$g with rounds: estimate $rmin_n $rmin_u to $rmax_n $rmax_u, file $(stat -c %s "$tmp/$g-rounds.h5") bytes"
done

# ... and the memory estimate without --out is within [0.6, 1.6] of the peak resident memory of a
#    20,000-point run (the summaries dominate).
grid "$tmp/g20k.toml" 200 100 1
read -r mem_n mem_u < <("$wedge" validate "$tmp/g20k.toml" | sed -nE 's/^estimates: memory about [0-9.]+ [KMG]?B \(([0-9.]+) ([KMG]?B) without --out\).*/\1 \2/p')
rss_kb=$( { /usr/bin/time -f "%M" "$wedge" run "$tmp/g20k.toml" --quiet --threads 2 >/dev/null; } 2>&1 | tail -1)
awk -v e="$(bytes "$mem_n" "$mem_u")" -v r="$((rss_kb * 1024))" 'BEGIN { exit !(e > 0.6 * r && e < 1.6 * r) }' ||
  fail "memory estimate $mem_n $mem_u, peak resident $rss_kb KB"

# 3. A plan that does not fit in memory is refused before it is built (300,000 points with a
#    results file need ~5.3 GB, ~4.6 GB before each point's scenario held up to 16 factions and
#    their labels; before, such runs ended in bad_alloc after minutes).
grid "$tmp/g300k.toml" 600 500 1
(ulimit -v 3000000; "$wedge" run "$tmp/g300k.toml" --out "$tmp/g300k.h5" --quiet >/dev/null 2>"$tmp/err")
code=$?
[ $code -eq 2 ] || fail "300,000 points under a 3 GB limit: exit $code: $(cat "$tmp/err")"
grep -Eq '^error: the run needs about [45]\.[0-9] GB of memory \(300000 design points x [0-9.]+ KB\) but this machine allows [0-9.]+ GB' "$tmp/err" ||
  fail "memory refusal: $(cat "$tmp/err")"
[ ! -e "$tmp/g300k.h5.partial" ] || fail "a partial file was left"

# 4. validate lists every problem of a file, in line order, and exits 2 with nothing on stdout.
printf '[run]\nruns = 0\nseed = -1\n[dulles]\ntact = 1.4\n[negotiation]\nrounds = 3.0\n' > "$tmp/bad.toml"
"$wedge" validate "$tmp/bad.toml" >"$tmp/out" 2>"$tmp/err"
code=$?
[ $code -eq 2 ] || fail "validate exit code $code"
[ ! -s "$tmp/out" ] || fail "validate wrote to stdout: $(cat "$tmp/out")"
expected="error: $tmp/bad.toml:2:8: run.runs = 0: must be an integer in [1, 4294967296]
error: $tmp/bad.toml:3:8: run.seed = -1: must be an integer in [0, 9223372036854775807]
error: $tmp/bad.toml:5:8: dulles.tact = 1.4: must be [0, 1]
error: $tmp/bad.toml:7:10: negotiation.rounds: 3.0 is not an integer; must be an integer in [1, 100]"
[ "$(cat "$tmp/err")" = "$expected" ] || fail "validate listed: $(cat "$tmp/err")"
"$wedge" run "$tmp/bad.toml" >/dev/null 2>"$tmp/err"
[ "$(cat "$tmp/err")" = "$(head -1 <<<"$expected")" ] || fail "run reported: $(cat "$tmp/err")"

# 5. SIGINT stops a JSON document between points (it was ignored in that phase): stdout is a
#    FIFO nobody reads yet, so the document blocks after the run; the file is complete by then.
grid "$tmp/g1k.toml" 40 25 1
mkfifo "$tmp/fifo"
for cmd in run inspect; do
  rm -f "$tmp/j.h5"
  if [ $cmd = run ]; then
    "$wedge" run "$tmp/g1k.toml" --out "$tmp/j.h5" --json --quiet >"$tmp/fifo" 2>"$tmp/err" &
  else
    "$wedge" run "$tmp/g1k.toml" --out "$tmp/j.h5" --quiet >/dev/null
    "$wedge" inspect "$tmp/j.h5" --json >"$tmp/fifo" 2>"$tmp/err" &
  fi
  pid=$!
  exec 3<"$tmp/fifo"  # open the reading end (the writer's open returns), read nothing yet
  for _ in $(seq 100); do [ -e "$tmp/j.h5" ] && break; sleep 0.1; done
  # The document has started once its first bytes arrive (reading and checking the file can take
  # longer than a fixed wait on a loaded machine); the pipe then fills and the writer blocks.
  head -c 1 <&3 >/dev/null
  sleep 0.5
  kill -INT $pid
  cat <&3 >"$tmp/json"
  exec 3<&-
  wait $pid
  code=$?
  [ $code -eq 130 ] || fail "$cmd --json: exit $code after SIGINT: $(cat "$tmp/err")"
  grep -Eq '^error: interrupted while writing the JSON document, after [0-9]+ of 1000 points$' "$tmp/err" ||
    fail "$cmd --json: $(cat "$tmp/err")"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$cmd --json: stderr: $(cat "$tmp/err")"
done

# 6. A /design value other than the stored experiment's is refused by inspect (damage: no checksum
#    covers /design, and tables would label the runs with it; docs/output-format.md), and --resume
#    refuses a partial file whose points differ from those this wedge resolves.
"$wedge" run "$tmp/g16.toml" --runs 50 --out "$tmp/d.h5" --quiet >/dev/null
/usr/bin/python3 - "$tmp/d.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f["design/dulles.tact"][0] = 0.123
PY
"$wedge" inspect "$tmp/d.h5" --json >/dev/null 2>"$tmp/err"
code=$?
[ $code -eq 3 ] && [ "$(cat "$tmp/err")" = "error: $tmp/d.h5: damaged: /design/dulles.tact: point 0: holds 0.123, but the stored experiment's grid design gives 0" ] ||
  fail "inspect of a changed /design value: exit $code: $(cat "$tmp/err")"
mv "$tmp/d.h5" "$tmp/d.h5.partial"
"$wedge" run "$tmp/g16.toml" --runs 50 --out "$tmp/d.h5" --resume --quiet >/dev/null 2>"$tmp/err"
code=$?
[ $code -eq 3 ] && grep -q "holds other design points than this version of wedge resolves" "$tmp/err" ||
  fail "--resume with other design points: exit $code: $(cat "$tmp/err")"

[ $failed -eq 0 ] && echo "all passed"
exit $failed
