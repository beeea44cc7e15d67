#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The systemd unit: its hardening scores at most 5.0 (systemd-analyze security), its paths
# follow PREFIX, it verifies, and the daemon does what the unit promises when run the way
# the unit runs it: with only the unit's capabilities (a session of another user still
# alerts for a 0600 file read back and for a pipe), the config file, READY=1 on the notify
# socket only once the control socket exists, WATCHDOG=1 pings, RELOADING=1/READY=1 on SIGHUP
# with the [SIGHUP] keys applied, STOPPING=1, and log lines with journald priorities.
# (PID 1 here is not systemd, so the test plays the service manager's part itself.)
. "$(dirname "$0")/lib.sh"

UNIT_IN=$E2E_ROOT/tools/sprawlwatch.service.in
command -v systemd-analyze >/dev/null || { echo "SKIP $E2E_NAME: systemd-analyze missing"; exit 77; }

# --- the unit file ---
make -C "$E2E_ROOT" -s --no-print-directory PREFIX=/opt/swtest OUTPUT="$E2E_TMP/out" \
	"$E2E_TMP/out/sprawlwatch.service" >/dev/null
UNIT=$E2E_TMP/out/sprawlwatch.service
check "ExecStart follows PREFIX" grep -qx \
	'ExecStart=/opt/swtest/sbin/sprawlwatchd --config /etc/sprawlwatch/sprawlwatchd.yaml' "$UNIT"
score=$(systemd-analyze security --offline=true "$UNIT" 2>&1 |
	sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
echo "  (systemd-analyze security --offline=true: $score)"
check "hardening scores at most 5.0 (got ${score:-none})" \
	python3 -c "import sys; sys.exit(0 if '$score' and float('$score') <= 5.0 else 1)"
check "Type=notify with a watchdog" bash -c "grep -qx Type=notify '$UNIT' && grep -q '^WatchdogSec=' '$UNIT'"
# verify needs the binary at ExecStart and the man pages the unit names
mkdir -p "$E2E_TMP/prefix/sbin"
ln -s "$SPRAWLWATCHD" "$E2E_TMP/prefix/sbin/sprawlwatchd"
sed "s|/opt/swtest/sbin|$E2E_TMP/prefix/sbin|" "$UNIT" >"$E2E_TMP/sprawlwatch.service"
check "systemd-analyze verify passes" env MANPATH="$E2E_ROOT/packaging/man" \
	systemd-analyze verify "$E2E_TMP/sprawlwatch.service"

# --- the daemon as the unit runs it ---
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
BOUND=-all
for c in $CAPS; do
	c=${c#CAP_}
	BOUND="$BOUND,+${c,,}"
done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CONF=$E2E_TMP/sprawlwatchd.yaml
printf 'log-level: info\nmetrics: 127.0.0.1:%s\nringbuf-mb: 32\n' "$PORT" >"$CONF"

python3 - "$E2E_TMP/notify.sock" "$SPRAWL_RUN_DIR/control.sock" "$E2E_TMP/notify.log" <<'PY' &
import os, socket, sys, time
path, ctl, log = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
s.settimeout(1)
end = time.time() + 120
with open(log, "w", buffering=1) as out:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        for line in msg.split("\n"):
            if line:
                out.write("%s ctl=%d\n" % (line, os.path.exists(ctl)))
        if "STOPPING=1" in msg:
            break
PY
NOTIFY_PID=$!
E2E_KILL="$NOTIFY_PID"
for _ in $(seq 50); do [ -S "$E2E_TMP/notify.sock" ] && break; sleep 0.1; done

: >"$E2E_TMP/daemon.err"
JS=$(stat -c '%d:%i' "$E2E_TMP/daemon.err")
# WATCHDOG_PID must be the daemon's own pid: exec keeps the shell's.
bash -c 'export WATCHDOG_PID=$$; exec "$@"' _ env NOTIFY_SOCKET="$E2E_TMP/notify.sock" \
	WATCHDOG_USEC=2000000 JOURNAL_STREAM="$JS" \
	setpriv --bounding-set="$BOUND" --inh-caps=-all --no-new-privs \
	"$SPRAWLWATCHD" --config "$CONF" --alerts "$ALERTS" \
	>"$E2E_TMP/daemon.out" 2>>"$E2E_TMP/daemon.err" &
DAEMON_PID=$!
for _ in $(seq 300); do grep -q '^READY=1' "$E2E_TMP/notify.log" 2>/dev/null && break; sleep 0.1; done
check "READY=1 came, after the control socket existed" grep -q '^READY=1 ctl=1' "$E2E_TMP/notify.log"
check "the daemon has exactly the unit's capabilities" bash -c \
	"[ \$(( 0x\$(sed -n 's/^CapEff:\t//p' /proc/$DAEMON_PID/status) )) -eq \$(( 0x\$(sed -n 's/^CapBnd:\t//p' /proc/$DAEMON_PID/status) )) ] && capsh --decode=\$(sed -n 's/^CapEff:\t//p' /proc/$DAEMON_PID/status) | grep -q 'cap_dac_read_search,cap_sys_ptrace,cap_sys_admin,cap_perfmon,cap_bpf\$'"
sleep 2.5
check "WATCHDOG=1 pings (at least 2 in 2.5 s)" test "$(grep -c '^WATCHDOG=1' "$E2E_TMP/notify.log")" -ge 2

# A session of another user: a 0600 file written through a shared mapping (read back: needs
# DAC_READ_SEARCH) and a pipe between two of its processes (the reader from /proc: SYS_PTRACE).
SECRET=$(new_secret UNIT_KEY)
U=$WORK/u
mkdir -p "$U"
chown nobody "$U"
printf '%s' "$SECRET" >"$U/src"
chown nobody "$U/src"
chmod 600 "$U/src"
setpriv --reuid=nobody --regid=nogroup --clear-groups env SPRAWL_RUN_DIR="$SPRAWL_RUN_DIR" \
	"$SPRAWLCTL" run -- python3 -c '
import mmap, os, sys
v = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, len(v) + 10)
m = mmap.mmap(fd, len(v) + 10); m[5:5 + len(v)] = v; m.flush(); m.close(); os.close(fd)' \
	"$U/src" "$U/mapped"
setpriv --reuid=nobody --regid=nogroup --clear-groups env SPRAWL_RUN_DIR="$SPRAWL_RUN_DIR" \
	"$SPRAWLCTL" run -- sh -c "cat '$U/src' | (sleep 0.1; cat >/dev/null)"
wait_alerts 2 "a['kind']=='secret_spread'" 10
sleep 1
expect_alerts "another user's 0600 file is read back (DAC_READ_SEARCH)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$U/mapped' and a['process']['uid']==$(id -u nobody)"
expect_alerts "another user's pipe names its reader (SYS_PTRACE)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='pipe' and a['artifact']['reader_exe']=='/usr/bin/cat'"
# Exactly as many as the alert file holds (other agents on a shared host may add their own).
N_MEDIUM=$(count_alerts "a['kind']=='secret_spread' and a['severity']=='medium'")
check "the config file's metrics address serves (spread/medium = $N_MEDIUM, as in the file)" bash -c \
	"curl -sf -m 5 http://127.0.0.1:$PORT/metrics | grep -q '^sprawlwatch_alerts_total{kind=\"secret_spread\",severity=\"medium\"} $N_MEDIUM\$'"

# SIGHUP: log-level (reloadable) and ringbuf-mb (restart) changed
printf 'log-level: notice\nmetrics: 127.0.0.1:%s\nringbuf-mb: 64\n' "$PORT" >"$CONF"
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do grep -q 'config .* applied' "$E2E_TMP/daemon.err" && break; sleep 0.1; done
check "SIGHUP: RELOADING=1 then READY=1" bash -c \
	"grep -E '^(RELOADING|READY)=1' '$E2E_TMP/notify.log' | tail -2 | cut -d' ' -f1 | tr '\n' ' ' | grep -qx 'RELOADING=1 READY=1 '"
check "SIGHUP: a restart-only key is named, at warning priority <4>" \
	grep -q '^<4>SIGHUP: ringbuf-mb changed in .*: takes effect at the next restart$' "$E2E_TMP/daemon.err"
check "SIGHUP: the new log level applies, said at notice priority <5>" \
	grep -q '^<5>SIGHUP: config .* applied (log-level notice)$' "$E2E_TMP/daemon.err"
check "info lines carry <6>" grep -q '^<6>watching (state ' "$E2E_TMP/daemon.err"
check "no line without a priority prefix" bash -c "! grep -qv '^<[0-7]>' '$E2E_TMP/daemon.err'"
n_before=$(wc -l <"$E2E_TMP/daemon.err")
kill -HUP "$DAEMON_PID"
sleep 0.5
check "at log-level notice, info lines are no longer written" bash -c \
	"! tail -n +$((n_before + 1)) '$E2E_TMP/daemon.err' | grep -q '^<6>'"

check "SIGTERM: exit status 0" e2e_stop
for _ in $(seq 30); do grep -q '^STOPPING=1' "$E2E_TMP/notify.log" && break; sleep 0.1; done
check "STOPPING=1 at stop" grep -q '^STOPPING=1' "$E2E_TMP/notify.log"

# A broken config: the daemon refuses to start, at error priority, with file:line:col.
printf 'log-level: info\nmtach: 1\n' >"$E2E_TMP/bad.yaml"
JS=$(stat -c '%d:%i' "$E2E_TMP/daemon.err")
JOURNAL_STREAM=$JS "$SPRAWLWATCHD" --config "$E2E_TMP/bad.yaml" 2>>"$E2E_TMP/daemon.err"
check "a bad config stops the start (status 1)" test $? -eq 1
check "...at priority <3>, with file:line:col" \
	grep -q "^<3>config: $E2E_TMP/bad.yaml:2:1: unknown key 'mtach'" "$E2E_TMP/daemon.err"
expect_no_plaintext "$SECRET"
e2e_finish
