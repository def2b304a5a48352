#!/usr/bin/env bash
# The tree stays formatted with Debian's clang-format 14 and .clang-format (issue 14): every C++
# file git tracks (but the fuzzer's stored inputs) must come out of clang-format unchanged.
# Fix with: git ls-files '*.cpp' '*.hpp' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$1"
command -v clang-format > /dev/null || { echo "clang-format is missing: run scripts/install-deps.sh" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' | grep -v '^tests/fuzz/regressions')
[ "${#files[@]}" -gt 50 ] || { echo "found only ${#files[@]} C++ files: not a wedge checkout?" >&2; exit 1; }
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" > /dev/null 2>&1 || bad+=("$f")
done
if [ "${#bad[@]}" -gt 0 ]; then
  echo "not formatted with clang-format (.clang-format): ${bad[*]}" >&2
  exit 1
fi
echo "${#files[@]} files formatted"
