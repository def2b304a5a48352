#!/usr/bin/env bash
# Regenerates pinned regressions from the current code: tests/regression/update.sh [CASE...]
# (no case: all). Builds wedge and the driver (PRESET, default release) first, then checks the
# new pins at every lane width and thread count. Commit the result on its own, saying why the
# results changed (README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
PRESET=${PRESET:-release}
cmake --build --preset "$PRESET" -j "${JOBS:-2}" --target wedge wedge_regress > /dev/null
W=build/$PRESET/wedge
D=build/$PRESET/tests/regression/wedge_regress
/usr/bin/python3 tests/regression/regress.py update "$@" --wedge "$W" --driver "$D"
if [ $# -eq 0 ]; then set -- $(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/regression"); import regress; print(" ".join(regress.cases()))'); fi
/usr/bin/python3 tests/regression/regress.py check "$@" --wedge "$W" --driver "$D"
