#!/usr/bin/env bash
# The catalogue of bad inputs: for each NAME.expect (line 1: exit code; line 2: an extended regex
# the error must match), run `wedge run NAME.toml [NAME.args]` (with --runs 10 unless NAME.args
# gives --runs) and check the exit code, that stderr
# is exactly one line matching the regex, nothing on stdout, and that no output file was created.
# In NAME.args, TMP is a scratch directory, DIRECTORY stands for a directory given as the
# experiment and NONUTF8 for a path that is not valid UTF-8.
set -u
wedge=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
for expect in "$here"/*.expect; do
  name=$(basename "$expect" .expect)
  code_wanted=$(sed -n 1p "$expect")
  pattern=$(sed -n 2p "$expect")
  input="$here/$name.toml"
  [ -e "$input" ] || input="$here/placeholder.toml"
  args=()
  if [ -e "$here/$name.args" ]; then
    read -r -a args < "$here/$name.args"
  fi
  out="$tmp/out-$name.h5"
  has_out=0
  has_runs=0
  for i in "${!args[@]}"; do
    case "${args[$i]}" in
      --out) has_out=1 ;;
      --runs) has_runs=1 ;;
      DIRECTORY) input="$tmp"; unset 'args[i]' ;;
      NONUTF8) input="$tmp/$(printf 'bad\xff\xfe').toml"; unset 'args[i]' ;;
    esac
    [ -n "${args[$i]+x}" ] && args[$i]=${args[$i]//TMP/$tmp}
  done
  [ $has_out -eq 1 ] || args+=(--out "$out")
  [ $has_runs -eq 1 ] || args+=(--runs 10)
  before=$(ls -A "$tmp" | sort)
  "$wedge" run "$input" "${args[@]}" >"$tmp/stdout" 2>"$tmp/stderr"
  code=$?
  mv "$tmp/stdout" "$tmp/.stdout"; mv "$tmp/stderr" "$tmp/.stderr"
  after=$(ls -A "$tmp" | grep -v '^\.std' | sort)
  lines=$(wc -l < "$tmp/.stderr")
  problems=()
  [ "$code" = "$code_wanted" ] || problems+=("exit code $code, expected $code_wanted")
  [ "$lines" -eq 1 ] || problems+=("$lines lines on stderr")
  grep -aEq -- "$pattern" "$tmp/.stderr" || problems+=("message does not match /$pattern/")
  [ -s "$tmp/.stdout" ] && problems+=("output on stdout")
  [ "$before" = "$after" ] || problems+=("files created: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')")
  [ -e /proc/wedge-bad-input.h5.partial ] && problems+=("a file in /proc")
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1)); echo "ok: $name: $(cat "$tmp/.stderr")"
  else
    failed=$((failed + 1)); echo "FAILED: $name: ${problems[*]}: $(head -c 300 "$tmp/.stderr")"
  fi
  rm -f "$tmp/.stdout" "$tmp/.stderr"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
