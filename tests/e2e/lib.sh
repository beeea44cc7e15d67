# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the e2e tests: a private daemon, run-time secrets, JSON assertions.
# Each test is a bash script that sources this file, calls `e2e_start`, and ends with
# `e2e_finish`. Every wait is bounded.

set -u
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$E2E_ROOT/.output/bin}
SPRAWLCTL=$BIN/sprawlctl
SPRAWLWATCHD=$BIN/sprawlwatchd
E2E_FAILS=0
E2E_CHECKS=0
E2E_NAME=$(basename "$0" .sh)

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP $E2E_NAME: needs root (loads BPF programs)"
	exit 77
fi

E2E_TMP=$(mktemp -d /tmp/sprawl-e2e.XXXXXX)
chmod 0755 "$E2E_TMP"
export SPRAWL_STATE_DIR=$E2E_TMP/state
export SPRAWL_RUN_DIR=$E2E_TMP/run
export SPRAWL_PIN_DIR=/sys/fs/bpf/sprawl-e2e-$$
ALERTS=$E2E_TMP/alerts.jsonl
WORK=$E2E_TMP/work
mkdir -p "$WORK"
DAEMON_PID=

e2e_cleanup() {
	local k
	for k in ${E2E_KILL:-}; do kill "$k" 2>/dev/null; done
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DAEMON_PID" 2>/dev/null
	fi
	rm -rf "$SPRAWL_PIN_DIR"
	if [ "$E2E_FAILS" -eq 0 ] && [ -z "${E2E_KEEP:-}" ]; then
		rm -rf "$E2E_TMP"
	else
		echo "  (kept $E2E_TMP for inspection)"
	fi
}
trap e2e_cleanup EXIT

# A fresh random token: the tests never contain a secret, they make one.
gen_secret() {
	python3 -c 'import secrets,sys; print(sys.argv[1] + secrets.token_urlsafe(int(sys.argv[2])))' \
		"${1:-tok_}" "${2:-30}"
}

# Starts the daemon with private directories; returns once the control socket answers. The
# daemon records its trace log (in the state dir unless the test names a --trace-dir) so that
# e2e_finish can check that a replay raises exactly the live alerts.
e2e_start() {
	local prev=
	E2E_TRACE_DIR=${E2E_TRACE_DIR:-$SPRAWL_STATE_DIR/trace}
	for a in "$@"; do
		[ "$prev" = --trace-dir ] && E2E_TRACE_DIR=$a
		prev=$a
	done
	case " ${E2E_ALERT_FILES:-} " in *" $ALERTS "*) ;; *) E2E_ALERT_FILES="${E2E_ALERT_FILES:-} $ALERTS" ;; esac
	"$SPRAWLWATCHD" --alerts "$ALERTS" "$@" >"$E2E_TMP/daemon.out" 2>"$E2E_TMP/daemon.err" &
	DAEMON_PID=$!
	for _ in $(seq 300); do
		if [ -S "$SPRAWL_RUN_DIR/control.sock" ] && "$SPRAWLCTL" status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL $E2E_NAME: daemon did not become ready"
	cat "$E2E_TMP/daemon.err"
	exit 1
}

e2e_stop() {
	kill -TERM "$DAEMON_PID"
	for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$DAEMON_PID"
	local rc=$?
	DAEMON_PID=
	return $rc
}

check() {
	local what=$1
	shift
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if "$@"; then
		echo "  ok   $what"
	else
		echo "  FAIL $what"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# Waits (bounded, seconds) until the alert file has at least N lines matching a python
# predicate over the alert `a`.
wait_alerts() {
	local n=$1 pred=$2 secs=${3:-10} i
	for i in $(seq $((secs * 10))); do
		[ "$(count_alerts "$pred")" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# Number of alerts in the alert file matching a python predicate over `a`.
count_alerts() {
	python3 - "$ALERTS" "$1" <<'PY'
import json, sys
path, pred = sys.argv[1], sys.argv[2]
n = 0
try:
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        a = json.loads(line)
        try:
            if eval(pred, {}, {"a": a}):
                n += 1
        except (KeyError, IndexError, TypeError):
            pass  # an alert without the fields asked about does not match
except FileNotFoundError:
    pass
print(n)
PY
}

# Asserts exactly N alerts match the predicate.
expect_alerts() {
	local what=$1 n=$2 pred=$3 got
	got=$(count_alerts "$pred")
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if [ "$got" -eq "$n" ]; then
		echo "  ok   $what"
	else
		echo "  FAIL $what: expected $n alert(s) matching [$pred], got $got"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# No file the daemon wrote (state dir, alerts, its stdout/stderr) holds the plaintext, raw or
# in a common encoding.
expect_no_plaintext() {
	local secret=$1 forms f leaked=0
	forms=$(python3 - "$secret" <<'PY'
import base64, sys
s = sys.argv[1].encode()
print(s.decode())
print(base64.b64encode(s).decode().rstrip("="))
print(s.hex())
PY
)
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		if grep -rqF -- "$f" "$SPRAWL_STATE_DIR" "$ALERTS" "$E2E_TMP/daemon.out" \
			"$E2E_TMP/daemon.err" 2>/dev/null; then
			leaked=1
		fi
	done <<<"$forms"
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if [ "$leaked" -eq 0 ]; then
		echo "  ok   no plaintext in state dir, alerts, daemon stdout/stderr"
	else
		echo "  FAIL the daemon's own output contains the secret"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# Replay equals live: the daemon stops (its trace and held alerts complete), the trace it
# recorded is replayed, and the two alert sets must be equal field for field, times included.
check_replay_equals_live() {
	local f live=$E2E_TMP/live-all.jsonl
	[ -d "${E2E_TRACE_DIR:-/nonexistent}" ] && [ -z "${E2E_REPLAY_CHECKED:-}" ] || return 0
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		e2e_stop
	fi
	: >"$live"
	for f in ${E2E_ALERT_FILES:-}; do cat "$f" >>"$live" 2>/dev/null; done
	[ -s "$live" ] || return 0
	"$SPRAWLCTL" replay "$E2E_TRACE_DIR" --alerts "$E2E_TMP/replay-check.jsonl" \
		>/dev/null 2>"$E2E_TMP/replay-check.err"
	check "replay of the recorded trace raises exactly the live alerts, times included" \
		python3 "$E2E_ROOT/tests/e2e/replay_equals_live.py" "$live" \
		"$E2E_TMP/replay-check.jsonl"
}

e2e_finish() {
	check_replay_equals_live
	echo "$E2E_NAME: $((E2E_CHECKS - E2E_FAILS)) passed, $E2E_FAILS failed"
	[ "$E2E_FAILS" -eq 0 ]
}

# Starts a loopback HTTP server (python http.server answering POSTs too) in the background;
# sets HTTP_PORT and HTTP_PID. It is stopped at exit.
start_http() {
	python3 - "$E2E_TMP/http.port" <<'PY' >"$E2E_TMP/http.log" 2>&1 &
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); self.rfile.read(n)
        self.do_GET()
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.timeout = 1
import time
end = time.time() + 600
while time.time() < end:
    s.handle_request()
PY
	HTTP_PID=$!
	for _ in $(seq 50); do [ -s "$E2E_TMP/http.port" ] && break; sleep 0.1; done
	HTTP_PORT=$(cat "$E2E_TMP/http.port")
	E2E_KILL="${E2E_KILL:-} $HTTP_PID"
}

# Registers a fresh secret under NAME and prints its value (for the test only).
new_secret() {
	local name=$1 v
	v=$(gen_secret "${2:-tok_}" "${3:-30}")
	printf '%s' "$v" | "$SPRAWLCTL" secrets add "$name" >/dev/null || return 1
	printf '%s' "$v"
}
