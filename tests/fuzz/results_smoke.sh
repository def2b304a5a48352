#!/usr/bin/env bash
# The results-file fuzzer's smoke run (ctest --preset fuzz, part of make test): seed files written
# by WEDGE (tests/fuzz/results_seeds.sh), then seed 1 and a fixed number of inputs. Exits with the
# fuzzer's status: non-zero on a crash, a sanitizer report or a timeout (its input is left in
# OUTDIR as results-crash-*, results-timeout-*).
# Usage: results_smoke.sh FUZZER RUNS OUTDIR WEDGE
set -uo pipefail
fuzzer=$1 runs=$2 out=$3 wedge=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -x "$wedge" ]; then
  echo "error: $wedge does not exist: build the release preset first (make build) to write the seed files"
  exit 1
fi
bash "$here/results_seeds.sh" "$wedge" "$out/results-seeds" || exit 1
rm -rf "$out/results-smoke" && mkdir -p "$out/results-smoke"
echo "results fuzz smoke run: $runs inputs, seed 1 (log: $out/results-smoke.log)"
ASAN_OPTIONS=detect_leaks=0 "$fuzzer" -seed=1 -runs="$runs" -max_len=1048576 -rss_limit_mb=2048 -timeout=10 \
  -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$out/results-" "$out/results-smoke" "$out/results-seeds" \
  > "$out/results-smoke.log" 2>&1
code=$?
grep -E "^Done|crash-|timeout-|oom-|stat::number_of_executed_units" "$out/results-smoke.log"
# A file is read in a child process first (output/untrusted.hpp): a sanitizer report there stops
# the child only, and the file counts as damaged. That is right for a fault inside HDF5 (not
# instrumented: ASan sees it through an intercepted memcpy or strlen called from libhdf5), never
# for one in wedge's code, which the parent would never reach on that file: fail on every report
# whose first frame past the sanitizer's interceptors is not in libhdf5, and on every UBSan report
# (only wedge's code is instrumented). An interceptor is a frame named __interceptor_* (or the
# like), or one in the fuzzer's own binary without a source line (ASan's runtime, linked into it:
# some interceptors are reported by their libc name, e.g. "in strdup (.../fuzz_results+0x...)");
# wedge's code in that binary always has its source line.
awk -v bin="$(basename "$fuzzer")" '
  /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/ {
    n++; open = 1; head = $0
    if ($0 ~ /runtime error:/) { print "wedge: " head; wedge++; open = 0 }
    next
  }
  open && /^ *#[0-9]+ / {
    if ($0 ~ /in (__interceptor_|__asan_|__sanitizer_|__lsan_|__ubsan_)/) next
    if (index($0, "/" bin "+0x") > 0 && $0 !~ /wedge::/) next
    if ($0 ~ /libhdf5/) hdf5++; else { print "wedge: " head; print "  " $0; wedge++ }
    open = 0
  }
  END { printf "sanitizer reports: %d in children reading files that crash HDF5 itself, %d in wedge'"'"'s code\n", hdf5, wedge; exit wedge > 0 }
' "$out/results-smoke.log" || code=1
exit $code
