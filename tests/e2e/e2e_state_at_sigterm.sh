#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM stops the daemon with its state saved and its held alerts emitted (README: "The
# daemon stops on SIGTERM (everything detached, held alerts emitted, state saved)"):
# - the registry is written at the stop, not only by the once-a-second flush: a place alerted
#   a few milliseconds before SIGTERM is known after the restart (the same sighting again is
#   counted, not alerted). Four rounds, each stopping the daemon within ~0.25 s of the alert,
#   so the periodic flush cannot stand in for the one at the stop;
# - a file alert still held for its 0.5 s rename window is emitted at the stop.
. "$(dirname "$0")/lib.sh"
# Its daemons are stopped by a signal of its own, right after an alert, round after round: their
# alerts are not collected run by run, so replay = live is left to the other tests.
E2E_REPLAY_CHECKED=1

e2e_start
T=$(new_secret TERM_KEY)
printf 'k=%s' "$T" >"$E2E_TMP/value"
e2e_stop

# Sends SIGTERM to the daemon as soon as (5 ms polls) an alert for UDP peer 127.0.0.1:PORT is
# in the alert file.
term_on_alert() {
	python3 - "$ALERTS" "$DAEMON_PID" "$1" <<'PY'
import json, os, signal, sys, time
path, pid, peer = sys.argv[1], int(sys.argv[2]), "127.0.0.1:" + sys.argv[3]
end = time.time() + 10
while time.time() < end:
    try:
        for l in open(path):
            a = json.loads(l)
            if (a.get("artifact") or {}).get("peer") == peer:
                os.kill(pid, signal.SIGTERM)
                sys.exit(0)
    except FileNotFoundError:
        pass
    time.sleep(0.005)
sys.exit("no alert for " + peer)
PY
}
wait_exit() { # the daemon, signalled, exits with status 0 within 10 s
	local rc
	for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$DAEMON_PID"
	rc=$?
	DAEMON_PID=
	return $rc
}
udp_leak() { # udp_leak PORT: a session sends the secret to 127.0.0.1:PORT
	"$SPRAWLCTL" run -- python3 -c "
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(open(sys.argv[1], 'rb').read(), ('127.0.0.1', int(sys.argv[2])))
" "$E2E_TMP/value" "$1"
}

for round in 1 2 3 4; do
	PORT=$((20000 + RANDOM % 20000))
	: >"$ALERTS"
	e2e_start
	udp_leak "$PORT" &
	LEAK=$!
	check "round $round: SIGTERM right after the alert for udp :$PORT" term_on_alert "$PORT"
	wait "$LEAK"
	check "round $round: ... the daemon exits 0" wait_exit
	: >"$ALERTS"
	e2e_start
	udp_leak "$PORT"
	barrier "round $round: the repeat sighting processed"
	expect_alerts "round $round: after the restart the place is known: no second alert" 0 \
		"a['kind']=='secret_spread' and a['secret']['name']=='TERM_KEY'"
	check "round $round: ... the registry counts the sighting twice" test "$(status_field "
[p['count'] for p in s['places'] if p['secret']['name'] == 'TERM_KEY' and p['place'] == 'socket:udp:127.0.0.1%3A$PORT']")" = "[2]"
	e2e_stop
done

# A file alert is held 0.5 s (renames); SIGTERM at once still emits it.
: >"$ALERTS"
e2e_start
"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/value'; printf '%s\n' \"\$l\" > '$WORK/held'"
kill -TERM "$DAEMON_PID"
check "SIGTERM while a file alert is held: the daemon exits 0" wait_exit
expect_alerts "... and the held alert was emitted at the stop" 1 \
	"a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/held'"
e2e_finish
