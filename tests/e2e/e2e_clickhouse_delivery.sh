#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sprawlwatchd --clickhouse against a real clickhouse-server (Debian's 18.16) started here on
# loopback with its own data dir: alerts arrive with their typed columns; with ClickHouse
# stopped a leak is spooled on disk and arrives once it is back; a crash between insert and
# acknowledgement sends nothing twice; count() equals the distinct alerts. The README's fleet
# queries run against the same table, with exact answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/clickhouse.sh"
trap 'ch_stop; e2e_cleanup' EXIT

ch_start
# A 4 KiB capture cap: one large write below is a coverage_gap (for the "gaps today" query).
e2e_start --clickhouse "$CH_URL" --max-bytes 4096
SECRET=$(gen_secret ch_ 32)
printf '%s\n' "$SECRET" | "$SPRAWLCTL" secrets add FLEET_TOKEN >/dev/null
SRC=$E2E_TMP/src.txt
printf 'token=%s\n' "$SECRET" >"$SRC"
leak() { # leak FILE: a session copies the secret line into FILE with sh's printf
	"$SPRAWLCTL" run -- sh -c "read -r l < '$SRC'; printf '%s\\n' \"\$l\" > '$1'"
}

ch_count() { ch_query "SELECT count() FROM sprawlwatch.alerts WHERE $1"; }
wait_rows() { # wait_rows N WHERE [secs]
	for _ in $(seq $((${3:-10} * 10))); do
		[ "$(ch_count "$2" 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# 1. Delivered, with typed columns beside the alert line.
leak "$WORK/one.txt"
wait_alerts 1 "a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/one.txt'" 10
check "the alert reaches sprawlwatch.alerts within seconds" \
	wait_rows 1 "kind='secret_spread' AND artifact='$WORK/one.txt'" 10
ROW=$(ch_query "SELECT host, kind, severity, secret_id, secret_name, artifact_type, artifact,
	toString(session_id), agent, exe, alert FROM sprawlwatch.alerts
	WHERE artifact='$WORK/one.txt' FORMAT JSONEachRow")
check "typed columns equal the alert's own fields" python3 - "$ALERTS" "$ROW" "$WORK/one.txt" <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
a = [x for x in alerts if x.get("artifact", {}).get("path") == sys.argv[3]][0]
r = json.loads(sys.argv[2])
assert json.loads(r["alert"]) == a, "alert column"
assert r["host"] == a["host"] and r["kind"] == "secret_spread" and r["severity"] == a["severity"]
assert r["secret_id"] == a["secret"]["id"] and r["secret_name"] == "FLEET_TOKEN"
assert r["artifact_type"] == "file" and r["artifact"] == sys.argv[3]
assert r["toString(session_id)"] == str(a["session"]["id"]) and r["agent"] == "run"
assert r["exe"] == a["process"]["exe"] == "/usr/bin/dash", r["exe"]
PY

# 2. ClickHouse away: the alert is spooled, then delivered once it is back.
ch_stop
leak "$WORK/while_down.txt"
wait_alerts 1 "a['artifact']['path']=='$WORK/while_down.txt'" 10
sleep 1
check "while ClickHouse is down the alert waits in the spool" \
	grep -q while_down "$SPRAWL_STATE_DIR"/clickhouse/spool-*.jsonl
ch_start
check "after ClickHouse is back the spooled alert arrives" \
	wait_rows 1 "artifact='$WORK/while_down.txt'" 20
said_so() {
	for _ in $(seq 50); do
		grep -q 'clickhouse: delivering again' "$E2E_TMP/daemon.err" && break
		sleep 0.1
	done
	[ "$(grep -c 'clickhouse: .*stay spooled' "$E2E_TMP/daemon.err")" = 1 ] &&
		grep -q 'clickhouse: delivering again' "$E2E_TMP/daemon.err"
}
check "the daemon said so: failing once, then delivering again" said_so

# 3. A large write past the capture cap: a coverage_gap, delivered like any alert.
"$SPRAWLCTL" run -- dd if=/dev/zero of="$WORK/big" bs=64k count=2 status=none
wait_alerts 1 "a['kind']=='coverage_gap'" 10
sleep 1
GAPS=$(count_alerts "a['kind']=='coverage_gap'") # one, or more on a loaded machine
check "the coverage_gap reaches ClickHouse ($GAPS)" wait_rows "$GAPS" "kind='coverage_gap'" 10

# 4. A crash between insert and acknowledgement (the ack file set back): the restarted
# daemon asks which rows ClickHouse has and sends none twice.
e2e_stop
echo "0 0" >"$SPRAWL_STATE_DIR/clickhouse/ack"
e2e_start --clickhouse "$CH_URL" --max-bytes 4096
leak "$WORK/after_restart.txt"
check "a leak after the restart arrives" wait_rows 1 "artifact='$WORK/after_restart.txt'" 20
sleep 1.5
# From here on the alert file is final: a clean stop delivers what is still spooled.
e2e_stop
check "the spool holds nothing undelivered after a clean stop" \
	bash -c "test \"\$(cut -d' ' -f2 '$SPRAWL_STATE_DIR/clickhouse/ack')\" = \
		\"\$(stat -c %s '$SPRAWL_STATE_DIR'/clickhouse/spool-*.jsonl | tail -1)\""
GAPS=$(count_alerts "a['kind']=='coverage_gap'")
N_FILE=$(grep -c . "$ALERTS")
check "count() equals the distinct alerts of the alert file ($N_FILE)" \
	test "$(ch_query 'SELECT count() FROM sprawlwatch.alerts')" = "$N_FILE"
check "no alert twice (uniqExact(uid) = count())" \
	test "$(ch_query 'SELECT uniqExact(uid) = count() FROM sprawlwatch.alerts')" = 1
check "every line of the alert file is one row" python3 - "$ALERTS" "$CH_URL" <<'PY'
import json, sys, urllib.request
lines = sorted(l.rstrip("\n") for l in open(sys.argv[1]) if l.strip())
q = b"SELECT alert FROM sprawlwatch.alerts FORMAT JSONEachRow"
rows = urllib.request.urlopen(urllib.request.Request(sys.argv[2] + "/", data=q), timeout=20).read()
got = sorted(json.loads(r)["alert"] for r in rows.decode().splitlines())
assert got == lines, (len(got), len(lines))
PY

# 5. The README's fleet queries, word for word, on 18.16.
readme_sql() { # the SQL block after the README line holding $1
	python3 - "$E2E_ROOT/README.md" "$1" <<'PY'
import sys
text = open(sys.argv[1]).read().splitlines()
i = next(n for n, l in enumerate(text) if sys.argv[2] in l)
j = next(n for n in range(i, len(text)) if text[n].startswith("```sql"))
k = next(n for n in range(j + 1, len(text)) if text[n].startswith("```"))
print("\n".join(text[j + 1:k]))
PY
}
SID=$(python3 -c "
import json
for l in open('$ALERTS'):
    a = json.loads(l)
    if a.get('secret', {}).get('name') == 'FLEET_TOKEN':
        print(a['secret']['id']); break")
Q1=$(readme_sql "Where did secret X go" | sed "s/OPENAI_KEY/FLEET_TOKEN/g")
check "README query 1 (where did secret X go) lists exactly the three leaks, in order" \
	test "$(ch_query "$Q1 FORMAT TabSeparated" | cut -f1-4 | tr '\t' ' ')" = \
	"$(hostname) file $WORK/one.txt 1
$(hostname) file $WORK/while_down.txt 1
$(hostname) file $WORK/after_restart.txt 1"
Q1ID=$(readme_sql "Where did secret X go" | sed "s/OPENAI_KEY/$SID/g")
check "README query 1 by secret id gives the same rows" \
	test "$(ch_query "$Q1ID FORMAT TabSeparated" | wc -l)" = 3
Q2=$(readme_sql "sessions and agents that spread most")
check "README query 2 (sessions that spread most): three sessions, one place each, agent run" \
	test "$(ch_query "$Q2 FORMAT TabSeparated" | awk -F'\t' '$3=="run" && $4==1 && $5==1' | wc -l)" = 3
Q2B=$(readme_sql "agents, across the fleet")
check "README query 2b (agents): run, 3 sessions, 3 spreads, 1 secret" \
	test "$(ch_query "$Q2B FORMAT TabSeparated" | grep '^run	')" = "run	3	3	1"
Q3=$(readme_sql "hosts with coverage gaps today")
check "README query 3 (coverage gaps today): this host, its $GAPS gap(s)" \
	test "$(ch_query "$Q3 FORMAT TabSeparated" | cut -f1,2)" = "$(hostname)	$GAPS"

# 6. The trail of the secret across the fleet, from ClickHouse.
"$SPRAWLCTL" trail FLEET_TOKEN --clickhouse "$CH_URL" --format json >"$E2E_TMP/fleet_trail.json"
check "trail --clickhouse: the three places, one session each, from every host's alerts" \
	python3 - "$E2E_TMP/fleet_trail.json" "$WORK" "$(hostname)" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
work, host = sys.argv[2], sys.argv[3]
got = sorted((p["host"], p["type"], p["place"], p["count"]) for p in t["places"])
want = sorted((host, "file", work + "/" + f, 1) for f in ("one.txt", "while_down.txt", "after_restart.txt"))
assert got == want, got
assert len(t["sessions"]) == 3 and t["secret"]["name"] == "FLEET_TOKEN", t["sessions"]
PY
"$SPRAWLCTL" trail FLEET_TOKEN --clickhouse "$CH_URL" --format svg >"$E2E_TMP/fleet_trail.svg"
check "trail --clickhouse --format svg renders" rsvg-convert -o "$E2E_TMP/fleet_trail.png" \
	"$E2E_TMP/fleet_trail.svg"

expect_no_plaintext "$SECRET"
check "no plaintext in ClickHouse's data dir" bash -c "! grep -rqF -- '$SECRET' '$CH_DIR'"
ch_stop
e2e_finish
