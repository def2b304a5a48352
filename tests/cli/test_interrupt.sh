#!/usr/bin/env bash
# SIGINT / SIGTERM stop a long run promptly, with exit code 130 and a message saying how far it got.
set -u
wedge=$1
for sig in INT TERM; do
  err=$(mktemp)
  "$wedge" run --runs 4000000000 --threads 2 --quiet --json >/dev/null 2>"$err" &
  pid=$!
  sleep 1
  start=$(date +%s%N)
  kill -s "$sig" "$pid"
  wait "$pid"
  code=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  msg=$(cat "$err"); rm -f "$err"
  if [ "$code" -ne 130 ]; then echo "SIG$sig: exit code $code, expected 130 ($msg)"; exit 1; fi
  if ! grep -Eq "^error: interrupted by SIG$sig after [0-9]+ of 4000000000 runs" <<<"$msg"; then
    echo "SIG$sig: unexpected message: $msg"; exit 1
  fi
  # Workers stop at the next wave boundary: within 5 s, or, on a machine so loaded that a wave
  # takes longer (2 threads: 256 blocks of 2,048 runs), within 3 waves at the rate the run had.
  done_runs=$(sed -nE 's/^error: interrupted by SIG[A-Z]+ after ([0-9]+) of.*/\1/p' <<<"$msg")
  # (No run done yet: a wave took longer than the whole time so far.)
  wave_ms=$(( done_runs > 0 ? 256 * 2048 * (1000 + ms) / done_runs : 1000 + ms ))
  budget=$(( 3 * wave_ms > 5000 ? 3 * wave_ms : 5000 ))
  if [ "$ms" -gt "$budget" ]; then echo "SIG$sig: took ${ms} ms to stop (budget ${budget} ms)"; exit 1; fi
  echo "SIG$sig: stopped in ${ms} ms: $msg"
done
