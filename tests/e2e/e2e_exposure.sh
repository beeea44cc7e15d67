#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# exposure: a session opening a registered secret's origin file; the origin itself is a known
# place, so writing it does not alert as spread. An origin saved by rename (an editor outside
# any session, sed -i inside one) is followed to its new file; one moved aside (mv) keeps it.
. "$(dirname "$0")/lib.sh"

e2e_start
T=$(gen_secret sk_exp_ 30)
printf '%s\n' "$T" >"$WORK/key.txt"
"$SPRAWLCTL" secrets add EXP_KEY --from-file "$WORK/key.txt" >/dev/null
check "secrets list records the origin" bash -c "'$SPRAWLCTL' secrets list | grep EXP_KEY | grep -qF '$WORK/key.txt'"
"$SPRAWLCTL" run -- sh -c "cat '$WORK/key.txt' >/dev/null; cat '$WORK/key.txt' >/dev/null"
"$SPRAWLCTL" run -- sh -c "printf '%s\n' \"\$(cat '$WORK/key.txt')\" >> '$WORK/key.txt'"
wait_alerts 2 "a['kind']=='secret_exposure'" 10
barrier "the write into the origin processed"
expect_alerts "one exposure per session for reading the origin" 2 \
	"a['kind']=='secret_exposure' and a['artifact']['path']=='$WORK/key.txt' and a['secret']['name']=='EXP_KEY' and a['origin']['path']=='$WORK/key.txt'"
expect_alerts "writing the origin itself is not a spread" 0 \
	"a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/key.txt'"
cat "$WORK/key.txt" >/dev/null
barrier "the read outside a session processed"
expect_alerts "reading it outside a session is not an exposure" 2 "a['kind']=='secret_exposure'"
# Saved by rename (vim, most editors' safe save): the origin's path names a new file. Outside
# any session (the user's editor): the daemon sees the new file at the path and the secret
# follows it, so a session reading it is an exposure (none before: the kernel knew the old
# inode only). Then sed -i in a session (a temporary file renamed over it): the secret follows
# again, and neither the temporary file nor the origin is a spread. Each replaced file is kept
# (a hard link) so no new file gets its inode: an inode reused would match earlier alerts. (The
# links name files of the origin: the daemon keeps them as origins, see below.)
ln "$WORK/key.txt" "$WORK/kept.0"
python3 -c 'import os, sys
p = sys.argv[1]
open(p + ".new", "w").write(open(p).read())
os.replace(p + ".new", p)' "$WORK/key.txt"
for _ in $(seq 50); do
	[ "$(status_field "s['origins']['moved']")" -ge 1 ] && break
	sleep 0.1
done
check "the daemon follows the origin to its new file" test "$(status_field "s['origins']['moved']")" -ge 1
"$SPRAWLCTL" run -- sh -c "cat '$WORK/key.txt' >/dev/null"
wait_alerts 3 "a['kind']=='secret_exposure'" 10
expect_alerts "reading the origin saved by rename: an exposure naming its new inode" 1 \
	"a['kind']=='secret_exposure' and a['artifact']['ino']==$(stat -c %i "$WORK/key.txt") and a['process']['comm']=='cat'"
OLD=$(stat -c %i "$WORK/key.txt")
ln "$WORK/key.txt" "$WORK/kept.1"
"$SPRAWLCTL" run -- sed -i 's/^/x/' "$WORK/key.txt"
"$SPRAWLCTL" run -- sh -c "cat '$WORK/key.txt' >/dev/null"
wait_alerts 5 "a['kind']=='secret_exposure'" 10
expect_alerts "sed -i in a session reads it: an exposure" 1 \
	"a['kind']=='secret_exposure' and a['artifact']['ino']==$OLD and a['process']['comm']=='sed'"
expect_alerts "... and then names a new file: reading that is an exposure naming it" 1 \
	"a['kind']=='secret_exposure' and a['artifact']['ino']==$(stat -c %i "$WORK/key.txt") and a['process']['comm']=='cat'"
barrier "sed's writes processed"
expect_alerts "no spread: sed's temporary file became the origin" 0 "a['kind']=='secret_spread' and a['artifact']['path'].startswith('$WORK/')"
# Moved aside outside any session (mv, then a new file at the path): the moved file still holds
# the secret, so reading it in a session is an exposure naming it, and the new file at the path
# is the origin too. Once the aside name is gone, its inode is no origin.
poll_status() {
	for _ in $(seq 100); do
		[ "$(status_field "$1")" = True ] && return 0
		sleep 0.1
	done
	return 1
}
M0=$(status_field "s['origins']['moved']")
K0=$(status_field "s['origins']['kept']")
check "the two links above keep the origin's earlier files" test "$K0" -eq 2
ASIDE=$(stat -c %i "$WORK/key.txt")
mv "$WORK/key.txt" "$WORK/key.bak"
check "the daemon keeps the origin's file under its new name" poll_status "s['origins']['kept']==$K0+1"
printf 'not the secret\n' >"$WORK/key.txt"
check "... and follows the path to the new file" poll_status "s['origins']['moved']>=$M0+2"
"$SPRAWLCTL" run -- sh -c "cat '$WORK/key.bak' >/dev/null"
"$SPRAWLCTL" run -- sh -c "cat '$WORK/key.txt' >/dev/null"
wait_alerts 7 "a['kind']=='secret_exposure'" 10
expect_alerts "reading the moved file: an exposure naming it" 1 \
	"a['kind']=='secret_exposure' and a['artifact']['ino']==$ASIDE and a['artifact']['path']=='$WORK/key.bak' and a['origin']['path']=='$WORK/key.txt'"
expect_alerts "reading the new file at the path: an exposure" 1 \
	"a['kind']=='secret_exposure' and a['artifact']['ino']==$(stat -c %i "$WORK/key.txt") and a['process']['comm']=='cat'"
rm "$WORK/key.bak"
check "the aside name removed: forgotten (checked every 5 s)" poll_status "s['origins']['kept']==$K0"
barrier "the reads processed"
expect_alerts "no spread, nothing else" 7 "a['kind'] not in ('session_summary', 'secret_spread')"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
