#!/usr/bin/env bash
# The fuzz smoke run (ctest --preset fuzz, part of make test): seed 1 and a fixed number of inputs,
# starting from the seed directories. Exits with the fuzzer's status: non-zero on a crash, a leak,
# a sanitizer report or a timeout (its input is left in OUTDIR as crash-*, leak-*, timeout-*).
# Usage: smoke.sh FUZZER RUNS OUTDIR SEED_DIR...
set -uo pipefail
fuzzer=$1 runs=$2 out=$3
shift 3
rm -rf "$out/smoke" && mkdir -p "$out/smoke"
echo "fuzz smoke run: $runs inputs, seed 1 (log: $out/smoke.log)"
"$fuzzer" -seed=1 -runs="$runs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/smoke" "$@" > "$out/smoke.log" 2>&1
code=$?
grep -E "^Done|ERROR|SUMMARY|crash-|leak-|timeout-|stat::number_of_executed_units" "$out/smoke.log"
exit $code
