# Helpers shared by the shell tests: counters, ok/bad, the closing line, and result comparison.
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAILED: $1"; }
# same A B: the two results files have bit-identical /runs and /summary.
same() { h5diff -q "$1" "$2" /runs /runs >/dev/null 2>&1 && h5diff -q "$1" "$2" /summary /summary >/dev/null 2>&1; }
# finish: prints "N passed, N failed" and exits non-zero if anything failed.
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
# runs_done FILE: the runs `wedge inspect` reads as done in FILE (a .partial's checkpoint), or nothing.
runs_done() { "$wedge" inspect "$1" --json 2>/dev/null | sed -n 's/.*"runs_done": \([0-9]*\).*/\1/p'; }
# resumed ERR PARTIAL DONE: ERR (the stderr of a --resume without --quiet) holds the line
# "resuming PARTIAL: DONE of N runs already done" with DONE > 0, as read from PARTIAL before the
# resume: a resume that silently restarted from zero, or from elsewhere, fails (docs/testing.md).
# resumed_or_fresh ERR PARTIAL DONE: as resumed, but a partial with no checkpoint yet (DONE = 0,
# e.g. SIGKILL before the first one) must start from zero: no resume line.
resumed() { [ -n "$3" ] && [ "$3" -gt 0 ] && grep -q "^resuming $2: $3 of [0-9]* runs already done$" "$1"; }
resumed_or_fresh() {
  if [ "$3" = 0 ]; then ! grep -q "^resuming $2:" "$1"; else resumed "$@"; fi
}
# setup [tmpfs]: the test's own scratch directory as the working directory, in $dir, removed at
# exit (made writable first: some tests take write permission away). tmpfs: under /dev/shm when
# there is one (for tests whose subject is not fsync's wait). Sourced before any test step.
setup() {
  if [ "${1:-}" = tmpfs ]; then
    dir=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
  else
    dir=$(mktemp -d)
  fi
  trap 'chmod -R u+w "$dir" 2>/dev/null; rm -rf "$dir"' EXIT
  cd "$dir" || exit 1
}
