#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Loss is loud: with a 4 KiB per-syscall cap large writes are cut, and a 1 MiB ring buffer
# flooded by a tracked writer loses records; both become coverage_gap alerts with counts,
# rate-limited to one per second.
. "$(dirname "$0")/lib.sh"

e2e_start --ringbuf-mb 1 --max-bytes 4096
START=$(date +%s)
"$SPRAWLCTL" run -- dd if=/dev/zero of="$WORK/flood" bs=1M count=256 status=none
"$SPRAWLCTL" run -- dd if=/dev/zero of="$WORK/flood2" bs=64k count=2000 status=none
END=$(date +%s)
wait_alerts 1 "a['kind']=='coverage_gap' and a['gaps'].get('truncated',0)>0" 10
sleep 1.5
GAPS=$(count_alerts "a['kind']=='coverage_gap'")
check "truncation beyond the per-syscall cap is a high-severity coverage_gap" \
	test "$(count_alerts "a['kind']=='coverage_gap' and a['gaps'].get('truncated',0)>0 and a['severity']=='high'")" -ge 1
check "at least one coverage_gap, never more than one per second ($GAPS)" \
	test "$GAPS" -ge 1 -a "$GAPS" -le $((END - START + 4))
TRUNC=$(python3 -c "
import json
print(sum(json.loads(l).get('gaps',{}).get('truncated',0) for l in open('$ALERTS')))")
check "every truncated write was counted (256 + 2000 writes larger than 4 KiB, got $TRUNC)" \
	test "$TRUNC" -eq 2256
check "status reports the same truncation count" \
	bash -c "'$SPRAWLCTL' status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"loss\"][\"truncated\"]==2256 else 1)'"
e2e_stop

# A 1 MiB ring buffer cannot hold one whole 1 MiB write: reserve failures are counted.
ALERTS=$E2E_TMP/alerts-ring.jsonl
e2e_start --ringbuf-mb 1
# Four writers at once on two CPUs: the consumer cannot drain as fast as they fill.
"$SPRAWLCTL" run -- sh -c "for i in 1 2 3 4; do dd if=/dev/zero of='$WORK/flood3.'\$i bs=1M count=64 status=none & done; wait"
wait_alerts 1 "a['kind']=='coverage_gap' and a['gaps'].get('ringbuf_full',0)>0" 10
expect_alerts "a full ring buffer is a coverage_gap with the count of lost records" 1 \
	"a['kind']=='coverage_gap' and a['gaps'].get('ringbuf_full',0)>0"
e2e_stop
e2e_finish
