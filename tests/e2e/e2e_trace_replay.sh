#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One pipeline, two sources: the daemon records a trace log (--trace-dir); `sprawlctl replay`
# of it raises the same alerts the live run did, and finds a secret registered only after the
# recording; `sprawlctl trace dump` shows the records with every tracked secret redacted.
. "$(dirname "$0")/lib.sh"

TRACE=$E2E_TMP/trace
e2e_start --trace-dir "$TRACE"
T=$(new_secret TRACE_KEY)
printf 'TRACE_KEY=%s\n' "$T" >"$E2E_TMP/src.env"
# A value nobody has registered yet: it goes to a file during the recording, so the trace
# holds it as plain data (not listed for the final no-plaintext check; checked below where
# it must not appear: the alerts of the replay that knows it).
LATER=$(python3 -c 'import secrets; print("later_" + secrets.token_urlsafe(30))')
printf 'LATER=%s\n' "$LATER" >"$E2E_TMP/later.env"
E=$(gen_secret exp_ 30)
printf '%s\n' "$E" >"$E2E_TMP/origin.txt"
"$SPRAWLCTL" secrets add ORIGIN_KEY --from-file "$E2E_TMP/origin.txt" >/dev/null
cd "$WORK"
"$SPRAWLCTL" run --agent tracer -- sh -c "
cat '$E2E_TMP/origin.txt' > /dev/null
cat '$E2E_TMP/src.env' | wc -c > /dev/null
/usr/bin/printf '%s' \"\$(cat '$E2E_TMP/src.env')\" > /dev/null
cp '$E2E_TMP/later.env' '$WORK/later.copy'
sh -c 'read -r l < $E2E_TMP/later.env; printf \"%s\\n# written by the build, do not edit\\n\" \"\$l\" > $WORK/later.txt'
printf 'x=1\n' > '$WORK/conf.ini'; sed -i \"s/x=1/\$(cat $E2E_TMP/src.env)/\" '$WORK/conf.ini'
"
"$SPRAWLCTL" run --agent tracer -- python3 -c "
import os, socket, sys
v = open(sys.argv[1], 'rb').read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, v[:15]); os.write(fd, v[15:]); os.close(fd)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(v, ('127.0.0.1', 9))
" "$E2E_TMP/src.env" "$WORK/split.txt"
cd /
wait_alerts 8 "a['kind'] in ('secret_spread','secret_exposure')" 15
barrier
check "status counts what the trace log recorded" bash -c "'$SPRAWLCTL' status --json | python3 -c 'import json,sys; t=json.load(sys.stdin)[\"trace\"]; sys.exit(0 if t[\"events\"]>20 and t[\"errors\"]==0 else 1)'"
e2e_stop
check "the trace directory holds segment files" bash -c "ls '$TRACE'/trace-*.swt >/dev/null"

# The alerts as a set, time and session ids aside (a replay is a new run).
alert_set() {
	python3 - "$1" <<'PY'
import json, sys
out = set()
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a.get("secret", {}).get("name") == "SW_E2E_BARRIER":
        continue  # the harness's sentinel
    if a["kind"] not in ("secret_spread", "secret_exposure", "secret_discovered"):
        continue
    art = dict(a.get("artifact", {}))
    out.add((a["kind"], a["secret"]["name"], a["secret"].get("variant"), json.dumps(art, sort_keys=True),
             a["process"]["pid"], a["process"]["comm"], a["session"].get("agent"),
             a["session"].get("root_pid"), a["severity"]))
for t in sorted(out):
    print(t)
PY
}
alert_set "$ALERTS" >"$E2E_TMP/live.set"
"$SPRAWLCTL" replay "$TRACE" --alerts "$E2E_TMP/replay.jsonl" 2>"$E2E_TMP/replay.err"
check "replay ran (its summary says how many records)" grep -q "replayed [1-9]" "$E2E_TMP/replay.err"
alert_set "$E2E_TMP/replay.jsonl" >"$E2E_TMP/replay.set"
# exposure of origin.txt; pipe to wc; pipe into the shell's $(cat); printf's exec_arg; cp's
# copy (later.copy: LATER is not registered, so no); sed's exec_arg and its final conf.ini;
# split.txt and the UDP send: 8 alerts.
check "live run raised exactly the 8 expected alerts ($(wc -l <"$E2E_TMP/live.set"))" \
	test "$(wc -l <"$E2E_TMP/live.set")" -eq 8
check "replay raises the live run's alerts, the cp read-back's included (it is recorded)" \
	diff "$E2E_TMP/live.set" "$E2E_TMP/replay.set"
# Field for field, times included; before a secret is added below.
check_replay_equals_live
E2E_REPLAY_CHECKED=1

# Registered after the fact: where did it go during the recording? (The last 14 bytes of
# each write are never kept: they might begin a secret the next write completes; the line
# after the value keeps it out of them.)
printf '%s' "$LATER" | "$SPRAWLCTL" secrets add LATER_KEY >/dev/null
"$SPRAWLCTL" replay "$TRACE" --alerts "$E2E_TMP/replay2.jsonl" 2>/dev/null
ALERTS_LIVE=$ALERTS
ALERTS=$E2E_TMP/replay2.jsonl
expect_alerts "replay finds a secret registered after the recording, where it was written" 1 \
	"a.get('secret', {}).get('name')=='LATER_KEY' and a.get('artifact', {}).get('path')=='$WORK/later.txt' and a.get('session', {}).get('agent')=='tracer'"
ALERTS=$ALERTS_LIVE
expect_alerts "... which the live run could not know" 0 "a.get('secret', {}).get('name')=='LATER_KEY'"
printf '%s' "$LATER" | base64 -w0 >"$E2E_TMP/.secrets/later"
check "the replay's alerts hold no form of the late-registered value" \
	python3 "$E2E_ROOT/tests/e2e/noplain.py" "$E2E_TMP/.secrets/later" "$E2E_TMP/replay2.jsonl"

"$SPRAWLCTL" trace dump "$TRACE" >"$E2E_TMP/dump.jsonl"
check "trace dump prints every record as JSON with its redactions" python3 -c "
import json, sys
recs = [json.loads(l) for l in open('$E2E_TMP/dump.jsonl')]
red = [r for r in recs if r['type'] == 'data' and any('secret' in x for x in r['redactions'])]
sys.exit(0 if len(recs) > 20 and red and any(r['type'] == 'session' and r['agent'] == 'tracer' for r in recs) else 1)"
check "trace dump gives each record its wall-clock time (through the tick records)" python3 -c "
import json, sys
recs = [json.loads(l) for l in open('$E2E_TMP/dump.jsonl')]
ticks = [i for i, r in enumerate(recs) if r['type'] == 'tick']
sys.exit(0 if ticks and all('time' in r for r in recs[ticks[0]:]) and recs[ticks[0]]['time'] == recs[ticks[0]]['realtime'] else 1)"

# Any protobuf tool reads a trace with the .proto alone: python's zlib inflates a block, protoc
# decodes its header and Events into typed fields.
check "protoc --decode=sprawl.Event shows typed records (exec argv, data bytes, tick)" python3 - \
	"$TRACE" "$E2E_ROOT/proto" "$WORK" <<'PY'
import glob, struct, subprocess, sys, zlib
trace, proto, work = sys.argv[1], sys.argv[2], sys.argv[3].encode()
def decode(msg, data):
    return subprocess.run(["protoc", "--proto_path=" + proto, "--decode=sprawl." + msg,
                           proto + "/sprawl.proto"], input=data, capture_output=True,
                          check=True).stdout.decode()
seen = set()
for seg in sorted(glob.glob(trace + "/trace-*.swt")):
    b = open(seg, "rb").read()
    pos = 0
    while pos < len(b):
        assert b[pos:pos + 4] == b"SWTB"
        hlen, hcrc = struct.unpack("<II", b[pos + 4:pos + 12])
        hdr = b[pos + 12:pos + 12 + hlen]
        assert zlib.crc32(hdr) == hcrc
        h = dict(l.split(": ") for l in decode("BlockHeader", hdr).splitlines())
        assert h["version"] == "2"
        clen = int(h["compressed_length"])
        data = b[pos + 12 + hlen:pos + 12 + hlen + clen]
        assert zlib.crc32(data) == int(h["crc32"])
        raw = zlib.decompress(data)
        events, p = [], 0
        while p < len(raw):
            n = shift = 0
            while True:
                c = raw[p]; p += 1; n |= (c & 0x7f) << shift; shift += 7
                if c < 0x80:
                    break
            events.append(raw[p:p + n]); p += n
        assert len(events) == int(h["events"])
        for e in events[:1] + [e for e in events if work in e][:40]:
            out = decode("Event", e)
            if "tick {" in out and "realtime_ns:" in out and "ktime:" in out:
                seen.add("tick")
            if "exec {" in out and "argv: " in out and "filename: " in out:
                seen.add("exec")
            if "data {" in out and "path: " in out and "data: " in out and "art_kind: ART_FILE" in out:
                seen.add("data")
        pos += 12 + hlen + clen
sys.exit(0 if seen == {"tick", "exec", "data"} else 1)
PY

# A trace of the format before (1: the C record in a bytes field) gets a clear word.
python3 - "$E2E_TMP/old.swt" <<'PY'
import struct, sys, zlib
raw = bytes([10, 0x52, 8]) + b"\x04\x00\x00\x00\x00\x00\x00\x00" + b"\0"
comp = zlib.compress(raw)
def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([v & 0x7f | 0x80]); v >>= 7
    return out + bytes([v])
hdr = (b"\x08\x01" + b"\x10\x01" + b"\x18" + varint(len(raw)) + b"\x20" + varint(len(comp))
       + b"\x28" + varint(zlib.crc32(comp)))
open(sys.argv[1], "wb").write(b"SWTB" + struct.pack("<II", len(hdr), zlib.crc32(hdr)) + hdr + comp)
PY
check "an older trace: replay names its format and what to do" bash -c \
	"! '$SPRAWLCTL' replay '$E2E_TMP/old.swt' --alerts /dev/null 2>'$E2E_TMP/old.err' &&
	 grep -qF 'recorded by an older sprawlwatch (trace format 1); replay it with that version' '$E2E_TMP/old.err'"
check "... and so does trace dump" bash -c \
	"! '$SPRAWLCTL' trace dump '$E2E_TMP/old.swt' >/dev/null 2>'$E2E_TMP/old2.err' &&
	 grep -qF 'recorded by an older sprawlwatch (trace format 1)' '$E2E_TMP/old2.err'"
E2E_SCAN+=("$E2E_TMP/dump.jsonl" "$E2E_TMP/replay.jsonl" "$E2E_TMP/replay.err")
expect_no_plaintext "$T"
expect_no_plaintext "$E"
e2e_finish
