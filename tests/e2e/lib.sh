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

# A test that cannot run says why and exits 77; the runner counts that as a skip, or, with
# SPRAWL_STRICT=1 (CI), as a failure with the reason printed.
e2e_skip() {
	echo "SKIP $E2E_NAME: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || e2e_skip "needs root (loads BPF programs)"

E2E_TMP=$(mktemp -d /tmp/sprawl-e2e.XXXXXX)
chmod 0755 "$E2E_TMP"
# Every secret a test makes is listed here (base64, one a line; the directory is not one the
# no-plaintext check scans), so e2e_finish can check the daemon's outputs for all of them.
E2E_SECRETS=$E2E_TMP/.secrets/list
mkdir -m 0700 "$E2E_TMP/.secrets"
: >"$E2E_SECRETS"
# Files the daemon (or a sink fed by it) wrote, beyond the state dir, the alert file and its
# stdout/stderr: tests add theirs (a hook's output, a trace dump) for the no-plaintext check.
E2E_SCAN=()
# Alerts of the harness's own sentinel secret (see barrier) are not the test's: count_alerts
# leaves them out.
E2E_BARRIER_NAME=SW_E2E_BARRIER
E2E_BARRIER_N=0
E2E_BARRIER_VALUE=
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

# A fresh random token: the tests never contain a secret, they make one. It is listed for
# the no-plaintext check at e2e_finish.
gen_secret() {
	python3 -c '
import base64, secrets, sys
v = sys.argv[1] + secrets.token_urlsafe(int(sys.argv[2]))
open(sys.argv[3], "a").write(base64.b64encode(v.encode()).decode() + "\n")
print(v)' "${1:-tok_}" "${2:-30}" "$E2E_SECRETS"
}

# Lists a value made elsewhere (a detector-shaped token) for the no-plaintext check.
track_plaintext() {
	printf '%s' "$1" | base64 -w0 >>"$E2E_SECRETS"
	echo >>"$E2E_SECRETS"
}

# The rules a test's daemon runs: the compiled-in ones (rules/*.yaml) but for the agent table,
# which holds one agent no program is named like, so the daemon adopts none of the agents
# other people run on a shared host (their alerts, truncations and sessions would otherwise
# land in this test's counts). Tests of the agent rules themselves set E2E_AGENT_RULES=1
# before e2e_start and get the compiled-in rules whole.
e2e_rules() {
	local d=$E2E_TMP/rules
	if [ ! -d "$d" ]; then
		mkdir -p "$d"
		cp "$E2E_ROOT/rules/detectors.yaml" "$E2E_ROOT/rules/policy.yaml" "$d/"
		python3 - "$E2E_ROOT/rules/agents.yaml" "$d/agents.yaml" <<'PY'
import sys
s = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(s[:s.index("\nagents:")] + """
agents:
  - label: sprawl-e2e-none
    basename: [sprawl-e2e-no-such-agent]
""")
PY
	fi
	printf '%s' "$d"
}

# Starts the daemon with private directories; returns once the control socket answers. The
# daemon records its trace log (in the state dir unless the test names a --trace-dir) so that
# e2e_finish can check that a replay raises exactly the live alerts.
e2e_start() {
	local prev= rules=()
	[ -n "${E2E_AGENT_RULES:-}" ] || rules=(--rules "$(e2e_rules)")
	E2E_TRACE_DIR=${E2E_TRACE_DIR:-$SPRAWL_STATE_DIR/trace}
	for a in "$@"; do
		[ "$prev" = --trace-dir ] && E2E_TRACE_DIR=$a
		prev=$a
	done
	# What this run alerts is kept aside at its stop (tests truncate or switch alert files
	# between runs; the trace holds every run).
	E2E_RUN_ALERTS=$ALERTS
	E2E_RUN_SEEN=$([ -f "$ALERTS" ] && wc -l <"$ALERTS" || echo 0)
	"$SPRAWLWATCHD" --alerts "$ALERTS" "${rules[@]}" "$@" >"$E2E_TMP/daemon.out" \
		2>"$E2E_TMP/daemon.err" &
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
	if [ -n "${E2E_RUN_ALERTS:-}" ]; then
		tail -n +$((E2E_RUN_SEEN + 1)) "$E2E_RUN_ALERTS" >>"$E2E_TMP/.alerts-history" 2>/dev/null
		E2E_RUN_ALERTS=
	fi
	return $rc
}

# kill -9: the daemon stops with no word; its pinned programs go on capturing.
e2e_crash() {
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	if [ -n "${E2E_RUN_ALERTS:-}" ]; then
		tail -n +$((E2E_RUN_SEEN + 1)) "$E2E_RUN_ALERTS" >>"$E2E_TMP/.alerts-history" 2>/dev/null
		E2E_RUN_ALERTS=
	fi
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
# predicate over the alert `a`. A predicate that raises is a failure of the test.
wait_alerts() {
	local n=$1 pred=$2 secs=${3:-10} i got
	for i in $(seq $((secs * 10))); do
		if ! got=$(count_alerts "$pred"); then
			echo "  FAIL predicate [$pred] cannot be evaluated"
			E2E_FAILS=$((E2E_FAILS + 1))
			return 1
		fi
		[ "$got" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# Number of alerts in the alert file matching a python predicate over `a`. A predicate that
# raises (KeyError, IndexError, TypeError: a typo, a field the alert lacks) or a line that is
# not JSON makes it print the reason on stderr and return 2: guard optional fields with
# a.get() or a test of the kind/type first. Left out: the barrier's sentinel alerts, and
# alerts of sessions the agent rules started (rules/agents.yaml labels) unless the test names
# the labels it runs in E2E_OWN_AGENTS: with E2E_AGENT_RULES=1 other agents on a shared host
# are watched too.
count_alerts() {
	python3 - "$ALERTS" "$1" "$E2E_BARRIER_NAME" "$E2E_ROOT/rules/agents.yaml" \
		"${E2E_OWN_AGENTS:-}" <<'PY'
import json, re, sys
path, pred, barrier, rules, own = sys.argv[1:6]
foreign = set(re.findall(r"^\s*-\s*label:\s*([\w.-]+)", open(rules).read(), re.M)) - set(own.split())
code = compile(pred, "<predicate>", "eval")
# Every field an alert can have (DESIGN.md's schema and its additions), and every key in the file.
known = set("""time kind severity host secret id name variant artifact type path dev ino proto peer
sni index reader_pid reader_exe process pid ppid uid comm exe argv session agent root_pid root_exe
first_seen origin count gaps channel message frameworks cgroup container runtime secrets places
action length label first_us read_origin more_places more_secrets framework""".split())
def keys(o):
    if isinstance(o, dict):
        for k, v in o.items():
            known.add(k)
            keys(v)
    elif isinstance(o, list):
        for v in o:
            keys(v)
n = 0
try:
    lines = open(path).read().splitlines()
except FileNotFoundError:
    lines = []
for no, line in enumerate(lines, 1):
    if not line.strip():
        continue
    try:
        a = json.loads(line)
    except ValueError as e:
        sys.exit("count_alerts: %s line %d is not JSON: %s" % (path, no, e))
    keys(a)
    s = a.get("secret")
    if isinstance(s, dict) and s.get("name") == barrier:
        continue
    if (a.get("session") or {}).get("agent") in foreign:
        continue  # another agent on this host
    try:
        if eval(code, {}, {"a": a}):
            n += 1
    except (KeyError, TypeError, IndexError) as e:
        # A field this alert does not have (a pipe's artifact has no path, a gap no secret):
        # no match. A key no alert has anywhere is a typo in the predicate: a failure.
        if isinstance(e, KeyError) and e.args and e.args[0] not in known:
            sys.exit("count_alerts: predicate [%s] asks for %r, a field no alert has"
                     % (pred, e.args[0]))
        continue
    except Exception as e:
        sys.exit("count_alerts: predicate [%s] raised %s: %s on alert %d (kind %s)"
                 % (pred, type(e).__name__, e, no, a.get("kind")))
print(n)
PY
}

# Asserts exactly N alerts match the predicate.
expect_alerts() {
	local what=$1 n=$2 pred=$3 got
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if ! got=$(count_alerts "$pred"); then
		echo "  FAIL $what: the predicate cannot be evaluated"
		E2E_FAILS=$((E2E_FAILS + 1))
	elif [ "$got" -eq "$n" ]; then
		echo "  ok   $what"
	else
		echo "  FAIL $what: expected $n alert(s) matching [$pred], got $got"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# A positive barrier, to close a negative check ("no alert here", "exactly N"): a new session
# writes the harness's sentinel secret into a new file, and this returns once that alert is
# in the alert file. The ring buffer is one queue and held file alerts leave in order, so
# everything a session did before the barrier has been processed and alerted by then. With
# a dead or stalled daemon the barrier fails the test, instead of the negative check passing.
# The sentinel's alerts are invisible to count_alerts. Usage: barrier [WHAT]
barrier() {
	local what=${1:-earlier events processed} dst
	if [ -z "$E2E_BARRIER_VALUE" ]; then
		E2E_BARRIER_VALUE=$(new_secret "$E2E_BARRIER_NAME" barrier_ 30) || {
			echo "  FAIL barrier: cannot register the sentinel secret"
			E2E_FAILS=$((E2E_FAILS + 1))
			return 1
		}
		printf '%s\n' "$E2E_BARRIER_VALUE" >"$E2E_TMP/.secrets/barrier.src"
	fi
	E2E_BARRIER_N=$((E2E_BARRIER_N + 1))
	dst=$WORK/.barrier.$E2E_BARRIER_N
	"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/.secrets/barrier.src'; printf '%s\n' \"\$l\" > '$dst'"
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if [ "$(barrier_seen "$dst")" = 1 ]; then
		echo "  ok   barrier: $what"
		return 0
	fi
	echo "  FAIL barrier: the sentinel leak into $dst was not alerted within 15 s ($what)"
	E2E_FAILS=$((E2E_FAILS + 1))
	return 1
}

barrier_seen() { # prints 1 once the sentinel's alert for file $1 is in the alert file (15 s)
	python3 - "$ALERTS" "$E2E_BARRIER_NAME" "$1" <<'PY'
import json, sys, time
end = time.time() + 15
while time.time() < end:
    try:
        for l in open(sys.argv[1]):
            try:
                a = json.loads(l)
            except ValueError:
                continue
            if (a.get("secret") or {}).get("name") == sys.argv[2] and \
                    (a.get("artifact") or {}).get("path") == sys.argv[3]:
                print(1)
                sys.exit()
    except FileNotFoundError:
        pass
    time.sleep(0.1)
print(0)
PY
}

# One field of `sprawlctl status --json` (a python expression over `s`), e.g.
# status_field "s['loss']['truncated']". Fails when the daemon does not answer.
status_field() {
	"$SPRAWLCTL" status --json | python3 -c 'import json, sys; s = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# No file the daemon wrote (state dir, alerts, its stdout/stderr, and E2E_SCAN) holds a
# secret in any form the matcher knows (tests/e2e/noplain.py; its unit test is
# tests/unit/test_noplain.py). With an argument: that secret (listed for the final check too);
# without: every secret the test made. e2e_finish runs it for all of them.
expect_no_plaintext() {
	local list=$E2E_SECRETS out
	if [ $# -gt 0 ]; then
		track_plaintext "$1"
		list=$E2E_TMP/.secrets/one
		printf '%s' "$1" | base64 -w0 >"$list"
	fi
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if out=$(python3 "$E2E_ROOT/tests/e2e/noplain.py" "$list" "$SPRAWL_STATE_DIR" "$ALERTS" \
		"$E2E_TMP/daemon.out" "$E2E_TMP/daemon.err" "${E2E_SCAN[@]}"); then
		echo "  ok   no plaintext (any encoding) of $(grep -c . "$list") secret(s) in state dir, alerts, daemon stdout/stderr${E2E_SCAN[*]:+ and ${#E2E_SCAN[@]} more}"
	else
		echo "  FAIL the daemon's own output contains a secret:"
		echo "$out"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
	rm -f "$E2E_TMP/.secrets/one"
}

# Replay equals live: the daemon stops (its trace and held alerts complete), the trace it
# recorded is replayed, and the two alert sets must be equal field for field, times included.
check_replay_equals_live() {
	local live=$E2E_TMP/.alerts-history
	[ -d "${E2E_TRACE_DIR:-/nonexistent}" ] && [ -z "${E2E_REPLAY_CHECKED:-}" ] || return 0
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		e2e_stop
	fi
	[ -s "$live" ] || return 0
	"$BIN/sprawlctl" replay "$E2E_TRACE_DIR" --alerts "$E2E_TMP/replay-check.jsonl" \
		>/dev/null 2>"$E2E_TMP/replay-check.err"
	E2E_SCAN+=("$E2E_TMP/replay-check.jsonl" "$E2E_TMP/replay-check.err")
	check "replay of the recorded trace raises exactly the live alerts, times included" \
		python3 "$E2E_ROOT/tests/e2e/replay_equals_live.py" "$live" \
		"$E2E_TMP/replay-check.jsonl"
}

e2e_finish() {
	check_replay_equals_live
	[ -s "$E2E_SECRETS" ] && expect_no_plaintext
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

# Starts a loopback HTTPS server (python, a self-signed certificate for localhost and
# 127.0.0.1 made here with openssl) in the background; sets HTTPS_PORT, HTTPS_PID and
# HTTPS_CA (the certificate, for curl --cacert, SSL_CERT_FILE, NODE_EXTRA_CA_CERTS). Every
# request body it receives is appended to $E2E_TMP/https.bodies (the test's own file: what
# the peer got, for guard checks). It is stopped at exit.
start_https() {
	HTTPS_CA=$E2E_TMP/https.crt
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$E2E_TMP/https.key" \
		-out "$HTTPS_CA" 2>/dev/null || return 1
	: >"$E2E_TMP/https.bodies"
	python3 - "$E2E_TMP/https.port" "$HTTPS_CA" "$E2E_TMP/https.key" "$E2E_TMP/https.bodies" \
		<<'PY' >"$E2E_TMP/https.log" 2>&1 &
import http.server, socketserver, ssl, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); b = self.rfile.read(n)
        with open(sys.argv[4], "ab") as f: f.write(b + b"\n")
        self.do_GET()
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.timeout = 1
end = time.time() + 600
while time.time() < end:
    s.handle_request()
PY
	HTTPS_PID=$!
	for _ in $(seq 50); do [ -s "$E2E_TMP/https.port" ] && break; sleep 0.1; done
	HTTPS_PORT=$(cat "$E2E_TMP/https.port")
	E2E_KILL="${E2E_KILL:-} $HTTPS_PID"
}

# A file system of type $1 (xfs, ext4) made on a fresh $2 image and mounted by loop at MNT
# ($E2E_TMP/$1); unmounted when the test exits.
e2e_mount_image() {
	IMG=$E2E_TMP/$1.img
	MNT=$E2E_TMP/$1
	truncate -s "$2" "$IMG"
	case $1 in
	xfs) mkfs.xfs -q -f "$IMG" ;;
	*) "mkfs.$1" -q -F "$IMG" ;;
	esac
	mkdir -p "$MNT"
	mount -o loop "$IMG" "$MNT"
	trap 'umount "$MNT" 2>/dev/null; e2e_cleanup' EXIT
}

# A thin push from REPO (to its origin, branch main, in sessions): a 24 KiB file is pushed, then
# one line of it changed to hold a fresh secret registered under NAME and pushed again; the
# second pack carries the blob as a REF_DELTA on the first version, which it does not hold.
thin_push() {
	local repo=$1 name=$2 src=$E2E_TMP/.secrets/$2.src
	python3 - "$repo/big.txt" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    for i in range(400):
        f.write("line %03d %s\n" % (i, base64.b64encode(os.urandom(36)).decode()))
PY
	"$SPRAWLCTL" run -- sh -c "cd '$repo' && git add big.txt && git commit -qm big && git push -q origin main"
	# (handed over in a file: an interpreter's argv is recorded)
	new_secret "$name" ghp_ 30 >"$src" && printf '\n' >>"$src"
	python3 - "$repo/big.txt" "$src" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
lines[200] = "token: %s" % open(sys.argv[2]).read()
open(sys.argv[1], "w").write("".join(lines))
PY
	"$SPRAWLCTL" run -- sh -c "cd '$repo' && git commit -qam thin && git push -q origin main"
}

# Registers a fresh secret under NAME and prints its value (for the test only).
new_secret() {
	local name=$1 v
	v=$(gen_secret "${2:-tok_}" "${3:-30}")
	printf '%s' "$v" | "$SPRAWLCTL" secrets add "$name" >/dev/null || return 1
	printf '%s' "$v"
}
