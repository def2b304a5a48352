# Helpers shared by the shell tests: counters, ok/bad, the closing line, and result comparison.
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAILED: $1"; }
# same A B: the two results files have bit-identical /runs and /summary.
same() { h5diff -q "$1" "$2" /runs /runs >/dev/null 2>&1 && h5diff -q "$1" "$2" /summary /summary >/dev/null 2>&1; }
# finish: prints "N passed, N failed" and exits non-zero if anything failed.
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
