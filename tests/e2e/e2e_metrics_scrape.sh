#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --metrics HOST:PORT: Prometheus text at /metrics, scraped with curl. The counters move with
# what happens (a session's leak: records, bytes, one secret_spread alert of severity medium,
# a live session), every family named in the README is there, and the endpoint never holds
# the daemon up: idle and half-sent clients beyond the cap are dropped at their deadline
# while scrapes and the control socket still answer.
. "$(dirname "$0")/lib.sh"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/metrics
e2e_start --metrics "127.0.0.1:$PORT"

scrape() { curl -sf -m 5 "$URL" >"$E2E_TMP/$1.prom"; }
val() { # FILE SERIES: the sample's value, or "none"
	python3 - "$E2E_TMP/$1.prom" "$2" <<'PY'
import sys
path, series = sys.argv[1], sys.argv[2]
for line in open(path):
    if line.startswith(series + " "):
        print(line.split()[-1]); break
else:
    print("none")
PY
}

check "a scrape answers 200 with Prometheus text" scrape before
check "the content type is the text exposition format" bash -c \
	"curl -sf -m 5 -o /dev/null -w '%{content_type}' '$URL' | grep -q '^text/plain; version=0.0.4'"
for fam in sprawlwatch_records_total sprawlwatch_bytes_total sprawlwatch_alerts_total \
	sprawlwatch_loss_total sprawlwatch_ringbuf_fill_ratio sprawlwatch_loop_stall_max_seconds \
	sprawlwatch_loop_busy_max_seconds \
	sprawlwatch_sessions; do
	check "family $fam has HELP and TYPE" bash -c \
		"grep -q '^# HELP $fam ' '$E2E_TMP/before.prom' && grep -q '^# TYPE $fam ' '$E2E_TMP/before.prom'"
done
check "loss by cause: ringbuf_full is 0" test "$(val before 'sprawlwatch_loss_total{cause="ringbuf_full"}')" = 0
# Other agents on a shared host may alert in this daemon too: the counters are compared with
# the alert file, which holds every alert.
medium() { count_alerts "a['kind']=='secret_spread' and a['severity']=='medium'"; }
N0=$(medium)
check "spread/medium alerts so far: as many as the alert file holds ($N0)" test \
	"$(val before 'sprawlwatch_alerts_total{kind="secret_spread",severity="medium"}')" = "$N0"

SECRET=$(new_secret METRIC_KEY)
printf '%s\n' "$SECRET" >"$E2E_TMP/src"
"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/src'; printf '%s\n' \"\$l\" > '$WORK/leak'; sleep 3" &
RUN=$!
wait_alerts 1 "a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/leak'" 10
sleep 0.5
scrape during
N1=$(medium)
check "after the leak: one more secret_spread/medium alert ($N1, as in the file)" bash -c \
	"[ $N1 -ge \$(( $N0 + 1 )) ] && [ '$(val during 'sprawlwatch_alerts_total{kind="secret_spread",severity="medium"}')' = $N1 ]"
check "records grew" python3 -c "import sys; sys.exit(0 if float('$(val during sprawlwatch_records_total)') > float('$(val before sprawlwatch_records_total)') else 1)"
check "bytes grew by at least the secret's line" python3 -c \
	"import sys; sys.exit(0 if float('$(val during sprawlwatch_bytes_total)') - float('$(val before sprawlwatch_bytes_total)') >= ${#SECRET} else 1)"
check "matches counted" python3 -c "import sys; sys.exit(0 if float('$(val during sprawlwatch_matches_total)') >= 1 else 1)"
check "the running session is a live session" python3 -c \
	"import sys; sys.exit(0 if float('$(val during sprawlwatch_sessions)') >= 1 else 1)"
# (detectors may learn other agents' tokens meanwhile: at least the one registered)
check "tracked secrets: at least the registered one" python3 -c \
	"import sys; sys.exit(0 if float('$(val during sprawlwatch_secrets)') >= 1 else 1)"
check "ring fill is a ratio in [0, 1]" python3 -c \
	"import sys; v=float('$(val during sprawlwatch_ringbuf_fill_ratio)'); sys.exit(0 if 0 <= v <= 1 else 1)"
wait "$RUN"

# Clients that never finish a request, more than the cap (16): the loop goes on.
python3 - "$PORT" "$E2E_TMP/slow.out" <<'PY' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(24):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    if i % 2:
        s.sendall(b"GET /metr")  # half a request line, never finished
    socks.append(s)
t0 = time.time()
closed = 0
for s in socks:
    s.settimeout(max(0.1, 9 - (time.time() - t0)))
    try:
        if s.recv(1) == b"":
            closed += 1
    except (socket.timeout, ConnectionResetError):
        closed += isinstance(sys.exc_info()[1], ConnectionResetError)
open(out, "w").write("%d %.1f\n" % (closed, time.time() - t0))
PY
SLOW=$!
sleep 1
t0=$(date +%s%N)
check "a scrape answers while 24 idle clients hold connections" scrape busy
check "the control socket answers meanwhile" bash -c "'$SPRAWLCTL' status >/dev/null"
t1=$(date +%s%N)
check "...both within 2 s" test $(((t1 - t0) / 1000000)) -lt 2000
wait "$SLOW"
check "every idle client was dropped (the oldest when full, the rest at the 5 s deadline)" \
	bash -c "read -r n t < '$E2E_TMP/slow.out'; [ \"\$n\" -eq 24 ]"
check "other paths answer 404" bash -c \
	"[ \$(curl -s -o /dev/null -w '%{http_code}' -m 5 http://127.0.0.1:$PORT/) = 404 ]"
check "a POST answers 405" bash -c \
	"[ \$(curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST http://127.0.0.1:$PORT/metrics) = 405 ]"
check "an oversized request is refused (431), not buffered" bash -c \
	"[ \$(curl -s -o /dev/null -w '%{http_code}' -m 5 -H \"X-Big: \$(python3 -c 'print(\"a\" * 5000)')\" '$URL') = 431 ]"
check "the endpoint binds loopback only" bash -c "ss -ltn | grep -q '127.0.0.1:$PORT '"
check "SIGTERM stops the daemon with status 0" e2e_stop
check "the port is closed after stop" bash -c "! curl -s -m 2 '$URL' >/dev/null"
expect_no_plaintext "$SECRET"
check "no scrape ever carried the plaintext" bash -c "! grep -qF -- '$SECRET' '$E2E_TMP'/*.prom"
e2e_finish
