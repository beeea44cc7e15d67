#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Loss is loud: with a 4 KiB per-syscall cap large writes are cut, and a 1 MiB ring buffer
# flooded by a tracked writer loses records; both become coverage_gap alerts whose counts are
# deltas since the last report: they add up to exactly what `status --json` counts, and a gap
# is reported once, not again every second.
. "$(dirname "$0")/lib.sh"

# gap_sum KIND: the KIND counts of every coverage_gap alert, added up
gap_sum() {
	python3 - "$ALERTS" "$1" <<'PY'
import json, sys
print(sum(a["gaps"].get(sys.argv[2], 0) for a in map(json.loads, open(sys.argv[1]))
          if a["kind"] == "coverage_gap"))
PY
}
# gaps_match KIND STATUSKEY: waits (bounded) until the alerts' KIND counts add up to the
# status counter; the loss counters are read once a second.
gaps_match() {
	local i
	for i in $(seq 50); do
		[ "$(gap_sum "$1")" = "$(status_field "s['loss']['$2']")" ] && return 0
		sleep 0.1
	done
	return 1
}
# A gap is reported once: with no new loss, no coverage_gap follows in the next 3 seconds
# (three of the daemon's once-a-second loss reads; a repeating total would show here).
no_repeat() {
	local before
	before=$(count_alerts "a['kind']=='coverage_gap'")
	sleep 3.2
	test "$(count_alerts "a['kind']=='coverage_gap'")" -eq "$before"
}

e2e_start --ringbuf-mb 1 --max-bytes 4096
START=$(date +%s)
"$SPRAWLCTL" run -- dd if=/dev/zero of="$WORK/flood" bs=1M count=256 status=none
"$SPRAWLCTL" run -- dd if=/dev/zero of="$WORK/flood2" bs=64k count=2000 status=none
END=$(date +%s)
wait_alerts 1 "a['kind']=='coverage_gap' and a['gaps'].get('truncated',0)>0" 10
check "the truncated counts of the coverage_gap alerts add up to status' loss.truncated" \
	gaps_match truncated truncated
check "... and their ringbuf_full counts to status' loss.ringbuf_full" gaps_match ringbuf_full ringbuf_full
check "no coverage_gap repeats once the loss is reported" no_repeat
GAPS=$(count_alerts "a['kind']=='coverage_gap'")
check "truncation beyond the per-syscall cap is a high-severity coverage_gap" \
	test "$(count_alerts "a['kind']=='coverage_gap' and a['gaps'].get('truncated',0)>0 and a['severity']=='high'")" -ge 1
check "at least one coverage_gap, never more than one per second ($GAPS)" \
	test "$GAPS" -ge 1 -a "$GAPS" -le $((END - START + 2))
TRUNC=$(gap_sum truncated)
check "every truncated write was counted (256 + 2000 writes larger than 4 KiB, got $TRUNC)" \
	test "$TRUNC" -eq 2256
check "status reports the same truncation count" test "$(status_field "s['loss']['truncated']")" -eq 2256
e2e_stop

# A 1 MiB ring buffer cannot hold one whole 1 MiB write: reserve failures are counted. Into
# pipes: what a file was sent is read back from it (e2e_flood_file_readback.sh), a pipe's
# bytes are gone.
ALERTS=$E2E_TMP/alerts-ring.jsonl
e2e_start --ringbuf-mb 1
# Four writers at once on two CPUs: the consumer cannot drain as fast as they fill.
"$SPRAWLCTL" run -- sh -c "for i in 1 2 3 4; do dd if=/dev/zero bs=1M count=64 status=none | cat >/dev/null & done; wait"
wait_alerts 1 "a['kind']=='coverage_gap' and a['gaps'].get('ringbuf_full',0)>0" 10
check "a full ring buffer is a coverage_gap: the ringbuf_full counts add up to status'" \
	gaps_match ringbuf_full ringbuf_full
check "... a lost record is counted, not alerted again" no_repeat
check "... status counts the loss ($(status_field "s['loss']['ringbuf_full']") records)" \
	test "$(status_field "s['loss']['ringbuf_full']")" -gt 0
e2e_stop
e2e_finish
