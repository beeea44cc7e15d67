#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Post-incident replay without prior setup: the daemon records its trace log by default (in the
# state dir); a value nobody tracked leaks twice; afterwards it is registered, and `sprawlctl
# replay --since T [--until T]` of the service's own trace log says where it went in that
# window, with the times it went there.
. "$(dirname "$0")/lib.sh"

# ISO 8601 UTC, whole seconds (what a user types).
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# One source of truth per knob: --help prints the parser's defaults; the README says the same.
HELP=$("$SPRAWLWATCHD" --help)
for knob in trace-max-mb trace-max-age-days; do
	# The option's help runs to the next option; its default is "(default N)" or
	# "(default: N)".
	def=$(printf '%s\n' "$HELP" | python3 -c '
import re, sys
m = re.search(r"--" + sys.argv[1] + r" N\b(.*?)(?=\n  -|\Z)", sys.stdin.read(), re.S)
d = m and re.search(r"\(default:? (\d+)\)", m.group(1))
print(d.group(1) if d else "")' "$knob")
	check "--$knob: --help and README agree on the default (${def:-none found})" \
		grep -qF -- "\`--$knob\` (default ${def:-?})" "$E2E_ROOT/README.md"
done

e2e_start
LATE=$(gen_secret late_ 30)
(umask 077 && printf '%s\n' "$LATE" >"$E2E_TMP/late.txt")
sleep 1.1
T_BEFORE=$(date +%s)
sleep 1.1
# Leak 1, then leak 2 a few seconds later. The value goes through a file and a shell variable,
# never argv; a line after it keeps it out of the last bytes of the write (which the trace
# never keeps: they might begin a secret the next write completes).
L1_START=$(date +%s.%N)
"$SPRAWLCTL" run --agent probe -- sh -c \
	"read -r l < '$E2E_TMP/late.txt'; printf '%s\n# generated, do not edit\n' \"\$l\" > '$WORK/leak1.txt'"
L1_END=$(date +%s.%N)
sleep 2.2
T_MID=$(date +%s)
sleep 1.1
L2_START=$(date +%s.%N)
"$SPRAWLCTL" run --agent probe -- sh -c \
	"read -r l < '$E2E_TMP/late.txt'; printf 'KEY=%s\n# written by the build, do not edit\n' \"\$l\" > '$WORK/leak2.txt'"
L2_END=$(date +%s.%N)
sleep 2
e2e_stop
expect_alerts "the live run could not know the value (not tracked then)" 0 \
	"a.get('artifact', {}).get('path') in ('$WORK/leak1.txt', '$WORK/leak2.txt')"
check "the trace log is in the state dir by default" \
	bash -c "ls '$SPRAWL_STATE_DIR'/trace/trace-*.swt >/dev/null"

# Replay equals live while the secret set is the live run's; a secret is added below.
check_replay_equals_live
E2E_REPLAY_CHECKED=1

# Registered today.
printf '%s' "$LATE" | "$SPRAWLCTL" secrets add LATE_KEY >/dev/null

replay() { # replay OUT ARGS...
	local out=$1
	shift
	"$SPRAWLCTL" replay "$@" --alerts "$out" 2>"$out.err"
}
ALERTS_LIVE=$ALERTS

replay "$E2E_TMP/r_all.jsonl" --since "$(iso "$T_BEFORE")"
ALERTS=$E2E_TMP/r_all.jsonl
expect_alerts "replay --since finds the first place" 1 \
	"a.get('secret', {}).get('name')=='LATE_KEY' and a.get('artifact', {}).get('path')=='$WORK/leak1.txt' and a.get('session', {}).get('agent')=='probe' and a.get('process', {}).get('comm')=='sh'"
expect_alerts "... and the second" 1 \
	"a.get('secret', {}).get('name')=='LATE_KEY' and a.get('artifact', {}).get('path')=='$WORK/leak2.txt'"
expect_alerts "... and nothing else of it" 2 "a.get('secret', {}).get('name')=='LATE_KEY'"
check "the replay says which window it read" grep -q "window $(iso "$T_BEFORE" | tr -d Z)" \
	"$E2E_TMP/r_all.jsonl.err"

# The alert's time is when the value went there, not when the replay ran.
alert_time_in() { # alert_time_in FILE PATH FROM TO
	python3 - "$@" <<'PY'
import json, sys
from datetime import datetime, timezone
f, path, lo, hi = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
for l in open(f):
    a = json.loads(l)
    if a.get("artifact", {}).get("path") == path:
        t = datetime.strptime(a["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        sys.exit(0 if lo <= t <= hi else 1)
sys.exit(1)
PY
}
check "the replayed alert carries the time of the leak, not of the replay" \
	alert_time_in "$E2E_TMP/r_all.jsonl" "$WORK/leak1.txt" "$L1_START" "$L1_END"

replay "$E2E_TMP/r_first.jsonl" --since "$(iso "$T_BEFORE")" --until "$(iso "$T_MID")"
ALERTS=$E2E_TMP/r_first.jsonl
expect_alerts "--until: only the leak before it" 1 \
	"a.get('secret', {}).get('name')=='LATE_KEY' and a.get('artifact', {}).get('path')=='$WORK/leak1.txt'"
expect_alerts "... not the one after it" 0 "a.get('artifact', {}).get('path')=='$WORK/leak2.txt'"

replay "$E2E_TMP/r_second.jsonl" --since "$(iso "$T_MID")"
ALERTS=$E2E_TMP/r_second.jsonl
expect_alerts "--since between the leaks: only the second" 1 \
	"a.get('secret', {}).get('name')=='LATE_KEY' and a.get('artifact', {}).get('path')=='$WORK/leak2.txt'"
expect_alerts "... not the first" 0 "a.get('artifact', {}).get('path')=='$WORK/leak1.txt'"
ALERTS=$ALERTS_LIVE

# The trace keeps the wall clock: trace dump maps each record's ktime through the latest tick.
"$SPRAWLCTL" trace dump "$SPRAWL_STATE_DIR/trace" >"$E2E_TMP/dump.jsonl" 2>"$E2E_TMP/dump.err"
check "trace dump shows the leak's write at the time it happened" python3 - \
	"$E2E_TMP/dump.jsonl" "$WORK/leak2.txt" "$L2_START" "$L2_END" <<'PY'
import json, sys
from datetime import datetime, timezone
f, path, lo, hi = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
for l in open(f):
    r = json.loads(l)
    if r["type"] == "data" and r.get("path") == path:
        t = datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        sys.exit(0 if lo <= t <= hi else 1)
sys.exit(1)
PY

# Nothing to read: a clear word, not an empty success.
check "a window before the trace log began says so" bash -c \
	"! '$SPRAWLCTL' replay --since 2001-01-01 --until 2001-01-02 --alerts /dev/null 2>'$E2E_TMP/none.err' &&
	 grep -q 'no trace log there for that time' '$E2E_TMP/none.err'"
check "a time that is not one is refused" bash -c \
	"! '$SPRAWLCTL' replay --since yesterday-ish --alerts /dev/null 2>/dev/null"

# --trace-dir none records nothing.
rm -rf "$SPRAWL_STATE_DIR/trace"
e2e_start --trace-dir none
"$SPRAWLCTL" run -- sh -c 'echo hello > /dev/null'
e2e_stop
check "--trace-dir none: no trace log" test ! -e "$SPRAWL_STATE_DIR/trace"
e2e_finish
