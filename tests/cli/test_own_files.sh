#!/usr/bin/env bash
# The files a run reads are never what it writes, a results file is not read as an experiment, a
# non-results file is not "complete" to --resume, and an unwritable standard error ends with the
# run's exit code, not an abort (session 10's tester, verify11).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
sweeps=$2
source "$here/common.sh"
setup

# --out naming the experiment file itself, with --force: refused, the experiment kept.
printf '[run]\nruns = 100\nseed = 1\n' > exp.toml
before=$(sha256sum < exp.toml)
"$wedge" run exp.toml --runs 100 --out exp.toml --force --quiet >/dev/null 2>err; code=$?
[ $code -eq 2 ] && grep -q "^error: --out exp.toml: the output file is the experiment file, which this run reads; choose another --out$" err \
  && [ "$(sha256sum < exp.toml)" = "$before" ] && ok "--out naming the experiment file is refused, the file kept: $(cat err)" \
  || bad "--out = experiment: exit $code: $(cat err)"
# ... and through a second name of it (a hard link), and as the partial.
ln exp.toml same.h5
"$wedge" run exp.toml --runs 100 --out same.h5 --force --quiet >/dev/null 2>err; code=$?
[ $code -eq 2 ] && grep -q "the experiment file, which this run reads" err && [ "$(sha256sum < exp.toml)" = "$before" ] \
  && ok "--out naming the experiment by another path is refused" || bad "hard link: exit $code: $(cat err)"
ln exp.toml other.h5.partial
"$wedge" run exp.toml --runs 100 --out other.h5 --force --quiet >/dev/null 2>err; code=$?
[ $code -eq 2 ] && grep -q "other.h5.partial is the experiment file" err && [ "$(sha256sum < exp.toml)" = "$before" ] \
  && ok "--out whose .partial is the experiment is refused" || bad "partial = experiment: exit $code: $(cat err)"

# A results file given as the experiment: named as such.
"$wedge" run --runs 100 --out r.h5 --quiet >/dev/null 2>&1
"$wedge" run r.h5 --runs 100 >/dev/null 2>err; code=$?
[ $code -eq 2 ] && grep -q "^error: r.h5: is an HDF5 file (a results file?), not an experiment TOML file; \`wedge inspect r.h5\` describes a results file$" err \
  && ok "a results file given as the experiment is named: $(cat err)" || bad "results as experiment: exit $code: $(cat err)"

# --resume onto a file that is not a results file: not called complete.
echo "my notes" > notes.h5
"$wedge" run --runs 100 --out notes.h5 --resume --quiet >/dev/null 2>err; code=$?
[ $code -eq 3 ] && grep -q "^error: --resume: notes.h5 exists and is not a results file" err && ! grep -q "already complete" err \
  && [ "$(cat notes.h5)" = "my notes" ] && ok "--resume of a non-results file: $(cat err)" || bad "--resume text file: exit $code: $(cat err)"

# Standard error that cannot be written (a full disk: /dev/full): the error's exit code, no abort.
"$wedge" run --runs 0 2>/dev/full >/dev/null; code=$?
[ $code -eq 2 ] && ok "bad input with an unwritable stderr: exit 2, no abort" || bad "unwritable stderr: exit $code"
"$wedge" run --runs 1000 --out r.h5 --quiet 2>/dev/full >/dev/null; code=$?
[ $code -eq 3 ] && ok "an existing --out with an unwritable stderr: exit 3, no abort" || bad "unwritable stderr, existing out: exit $code"
# Standard output that cannot be written (the table): an output error, not an abort or "internal".
"$wedge" run --runs 1000 >/dev/full 2>err; code=$?
[ $code -eq 3 ] && grep -q "^error: cannot write to the standard output" err \
  && ok "an unwritable stdout: exit 3: $(cat err)" || bad "unwritable stdout: exit $code: $(cat err)"

# Counts of one are singular.
printf '[run]\nruns = 1\nseed = 1\n' > one.toml
"$wedge" validate one.toml >out 2>err; code=$?
[ $code -eq 0 ] && grep -q "valid; design single with 1 point; 1 replicate per point" out \
  && ok "validate: 1 point, 1 replicate: $(head -1 out)" || bad "validate singular: exit $code: $(cat out err)"

finish
