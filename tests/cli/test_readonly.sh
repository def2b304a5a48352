#!/usr/bin/env bash
# Output where the user may not write, tested without root's privileges (root ignores file modes):
# run as root, the commands run as the user nobody (setpriv); run as anyone else, as that user.
# A read-only directory refuses a new results file and a resume with exit 3, a one-line error naming
# the path, nothing written and the partial file left intact. Never skipped.
#   test_readonly.sh WEDGE
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wedge=$1
source "$here/common.sh"
setup
chmod 755 "$dir"
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null || { bad "running as root and setpriv (util-linux) is missing"; finish; }
  as_user() { setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs "$@"; }
  who="nobody (setpriv, from root)"
  mkdir w ro; chown nobody w ro
else
  as_user() { "$@"; }
  who="$(id -un)"
  mkdir w ro
fi
as_user test -w w || { bad "the test user cannot write its own directory"; finish; }

# A new file in a read-only directory.
chmod 555 ro
as_user test -w ro && { bad "$who can write a mode-555 directory: the test would prove nothing"; finish; }
as_user "$wedge" run --runs 1000 --out ro/x.h5 --quiet >/dev/null 2>err; code=$?
[ $code -eq 3 ] && ok "as $who: --out in a read-only directory is exit 3" || bad "read-only directory: exit $code: $(cat err)"
[ "$(wc -l < err)" -eq 1 ] && grep -q "^error: .*ro/x.h5" err && ok "one line naming the file: $(cat err)" || bad "message: $(cat err)"
[ -z "$(ls -A ro)" ] && ok "nothing written in the read-only directory" || bad "left: $(ls -A ro)"

# A partial file in a directory that became read-only: --resume refuses before any work and the
# partial stays as it was.
as_user "$wedge" run --runs 20000 --seed 3 --out w/p.h5 --quiet --test-stop-after-blocks 2 >/dev/null 2>err; code=$?
[ $code -eq 130 ] && [ -f w/p.h5.partial ] && ok "as $who: a partial file written (exit 130)" || bad "setup: exit $code: $(cat err)"
sum=$(md5sum < w/p.h5.partial)
chmod 555 w
as_user "$wedge" run --runs 20000 --seed 3 --out w/p.h5 --resume --quiet >/dev/null 2>err; code=$?
[ $code -eq 3 ] && grep -q "^error: .*p.h5" err && ok "--resume in a read-only directory is exit 3: $(cat err)" \
  || bad "resume in a read-only directory: exit $code: $(cat err)"
[ "$(md5sum < w/p.h5.partial)" = "$sum" ] && [ ! -e w/p.h5 ] && ok "the partial file is untouched, no final file" \
  || bad "the partial changed or a final file appeared"
chmod 755 w
as_user "$wedge" run --runs 20000 --seed 3 --out w/p.h5 --resume --quiet >/dev/null 2>err \
  && [ -f w/p.h5 ] && ok "writable again, --resume finishes" || bad "resume after chmod: $(cat err)"
finish
