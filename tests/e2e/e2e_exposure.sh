#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# exposure: a session opening a registered secret's origin file; the origin itself is a known
# place, so writing it does not alert as spread.
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
e2e_stop
expect_no_plaintext "$T"
e2e_finish
