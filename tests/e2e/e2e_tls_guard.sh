#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Guard mode over real https on loopback. --guard redact: a session's TLS write holding a
# tracked secret (raw, or base64) is held before encryption, every variant overwritten in the
# writer's buffer with a marker of the same length, and the write goes on: the server gets the
# request without the secret; the alert says "action": "redacted". A write without a secret
# goes through unchanged. --guard block: curl's POST never arrives (the writer is killed);
# "action": "blocked". A process outside any session is never held. A process the kernel
# stopped while the daemon could not answer (the daemon itself stopped, then killed) is resumed
# by the next daemon's start, and its TLS is hooked again.
. "$(dirname "$0")/lib.sh"

e2e_start --guard redact
start_https
URL="https://localhost:$HTTPS_PORT/v1/messages"
T=$(new_secret GUARD_RAW)
printf 'k=%s&done=1' "$T" >"$E2E_TMP/body.raw"
B=$(new_secret GUARD_B64)
printf '{"b":"%s","done":1}' "$(printf '%s' "$B" | base64 -w0)" >"$E2E_TMP/body.b64"
printf 'nothing secret here' >"$E2E_TMP/body.plain"

"$SPRAWLCTL" run -- curl -sS --cacert "$HTTPS_CA" --data-binary @"$E2E_TMP/body.raw" "$URL" \
	>"$E2E_TMP/curl.out"
check "redact: curl finished its request (exit 0)" test $? -eq 0
SSL_CERT_FILE=$HTTPS_CA "$SPRAWLCTL" run -- python3 - "$URL" "$E2E_TMP/body.b64" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb").read()),
                       timeout=10).read()
PY
check "redact: python3 finished its request (exit 0)" test $? -eq 0
"$SPRAWLCTL" run -- curl -sS --cacert "$HTTPS_CA" --data-binary @"$E2E_TMP/body.plain" "$URL" \
	>/dev/null
barrier
check "redact: three requests arrived" test "$(grep -c . "$E2E_TMP/https.bodies")" -eq 3
check "redact: the raw secret never reached the server" \
	sh -c "! grep -qF -- '$T' '$E2E_TMP/https.bodies'"
check "redact: the base64 form never reached the server" \
	sh -c "! grep -qF -- '$(printf '%s' "$B" | base64 -w0)' '$E2E_TMP/https.bodies'"
check "redact: the raw request arrived, the secret replaced by a marker of its length" \
	grep -qxF "k=$(printf '%*s' ${#T} '' | tr ' ' '*')&done=1" "$E2E_TMP/https.bodies"
check "redact: the request without a secret arrived unchanged" \
	grep -qxF 'nothing secret here' "$E2E_TMP/https.bodies"
TLS="a['kind']=='secret_spread' and a['artifact']['type']=='tls'"
expect_alerts "redact: curl's write: one tls alert, action redacted" 1 \
	"$TLS and a['secret']['name']=='GUARD_RAW' and a['action']=='redacted' and a['process']['comm']=='curl'"
expect_alerts "redact: python's base64 write: one tls alert, variant base64, action redacted" 1 \
	"$TLS and a['secret']['name']=='GUARD_B64' and a['secret']['variant'].startswith('base64') and a['action']=='redacted'"
expect_alerts "redact: every verdict in time (no guard_failed gap)" 0 \
	"a['kind']=='coverage_gap' and 'guard_failed' in a.get('gaps', {})"
# Outside any session: never held, never changed.
curl -sS --cacert "$HTTPS_CA" --data-binary @"$E2E_TMP/body.raw" "$URL" >/dev/null
check "outside a session: the request arrived as sent" grep -qxF "k=$T&done=1" "$E2E_TMP/https.bodies"
e2e_stop

: >"$E2E_TMP/https.bodies"
e2e_start --guard block
# (a secret of its own: a place already seen with a secret does not alert again)
K=$(new_secret GUARD_BLOCK)
printf 'k=%s&done=1' "$K" >"$E2E_TMP/body.block"
"$SPRAWLCTL" run -- curl -sS --cacert "$HTTPS_CA" --data-binary @"$E2E_TMP/body.block" "$URL" \
	>/dev/null 2>"$E2E_TMP/block.err" </dev/null
rc=$?
check "block: curl was killed (exit $rc)" test "$rc" -eq 137
"$SPRAWLCTL" run -- curl -sS --cacert "$HTTPS_CA" --data-binary @"$E2E_TMP/body.plain" "$URL" \
	>/dev/null
check "block: a request without a secret still goes (exit 0)" test $? -eq 0
barrier
check "block: curl's POST never arrived (only the harmless one did)" \
	test "$(cat "$E2E_TMP/https.bodies")" = "nothing secret here"
expect_alerts "block: one tls alert, action blocked" 1 \
	"$TLS and a['secret']['name']=='GUARD_BLOCK' and a['action']=='blocked'"
e2e_stop

# A session process that maps libssl while the daemon cannot answer stays stopped; the next
# daemon resumes it at its start.
e2e_start --guard redact
mkfifo "$E2E_TMP/go"
MARK="held-$$"
( "$SPRAWLCTL" run -- sh -c 'read x <"$1"; exec curl -sS --cacert "$2" --data-binary @"$3" "$4"' \
	sh "$E2E_TMP/go" "$HTTPS_CA" "$E2E_TMP/body.plain" "https://localhost:$HTTPS_PORT/$MARK" \
	>/dev/null; echo $? >"$E2E_TMP/held.rc" ) &
sleep 1
kill -STOP "$DAEMON_PID"
echo go >"$E2E_TMP/go"
pid=
for _ in $(seq 50); do
	pid=$(pgrep -f -- "$MARK" | while read -r p; do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = curl ] && echo "$p"; done | head -n1)
	[ -n "$pid" ] && grep -q '^State:.*T' "/proc/$pid/status" 2>/dev/null && break
	sleep 0.1
done
check "held: curl stopped at its mmap of libssl while the daemon cannot answer" \
	grep -q '^State:.*T' "/proc/${pid:-0}/status"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
E2E_RUN_ALERTS=
e2e_start --guard redact
for _ in $(seq 100); do [ -s "$E2E_TMP/held.rc" ] && break; sleep 0.1; done
check "held: the next daemon resumed it and its request completed (exit $(cat "$E2E_TMP/held.rc" 2>/dev/null))" \
	test "$(cat "$E2E_TMP/held.rc" 2>/dev/null)" = 0
e2e_stop
e2e_finish
