#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Damaged state is never a silent empty set (README "Damaged state"). A truncated secret set
# and one with a flipped byte: the daemon runs, raises one state_warning naming the set's
# file, leaves the file as it is, and takes the set back once it is restored. A replaced key,
# a damaged key, and a key missing beside an existing set: the daemon refuses to start, says
# which file and what to do, and neither makes a new key nor touches the set.
. "$(dirname "$0")/lib.sh"

SET=$SPRAWL_STATE_DIR/secrets.pb
KEY=$SPRAWL_STATE_DIR/key
e2e_start
new_secret DMG_ONE >/dev/null
new_secret DMG_TWO >/dev/null
e2e_stop
cp -p "$SET" "$E2E_TMP/set.good"
cp -p "$KEY" "$E2E_TMP/key.good"

# damaged_run WHAT: start on the damaged set, check the warning and the untouched file,
# restore the set while running and see it taken back.
damaged_run() {
	local what=$1 sum before
	sum=$(md5sum <"$SET")
	before=$(count_alerts "a['kind']=='state_warning'")
	e2e_start
	wait_alerts $((before + 1)) "a['kind']=='state_warning'" 5
	expect_alerts "$what: one more state_warning, naming the secret set and its file" \
		$((before + 1)) \
		"a['kind']=='state_warning' and a['artifact']['path']=='$SET' and 'secret set $SET' in a['message'] and 'NO registered secret is tracked' in a['message']"
	check "$what: the daemon runs (status answers, 0 secrets)" \
		test "$(status_field "s['secrets']")" = 0
	check "$what: the daemon's log says so once" \
		test "$(grep -c "secret set $SET is" "$E2E_TMP/daemon.err")" = 1
	sleep 1.5
	check "$what: the damaged file is left as it is" test "$(md5sum <"$SET")" = "$sum"
	check "$what: sprawlctl secrets list fails and says why" \
		bash -c "! '$SPRAWLCTL' secrets list >'$E2E_TMP/list.out' 2>&1 && grep -q 'damaged' '$E2E_TMP/list.out'"
	cp -p "$E2E_TMP/set.good" "$SET.tmp" && mv "$SET.tmp" "$SET"
	for _ in $(seq 50); do [ "$(status_field "s['secrets']")" = 2 ] && break; sleep 0.1; done
	check "$what: the restored set is in use within 5 s" test "$(status_field "s['secrets']")" = 2
	e2e_stop
}

# (a) truncated
head -c $(($(stat -c %s "$E2E_TMP/set.good") / 2)) "$E2E_TMP/set.good" >"$SET"
damaged_run "truncated set"
expect_alerts "truncated set: the warning says how it is damaged" 1 \
	"a['kind']=='state_warning' and 'truncated, altered' in a['message']"

# (b) one flipped byte in the middle
python3 - "$SET" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x01
open(sys.argv[1], "wb").write(b)
PY
damaged_run "flipped byte"
expect_alerts "the two damaged starts raised two state_warnings in all" 2 "a['kind']=='state_warning'"

# refused NAME PATTERN: the daemon exits 1 within 10 s without a control socket, its message
# matching PATTERN; the set and the key are as they were.
refused() {
	local what=$1 pat=$2 set_sum key_state rc
	set_sum=$(md5sum <"$SET")
	key_state=$( [ -e "$KEY" ] && md5sum <"$KEY" || echo absent)
	"$SPRAWLWATCHD" --alerts "$ALERTS" --rules "$(e2e_rules)" >"$E2E_TMP/refused.out" \
		2>"$E2E_TMP/refused.err" &
	local pid=$!
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid"
		check "$what: the daemon refuses to start" false
		return
	fi
	wait "$pid"
	rc=$?
	sed 's/^/    | /' "$E2E_TMP/refused.err"
	check "$what: the daemon refuses to start (exit 1, no control socket)" \
		test "$rc" = 1 -a ! -S "$SPRAWL_RUN_DIR/control.sock"
	check "$what: the message names the file and what to do" grep -qE "$pat" "$E2E_TMP/refused.err"
	check "$what: the set is untouched" test "$(md5sum <"$SET")" = "$set_sum"
	check "$what: the key is as it was" \
		test "$( [ -e "$KEY" ] && md5sum <"$KEY" || echo absent)" = "$key_state"
	E2E_SCAN+=("$E2E_TMP/refused.out" "$E2E_TMP/refused.err")
}

# (c) the key replaced by another valid key
head -c 32 /dev/urandom >"$KEY.new" && chmod 0600 "$KEY.new" && mv "$KEY.new" "$KEY"
refused "key replaced" "^sprawlwatchd: error: $SET: the secret set was made under another key than $KEY \(the key was replaced\): restore the key"
# (d) the key damaged (cut short)
head -c 20 "$E2E_TMP/key.good" >"$KEY"
refused "key damaged" "^sprawlwatchd: error: $KEY: the key is damaged \(a key is exactly 32 bytes, this file is 20\): restore it"
# (e) the key missing, the set present
rm -f "$KEY"
refused "key missing with the set present" "^sprawlwatchd: error: $KEY: the key is missing but the secret set $SET exists .*: restore the key from a backup .* or move $SET aside"
check "key missing: no new key was made" test ! -e "$KEY"

# The real key back: the daemon starts with both secrets and no new warning.
cp -p "$E2E_TMP/key.good" "$KEY"
e2e_start
check "with the key restored the daemon tracks both secrets" test "$(status_field "s['secrets']")" = 2
e2e_stop
expect_alerts "no other state_warning was raised" 2 "a['kind']=='state_warning'"
e2e_finish
