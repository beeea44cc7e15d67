#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Alerts reach a real rsyslogd over TCP (RFC 5424, octet counting) with every field intact,
# and no secret value does. Runs a private rsyslogd on loopback with its own config, pid file
# and output file; needs root (installs rsyslog with apt-get when missing). When it cannot run
# (not root, rsyslog not installable) it exits 77 with the reason: a skip, never a pass (and a
# failure under SPRAWL_STRICT=1).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
COUNT=${COUNT:-25}

skip() { echo "SKIP e2e_syslog_rsyslog: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (installs and runs rsyslogd, loads BPF programs)"
if ! command -v rsyslogd >/dev/null 2>&1 && [ ! -x /usr/sbin/rsyslogd ]; then
	echo "e2e_syslog_rsyslog: installing rsyslog"
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q rsyslog >/dev/null ||
		{ timeout 300 apt-get update -q >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q rsyslog >/dev/null; } ||
		skip "rsyslog is not installed and apt-get could not install it"
fi
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || skip "no rsyslogd after installing rsyslog"

WORK=$(mktemp -d /tmp/sw-e2e-rsyslog-XXXXXX)
PID=""
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill "$PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "e2e_syslog_rsyslog: FAIL: $*"; [ -f "$WORK/out.log" ] && head -c 2000 "$WORK/out.log"; exit 1; }

# The driver, against the library.
if [ ! -f "$ROOT/.output/libsprawl.a" ]; then
	make -C "$ROOT" --no-print-directory .output/libsprawl.a
fi
cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -I"$ROOT/userspace/src" \
	-I"$ROOT/.output/gen" -o "$WORK/syslog_send" "$ROOT/tests/e2e/syslog_send.c" \
	"$ROOT/.output/libsprawl.a" $(pkg-config --libs libsodium libprotobuf-c) -lpthread

# A free loopback port.
PORT=""
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 30000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || fail "no free port"

mkdir -p "$WORK/spool"
cat >"$WORK/rsyslog.conf" <<CONF
global(workDirectory="$WORK/spool")
module(load="imtcp")
template(name="swraw" type="string"
         string="%pri%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
ruleset(name="sprawl") {
	action(type="omfile" file="$WORK/out.log" template="swraw")
}
input(type="imtcp" address="127.0.0.1" port="$PORT" ruleset="sprawl")
CONF
"$RSYSLOGD" -N1 -f "$WORK/rsyslog.conf" >/dev/null 2>&1 || fail "rsyslog rejects the config"
"$RSYSLOGD" -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslogd.pid" >"$WORK/rsyslogd.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	kill -0 "$PID" 2>/dev/null || fail "rsyslogd exited: $(cat "$WORK/rsyslogd.log")"
	sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "rsyslogd did not listen on $PORT"

timeout 30 "$WORK/syslog_send" "tcp:127.0.0.1:$PORT" "$COUNT" "$WORK/value" ||
	fail "driver failed"

for _ in $(seq 100); do
	[ -f "$WORK/out.log" ] && [ "$(wc -l <"$WORK/out.log")" -ge "$COUNT" ] && break
	sleep 0.1
done
[ -f "$WORK/out.log" ] || fail "rsyslog wrote nothing"
lines=$(wc -l <"$WORK/out.log")
[ "$lines" -eq "$COUNT" ] || fail "rsyslog got $lines messages, expected $COUNT"

# Every message: authpriv.err (83), our hostname, app, pid, msgid, and the alert JSON.
timeout 30 python3 - "$WORK/out.log" "$COUNT" <<'PY' || fail "fields"
import json, sys
path, count = sys.argv[1], int(sys.argv[2])
seen = set()
with open(path, encoding="utf-8") as f:
    for line in f:
        pri, host, app, procid, msgid, sd, msg = line.rstrip("\n").split("|", 6)
        assert pri == "83", pri
        assert host == "e2ehost", host
        assert app == "sprawlwatch", app
        assert procid.isdigit(), procid
        assert msgid == "secret_spread", msgid
        assert sd == "-", sd
        a = json.loads(msg)
        assert a["kind"] == "secret_spread" and a["severity"] == "high"
        assert a["host"] == "e2ehost"
        assert a["secret"]["name"] == "E2E_TOKEN" and a["secret"]["variant"] == "raw"
        assert a["artifact"] == {"type": "exec_arg", "path": "/usr/bin/curl", "index": 2}
        assert a["process"]["argv"] == ["curl", "-H", "[redacted]"], a["process"]["argv"]
        assert a["first_seen"] is True and a["count"] == 1
        assert a["time"].endswith("Z") and len(a["time"]) == 27
        assert any(r["id"] == "ASI03" for r in a["frameworks"])
        seen.add(a["secret"]["id"])
assert len(seen) == count, (len(seen), count)
PY

# The value given to the driver never reached rsyslog or its spool, in any encoding the
# matcher knows (tests/e2e/noplain.py).
noplain() { # noplain VALUE_FILE PATH...: no form of the value in the files
	local list=$WORK/.list
	base64 -w0 <"$1" >"$list"
	shift
	python3 "$ROOT/tests/e2e/noplain.py" "$list" "$@"
}
noplain "$WORK/value" "$WORK/out.log" "$WORK/spool" "$WORK/rsyslogd.log" ||
	fail "secret value found in rsyslog output"

# The daemon itself: sprawlwatchd --syslog, a session leaking a secret into a file.
BIN=${BIN:-$ROOT/.output/bin}
export SPRAWL_STATE_DIR=$WORK/state SPRAWL_RUN_DIR=$WORK/run SPRAWL_PIN_DIR=/sys/fs/bpf/sprawl-e2e-syslog-$$
DPID=""
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
	DPID=""
	rm -rf "$SPRAWL_PIN_DIR"
}
trap 'stop_daemon; cleanup' EXIT
"$BIN/sprawlwatchd" --alerts "$WORK/alerts.jsonl" --syslog "tcp:127.0.0.1:$PORT" \
	>"$WORK/daemon.out" 2>"$WORK/daemon.err" &
DPID=$!
for _ in $(seq 300); do
	[ -S "$SPRAWL_RUN_DIR/control.sock" ] && "$BIN/sprawlctl" status >/dev/null 2>&1 && break
	kill -0 "$DPID" 2>/dev/null || fail "daemon exited: $(cat "$WORK/daemon.err")"
	sleep 0.1
done
python3 -c 'import secrets; print("dmn_" + secrets.token_urlsafe(30))' >"$WORK/dvalue"
"$BIN/sprawlctl" secrets add DAEMON_TOKEN <"$WORK/dvalue" >/dev/null || fail "secrets add"
"$BIN/sprawlctl" run -- sh -c "read -r l < '$WORK/dvalue'; printf '%s\n' \"\$l\" > '$WORK/leaked'"
for _ in $(seq 100); do
	[ "$(wc -l <"$WORK/out.log")" -ge $((COUNT + 1)) ] && break
	sleep 0.1
done
stop_daemon
timeout 30 python3 - "$WORK/out.log" "$COUNT" "$WORK/leaked" <<'PY' || fail "the daemon's alert via syslog"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == int(sys.argv[2]) + 1, len(lines)
pri, host, app, procid, msgid, sd, msg = lines[-1].split("|", 6)
a = json.loads(msg)
assert app == "sprawlwatch" and msgid == "secret_spread" and pri == "84", (app, msgid, pri)
assert a["secret"]["name"] == "DAEMON_TOKEN" and a["artifact"]["path"] == sys.argv[3], a
PY
tr -d '\n' <"$WORK/dvalue" >"$WORK/dvalue.raw"
noplain "$WORK/dvalue.raw" "$WORK/out.log" "$WORK/spool" "$WORK/alerts.jsonl" \
	"$WORK/daemon.out" "$WORK/daemon.err" "$WORK/state" ||
	fail "the daemon's secret value found in its outputs or rsyslog's"

echo "e2e_syslog_rsyslog: 2 passed, 0 failed ($COUNT alerts from the sink and 1 from sprawlwatchd --syslog via rsyslog $("$RSYSLOGD" -v | head -1 | awk '{print $2}'))"
