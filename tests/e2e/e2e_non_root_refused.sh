#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Non-root users are refused (README: "Managing secrets needs root: the fingerprint key is
# readable by root only", `watch PID` is root's): as uid 65534, every `secrets` command fails
# with a message saying why, the set on disk is unchanged, `watch` of another process and a
# `reload` over the control socket are refused by the daemon; the key and the set stay 0600.
. "$(dirname "$0")/lib.sh"

e2e_start
T=$(new_secret ROOT_KEY)
chmod 0755 "$E2E_TMP"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
before=$(md5sum "$SPRAWL_STATE_DIR/secrets.pb" | cut -d' ' -f1)
V=$(gen_secret nr_ 30)
refused() { # refused ARGS...: sprawlctl ARGS as nobody exits 1 saying root is needed
	local out rc
	out=$(printf '%s' "$V" | nobody "$SPRAWLCTL" "$@" 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] && grep -q "needs root" <<<"$out"
}
for cmd in "secrets add NOBODY_KEY" "secrets list" "secrets rm ROOT_KEY" "secrets discover" \
	"secrets import-env /dev/null"; do
	# shellcheck disable=SC2086 # the command is meant to split
	check "as uid 65534: sprawlctl $cmd is refused (needs root)" refused $cmd
done
check "the secret set on disk is unchanged" \
	test "$(md5sum "$SPRAWL_STATE_DIR/secrets.pb" | cut -d' ' -f1)" = "$before"
check "the key and the set are root's, mode 0600" \
	test "$(stat -c '%u %a' "$SPRAWL_STATE_DIR/key" "$SPRAWL_STATE_DIR/secrets.pb" | sort -u)" = "0 600"
sleep 60 &
OTHER=$!
E2E_KILL="${E2E_KILL:-} $OTHER"
check "as uid 65534: watch of another user's process is refused by the daemon" refused watch "$OTHER"
# (the system python: root's may live where uid 65534 cannot run it)
reload_refused() {
	nobody /usr/bin/python3 - "$SPRAWL_RUN_DIR/control.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"reload\n")
r = s.recv(4096).decode()
sys.exit(0 if r.startswith("err") and "needs root" in r else 1)
PY
}
check "as uid 65534: a reload request on the control socket is refused" reload_refused
check "root still manages secrets" bash -c "'$SPRAWLCTL' secrets list | grep -qw ROOT_KEY"
kill "$OTHER" 2>/dev/null
e2e_stop
e2e_finish
