#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One fingerprint set for a fleet: two daemons with separate state dirs and the same key file;
# the set exported by the first and imported by the second gives the same secret the same id
# in both daemons' alerts. The export holds no key and no value; a set made under another key,
# or altered, is refused with a clear message.
. "$(dirname "$0")/lib.sh"
# Several hosts (state dirs), each with its own trace log: the replay = live check of one host
# would compare it with every host's alerts, so it is left to the single-host tests.
E2E_REPLAY_CHECKED=1

STATE_A=$E2E_TMP/state-a
STATE_B=$E2E_TMP/state-b
STATE_C=$E2E_TMP/state-c
SET=$E2E_TMP/fleet.pb
SECRET=$(gen_secret fleet_ 32)
SRC=$E2E_TMP/src.txt
printf 'key=%s\n' "$SECRET" >"$SRC"
leak() {
	"$SPRAWLCTL" run -- sh -c "read -r l < '$SRC'; printf '%s\\n' \"\$l\" > '$1'"
}
alert_id() { # the secret id in the alert for artifact path $1
	python3 - "$ALERTS" "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a.get("artifact", {}).get("path") == sys.argv[2] and a["kind"] == "secret_spread":
        print(a["secret"]["name"], a["secret"]["id"])
PY
}

# Host A: the secret is added there, the set exported.
export SPRAWL_STATE_DIR=$STATE_A
e2e_start
printf '%s\n' "$SECRET" | "$SPRAWLCTL" secrets add FLEET_SHARED >/dev/null
leak "$WORK/a.txt"
wait_alerts 1 "a['artifact'].get('path')=='$WORK/a.txt'" 10
ID_A=$(alert_id "$WORK/a.txt")
check "host A alerts with the secret's id ($ID_A)" test -n "$ID_A"
check "secrets export writes the set" \
	bash -c "'$SPRAWLCTL' secrets export '$SET' | grep -q '^exported 1 secret(s) to $SET'"
e2e_stop
check "the export holds no plaintext (raw, base64, hex)" python3 - "$SET" "$SECRET" <<'PY'
import base64, sys
data = open(sys.argv[1], "rb").read()
s = sys.argv[2].encode()
for form in (s, base64.b64encode(s).rstrip(b"="), s.hex().encode(), s[:12]):
    assert form not in data, form
PY
check "the export holds no key" python3 - "$SET" "$STATE_A/key" <<'PY'
import sys
data, key = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert len(key) == 32
assert all(key[i:i + 8] not in data for i in range(0, 25))
PY

# Host B: its own state dir, the fleet's key installed, the set imported.
: >"$ALERTS"
export SPRAWL_STATE_DIR=$STATE_B
mkdir -p "$STATE_B" && chmod 0700 "$STATE_B"
install -m 0600 "$STATE_A/key" "$STATE_B/key"
check "secrets import merges the set (1 new)" \
	bash -c "'$SPRAWLCTL' secrets import '$SET' | grep -q ': 1 new, 0 replaced, 0 unchanged, 0 skipped'"
check "importing again changes nothing (1 unchanged)" \
	bash -c "'$SPRAWLCTL' secrets import '$SET' | grep -q ': 0 new, 0 replaced, 1 unchanged, 0 skipped'"
e2e_start
leak "$WORK/b.txt"
wait_alerts 1 "a['artifact'].get('path')=='$WORK/b.txt'" 10
ID_B=$(alert_id "$WORK/b.txt")
check "host B alerts with the same name and id as host A ($ID_B)" test "$ID_B" = "$ID_A"
check "host B's secret list shows the same id" \
	bash -c "'$SPRAWLCTL' secrets list | grep -q \"^${ID_A#* } *FLEET_SHARED\""
e2e_stop

# Host D: the same key, the same value added by hand: the same id without any import (the id
# is a keyed hash of the value).
STATE_D=$E2E_TMP/state-d
mkdir -p "$STATE_D" && chmod 0700 "$STATE_D"
install -m 0600 "$STATE_A/key" "$STATE_D/key"
printf '%s\n' "$SECRET" | SPRAWL_STATE_DIR=$STATE_D "$SPRAWLCTL" secrets add LOCAL_NAME >/dev/null
check "a host with the same key computes the same id for the same value" \
	bash -c "SPRAWL_STATE_DIR='$STATE_D' '$SPRAWLCTL' secrets list | grep -q \"^${ID_A#* } *LOCAL_NAME\""

# Host C: another key. The set is refused and nothing is imported.
export SPRAWL_STATE_DIR=$STATE_C
OUT=$("$SPRAWLCTL" secrets import "$SET" 2>&1)
RC=$?
check "a set made with another key is refused (exit 1)" test "$RC" = 1
said() { grep -q -- "$1" <<<"$OUT"; }
check "... with a message that says so" said 'was made with another key'
check "... and what to do" said "install the exporting host's key"
check "... and nothing was imported" \
	bash -c "! '$SPRAWLCTL' secrets list | grep -q FLEET_SHARED"
# An altered set (one byte of a fingerprint flipped) is refused on host B too.
cp "$SET" "$E2E_TMP/altered.pb"
python3 - "$E2E_TMP/altered.pb" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(b)
PY
export SPRAWL_STATE_DIR=$STATE_B
OUT=$("$SPRAWLCTL" secrets import "$E2E_TMP/altered.pb" 2>&1)
check "an altered set is refused: its MAC does not verify" said 'MAC does not verify' 
for d in "$STATE_A" "$STATE_B" "$STATE_D"; do
	SPRAWL_STATE_DIR=$d expect_no_plaintext "$SECRET"
done
e2e_finish
