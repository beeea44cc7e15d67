#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Loss is loud for ClickHouse too: with ClickHouse away and a 64 KiB spool, the alerts beyond
# it are refused and a coverage_gap (gaps.clickhouse_spool_full) counts them, in the alert file
# and, once ClickHouse is back, in ClickHouse as well; what was spooled arrives, in order, and
# ClickHouse holds exactly the alerts that were not refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/clickhouse.sh"
trap 'ch_stop; e2e_cleanup' EXIT

ch_start # makes the config and ports ...
ch_stop  # ... and leaves ClickHouse away
e2e_start --clickhouse "$CH_URL" --clickhouse-spool-kb 64
SECRET=$(gen_secret full_ 32)
printf '%s\n' "$SECRET" >"$E2E_TMP/v.txt"
"$SPRAWLCTL" secrets add FULL_TOKEN <"$E2E_TMP/v.txt" >/dev/null
# Three sessions of 20 files each (flood control allows a burst of 20 per session).
for s in 1 2 3; do
	"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/v.txt'
		for i in \$(seq 20); do printf '%s\\n' \"\$l\" > '$WORK/s$s-'\$i.txt; done"
done
wait_alerts 60 "a['kind']=='secret_spread'" 20
wait_alerts 1 "a['kind']=='coverage_gap' and 'clickhouse_spool_full' in a['gaps']" 10
sleep 2 # the last refusals are reported within a second
REFUSED=$(python3 -c "
import json
print(sum(json.loads(l).get('gaps', {}).get('clickhouse_spool_full', 0) for l in open('$ALERTS')))")
N_FILE=$(grep -c . "$ALERTS")
check "the full spool refused some alerts and said how many ($REFUSED of $N_FILE)" \
	test "$REFUSED" -gt 0 -a "$REFUSED" -lt "$N_FILE"
check "the coverage_gap names the spool" \
	test "$(count_alerts "a['kind']=='coverage_gap' and '$SPRAWL_STATE_DIR/clickhouse' in a['message']")" -ge 1

ch_start
want=$((N_FILE - REFUSED))
for _ in $(seq 300); do
	[ "$(ch_query 'SELECT count() FROM sprawlwatch.alerts' 2>/dev/null)" = "$want" ] && break
	sleep 0.1
done
check "ClickHouse holds exactly the alerts that were not refused ($want)" \
	test "$(ch_query 'SELECT count() FROM sprawlwatch.alerts')" = "$want"
check "... the first ones, in order, each once; the coverage_gap among them" \
	python3 - "$ALERTS" "$CH_URL" "$REFUSED" <<'PY'
import json, sys, urllib.request
lines = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
q = b"SELECT alert FROM sprawlwatch.alerts ORDER BY time_us, uid FORMAT JSONEachRow"
rows = urllib.request.urlopen(urllib.request.Request(sys.argv[2] + "/", data=q), timeout=20).read()
got = [json.loads(r)["alert"] for r in rows.decode().splitlines()]
assert len(set(got)) == len(got)
assert set(got) <= set(lines)
gaps = [l for l in lines if '"clickhouse_spool_full"' in l]
assert gaps and set(gaps) <= set(got), "every spool-full gap reaches ClickHouse"
others = [l for l in lines if l not in gaps]
kept = [l for l in others if l in set(got)]
assert kept == others[:len(kept)], "what was spooled is what came first"
assert len(others) - len(kept) == int(sys.argv[3])
PY
e2e_stop
expect_no_plaintext "$SECRET"
ch_stop
e2e_finish
