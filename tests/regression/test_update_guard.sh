#!/usr/bin/env bash
# tests/regression/update.sh cannot re-pin without a bump of the results arithmetic version
# (output::ARITHMETIC_VERSION): regress.py update, which update.sh runs, on a copy of the baseline
# case (--pins) whose expected.json no longer matches the code (as after a change of results)
# refuses and rewrites nothing while the build's version is the pinned one, and re-pins and
# records the new version once the build's is greater; check fails while the two versions differ.
#   test_update_guard.sh WEDGE DRIVER
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$(realpath "$1")
driver=$(realpath "$2")
source "$here/../cli/common.sh"
setup
regress() { /usr/bin/python3 "$here/regress.py" "$@" --wedge "$wedge" --driver "$driver" --pins "$dir/pins"; }
ours=$("$wedge" --version | sed -n 's/.*results arithmetic version \([0-9]*\);.*/\1/p')
[ -n "$ours" ] && ok "--version gives the results arithmetic version ($ours)" || bad "no version in --version"
pin() { printf '# test\n%s\n' "$1" >"$dir/pins/arithmetic_version"; }
mkdir -p pins/baseline
cp "$here/baseline/command" "$here/baseline/expected.json" "$here/baseline/records.sha256" pins/baseline/
pin "$ours"

regress check baseline >out 2>&1 && ok "check passes with the build's version pinned" || bad "check: $(tail -3 out)"
regress update baseline >out 2>&1 && grep -q "baseline: pins unchanged" out &&
  ok "update without a bump is allowed when no pin changes" || bad "update, nothing changed: $(tail -3 out)"

# Results that changed: the pinned JSON no longer matches the code.
sed -i 's/"seed": 1,/"seed": 1 ,/' pins/baseline/expected.json
cp pins/baseline/expected.json stale.json
regress update baseline >out 2>&1; code=$?
if [ $code -ne 0 ] && grep -q "refused: the pins of baseline would change, but this build's results arithmetic version is still $ours" out &&
  grep -q "bump ARITHMETIC_VERSION in output/results.hpp to $((ours + 1))" out &&
  cmp -s stale.json pins/baseline/expected.json && grep -qx "$ours" pins/arithmetic_version; then
  ok "update refuses to re-pin changed results without a bump, and rewrites nothing"
else
  bad "update without a bump: exit $code: $(tail -3 out)"
fi

# As after a bump: the build's version is greater than the pinned one.
pin $((ours - 1))
regress check baseline >out 2>&1; code=$?
[ $code -ne 0 ] && grep -q "this build's results arithmetic version is $ours .* but the pins were made with $((ours - 1))" out &&
  ok "check fails while the pinned version differs from the build's" || bad "check with another version: exit $code: $(tail -3 out)"
regress update baseline >out 2>&1; code=$?
if [ $code -eq 0 ] && cmp -s "$here/baseline/expected.json" pins/baseline/expected.json &&
  grep -qx "$ours" pins/arithmetic_version && regress check baseline >/dev/null 2>&1; then
  ok "after a bump, update re-pins and records the new version; check passes"
else
  bad "update after a bump: exit $code: $(tail -3 out)"
fi

pin $((ours + 1))
regress update baseline >out 2>&1; code=$?
[ $code -ne 0 ] && grep -q "older than the pins'" out && ok "update refuses a build older than the pins" ||
  bad "update with an older build: exit $code: $(tail -3 out)"
finish
