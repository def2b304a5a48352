#!/usr/bin/env bash
# Files that crash or exhaust Debian 12's HDF5 1.10.8 itself (tests/fuzz/regressions-results/: a
# damaged global heap, SIGSEGV in H5HG_read; a variable-length attribute claiming 4 GiB in
# H5T__conv_vlen) are read in a child process first (output/untrusted.hpp): `wedge inspect`,
# `inspect --json`, `wedge merge` (as an input) and `wedge run --resume` (as the partial) exit 3
# with one line "error: FILE is damaged: reading its metadata ...", print nothing on stdout, write
# nothing (no output, lock or partial file; the partial resumed is left byte for byte), within
# 60 s and without the 4 GiB.
#   untrusted_files.sh WEDGE REGRESSIONS_DIR
set -u
wedge=$(realpath "$1")
regressions=$(realpath "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
failures=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; failures=$((failures + 1)); }

# refused WHAT PATTERN -- command...: exit 3, one line on stderr matching PATTERN, nothing on stdout,
# under 3 GiB of address space (ulimit -v: the unguarded read of the 4 GiB attribute took 4.2 GB;
# the child's own limit, 2 GiB above the ~0.1 GB it inherits, comes first).
refused() {
  local what=$1 pattern=$2; shift 3
  (ulimit -v 3145728; exec timeout 60 "$@") >"$dir/out" 2>"$dir/err"; local code=$?
  if [ $code -eq 3 ] && [ "$(wc -l < "$dir/err")" -eq 1 ] && grep -qP "$pattern" "$dir/err" && [ ! -s "$dir/out" ]; then
    ok "$what: $(cat "$dir/err")"
  else
    bad "$what: exit $code (expected 3): $(head -c 400 "$dir/err")"
  fi
}

"$wedge" run --runs 200 --shard 0/2 --out s0.h5 --quiet >/dev/null || bad "writing a healthy shard"
n=0
for file in "$regressions"/*.h5; do
  n=$((n + 1))
  name=$(basename "$file")
  case $name in
    *segv*) why='crashed the HDF5 library \(SIGSEGV\)' ;;
    *oom*) why='needed more than \d+ [GM]iB of memory' ;;
    *) why='' ;;
  esac
  mkdir -p "case$n" && cp "$file" "case$n/$name" && cd "case$n" || exit 1
  before=$(ls -A | sort)
  refused "inspect $name" "^error: \Q$name\E is damaged: reading its metadata $why.*; nothing was written$" \
    -- "$wedge" inspect "$name"
  refused "inspect --json $name" "^error: \Q$name\E is damaged: " -- "$wedge" inspect --json "$name"
  refused "merge with $name as an input" "^error: \Q$name\E is damaged: reading its metadata $why" \
    -- "$wedge" merge ../s0.h5 "$name" --out merged.h5
  [ "$(ls -A | sort)" = "$before" ] && ok "inspect and merge of $name wrote nothing" \
    || bad "inspect or merge of $name left: $(ls -A | tr '\n' ' ')"
  cp "$name" resumed.h5.partial
  sum=$(sha256sum < resumed.h5.partial)
  refused "run --resume of $name as the partial" \
    "^error: resumed\.h5\.partial is damaged: reading its metadata $why" \
    -- "$wedge" run --runs 200 --out resumed.h5 --resume --quiet
  [ "$(sha256sum < resumed.h5.partial)" = "$sum" ] && [ ! -e resumed.h5 ] && [ ! -e resumed.h5.lock ] \
    && ok "--resume of $name left the partial as it was, and no output or lock" \
    || bad "--resume of $name changed the partial or left: $(ls -A | tr '\n' ' ')"
  cd .. || exit 1
done
[ "$n" -ge 2 ] || bad "expected the regression files in $regressions, found $n"
# The guard changes nothing for a healthy file.
"$wedge" inspect s0.h5 >out 2>err && grep -q "design point 0" out && ok "a healthy file still inspects" \
  || bad "inspect of a healthy file: $(head -c 300 err)"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
