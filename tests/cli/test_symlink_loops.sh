#!/usr/bin/env bash
# A loop of symbolic links as a path, in every command that takes one (an input: experiment files,
# extends, a list design's CSV, results files to inspect or merge, the partial of --resume; an
# output: --out of run and merge, FILE.partial, FILE.lock, a directory of --out): one wording,
# "PATH: too many levels of symbolic links" on one line, exit 2 for experiment files (bad input),
# 3 for results files and outputs, and nothing written.
#   test_symlink_loops.sh WEDGE
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$(realpath "$1")
source "$here/common.sh"
setup

ln -s loop loop              # a link to itself
ln -s b a && ln -s a b       # a loop of two
ln -s dir dir                # a directory on the way
"$wedge" run --runs 200 --seed 3 --out ok.h5 --quiet >/dev/null || bad "ok.h5"
printf 'extends = "loop"\n' > extends.toml
printf '[sweep]\ndesign = "list"\ncsv = "loop"\n' > csv.toml

# loop_refused WHAT CODE PATH -- command...: exits CODE, one line "error: PATH: too many levels of
# symbolic links" on stderr (PATH may be embedded after its context for extends and csv).
loop_refused() {
  local what=$1 want=$2 path=$3; shift 4
  timeout 60 "$@" >out 2>err; local code=$?
  if [ $code -eq "$want" ] && [ "$(wc -l < err)" -eq 1 ] &&
     grep -qF "$path: too many levels of symbolic links" err; then
    ok "$what"
  else
    bad "$what: exit $code (expected $want): $(head -c 300 err)"
  fi
}
loop_refused "run EXPERIMENT" 2 "error: loop" -- "$wedge" run loop --runs 10
loop_refused "run EXPERIMENT (a loop of two)" 2 "error: a" -- "$wedge" run a --runs 10
loop_refused "validate EXPERIMENT" 2 "error: loop" -- "$wedge" validate loop
loop_refused "params EXPERIMENT" 2 "error: loop" -- "$wedge" params loop
loop_refused "compare A B" 2 "error: loop" -- "$wedge" compare loop loop --runs 10
loop_refused "calibrate EXPERIMENT" 2 "error: loop" -- "$wedge" calibrate loop --history format=treaty
loop_refused "trace EXPERIMENT" 2 "error: loop" -- "$wedge" trace loop
loop_refused "check EXPERIMENT" 2 "error: loop" -- "$wedge" check loop
loop_refused "extends = a loop" 2 'extends = "loop"' -- "$wedge" run extends.toml --runs 10
loop_refused "a list design's csv = a loop" 2 "sweep.csv: loop" -- "$wedge" validate csv.toml
loop_refused "inspect FILE" 3 "error: loop" -- "$wedge" inspect loop
loop_refused "inspect --json FILE" 3 "error: loop" -- "$wedge" inspect --json loop
loop_refused "inspect DIR/FILE through a loop" 3 "error: dir/x.h5" -- "$wedge" inspect dir/x.h5
loop_refused "merge PART" 3 "error: loop" -- "$wedge" merge loop ok.h5 --out merged.h5
loop_refused "merge --out" 3 "error: loop" -- "$wedge" merge ok.h5 --out loop
loop_refused "run --out" 3 "error: loop" -- "$wedge" run --runs 10 --out loop
loop_refused "run --out --force" 3 "error: loop" -- "$wedge" run --runs 10 --out loop --force
loop_refused "run --out DIR/FILE through a loop" 3 "error: dir" -- "$wedge" run --runs 10 --out dir/x.h5
ln -s p.h5.partial p.h5.partial
loop_refused "run --resume (the partial a loop)" 3 "error: p.h5.partial" -- "$wedge" run --runs 10 --out p.h5 --resume
ln -s l.h5.lock l.h5.lock
loop_refused "run --out (the lock file a loop)" 3 "error: l.h5.lock" -- "$wedge" run --runs 10 --out l.h5
[ ! -e merged.h5 ] && [ ! -e merged.h5.partial ] && [ ! -e x.h5 ] && [ ! -e l.h5 ] && [ ! -e l.h5.partial ] \
  && ok "nothing written" || bad "a refused command left a file: $(ls)"
finish
