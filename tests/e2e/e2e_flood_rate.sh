#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Flood control's default figures (README, Registry and flood control; rules/policy.yaml
# `flood:`): per (secret, session) a burst of 20 alerts, then 120 a minute (one every 0.5 s);
# what it holds back is summed up in one rate_limited alert about 10 s later. One session
# writes the secret into 20 new files at once, then into one new file every 0.1 s for 4 s.
. "$(dirname "$0")/lib.sh"

BURST=20
PER_MIN=120
e2e_start
T=$(new_secret FLOOD_KEY)
printf '%s' "$T" >"$E2E_TMP/value"
"$SPRAWLCTL" run -- python3 - "$E2E_TMP/value" "$WORK" <<'PY'
import os, sys, time
v = open(sys.argv[1], "rb").read()
w = sys.argv[2]
def leak(i):
    fd = os.open("%s/f%02d" % (w, i), os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, v); os.close(fd)
t0 = time.monotonic()
for i in range(20):
    leak(i)
for i in range(20, 60):
    time.sleep(0.1)
    leak(i)
open(w + "/elapsed", "w").write("%.3f" % (time.monotonic() - t0))
PY
ELAPSED=$(cat "$WORK/elapsed")
wait_alerts 1 "a['kind']=='rate_limited'" 20
barrier
read -r LO HI <<<"$(python3 -c "
import math
e = $ELAPSED
print($BURST + math.floor(e * $PER_MIN / 60) - 1, $BURST + math.ceil(e * $PER_MIN / 60) + 1)")"
GOT=$(count_alerts "a['kind']=='secret_spread' and a['secret']['name']=='FLOOD_KEY'")
check "the burst (20) and then 2 a second over ${ELAPSED}s pass: $GOT in [$LO, $HI]" \
	test "$GOT" -ge "$LO" -a "$GOT" -le "$HI"
expect_alerts "one rate_limited summary for the (secret, session)" 1 \
	"a['kind']=='rate_limited' and a['secret']['name']=='FLOOD_KEY' and a['severity']=='medium'"
HELD=$(python3 -c "
import json
print(sum(a['count'] for a in map(json.loads, open('$ALERTS')) if a['kind'] == 'rate_limited'))")
check "... counting every alert held back ($HELD + $GOT = 60 new places)" test $((HELD + GOT)) -eq 60
check "status counts the same held-back alerts" test "$(status_field "s['suppressed']")" -eq "$HELD"
check "the summary came about 10 s after the first held alert" python3 - "$ALERTS" <<'PY'
import datetime, json, sys
al = [json.loads(l) for l in open(sys.argv[1])]
t = lambda a: datetime.datetime.strptime(a["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
spread = [t(a) for a in al if a["kind"] == "secret_spread" and a["secret"]["name"] == "FLOOD_KEY"]
summ = [t(a) for a in al if a["kind"] == "rate_limited"][0]
# the first held alert came right after the burst's last alert
d = summ - sorted(spread)[19]
sys.exit(0 if 9 <= d <= 12 else "summary %.1f s after the burst" % d)
PY
e2e_stop
e2e_finish
