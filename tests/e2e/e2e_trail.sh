#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sprawlctl trail NAME|ID: the origin, the sessions, their processes and every place the secret
# reached with its first time and count (the registry's sightings), as a terminal tree, JSON,
# Graphviz DOT (checked by graphviz's dot) and a self-contained SVG (checked as XML and
# rendered by rsvg-convert). By name and by id alike.
. "$(dirname "$0")/lib.sh"

e2e_start
SECRET=$(gen_secret trail_ 32)
printf '%s\n' "$SECRET" >"$WORK/key.txt"
"$SPRAWLCTL" secrets add TRAIL_KEY --from-file "$WORK/key.txt" >/dev/null
# Session 1 (agent one): reads the origin, writes the secret into x.txt three times (one
# alert, three sightings) and sends it in a UDP datagram. Session 2 (agent two): reads the
# origin too, writes y.txt.
"$SPRAWLCTL" run --agent one -- python3 -c "
import socket, sys
v = open(sys.argv[1]).read()
for i in range(3):
    with open(sys.argv[2], 'a') as f:
        f.write(v)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(v.encode(), ('127.0.0.1', 9))
" "$WORK/key.txt" "$WORK/x.txt"
"$SPRAWLCTL" run --agent two -- sh -c "read -r l < '$WORK/key.txt'; printf '%s\\n' \"\$l\" > '$WORK/y.txt'"
wait_alerts 3 "a['kind']=='secret_spread' and a['secret']['name']=='TRAIL_KEY'" 10
sleep 1.5 # the registry is saved each second
ID=$(python3 -c "
import json
for l in open('$ALERTS'):
    a = json.loads(l)
    if a.get('secret', {}).get('name') == 'TRAIL_KEY':
        print(a['secret']['id']); break")

"$SPRAWLCTL" trail TRAIL_KEY --file "$ALERTS" --format json >"$E2E_TMP/trail.json"
check "trail --format json: origin, 2 sessions, 3 places with first times and counts" \
	python3 - "$E2E_TMP/trail.json" "$WORK" "$ID" "$ALERTS" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
work, sid = sys.argv[2], sys.argv[3]
alerts = [json.loads(l) for l in open(sys.argv[4])]
assert t["secret"] == {"name": "TRAIL_KEY", "id": sid, "origin": work + "/key.txt"}, t["secret"]
places = sorted((p["type"], p["place"], p["count"]) for p in t["places"])
assert places == [("file", work + "/x.txt", 3), ("file", work + "/y.txt", 1),
                  ("socket", "udp 127.0.0.1:9", 1)], places
first = {p["place"]: p["first"] for p in t["places"]}
for a in alerts:
    if a["kind"] == "secret_spread" and a["secret"]["name"] == "TRAIL_KEY":
        label = a["artifact"].get("path") or "udp " + a["artifact"]["peer"]
        assert first[label] <= a["time"], (label, first[label], a["time"])
sess = {s["agent"]: s for s in t["sessions"]}
assert sorted(sess) == ["one", "two"], sorted(sess)
p1 = sess["one"]["processes"]
assert len(p1) == 1 and p1[0]["comm"] == "python3" and p1[0]["read_origin"] is True, p1
wrote = sorted(t["places"][w["place"]]["place"] for w in p1[0]["wrote"])
assert wrote == [work + "/x.txt", "udp 127.0.0.1:9"], wrote
p2 = sess["two"]["processes"]
assert [t["places"][w["place"]]["place"] for w in p2[0]["wrote"]] == [work + "/y.txt"]
assert p2[0]["comm"] == "sh" and p2[0]["read_origin"] is True  # read -r l < key.txt
assert t["alerts"] == 5, t["alerts"]  # 3 spreads + 2 exposures (python3 and sh read key.txt)
PY
"$SPRAWLCTL" trail "$ID" --file "$ALERTS" --format json >"$E2E_TMP/trail_id.json"
check "trail by id gives the same trail" cmp "$E2E_TMP/trail.json" "$E2E_TMP/trail_id.json"

"$SPRAWLCTL" trail TRAIL_KEY --file "$ALERTS" >"$E2E_TMP/trail.txt"
check "trail (text): the header counts places, sessions, hosts" \
	grep -qx "3 place(s), 2 session(s), 1 host(s), 5 alert(s)" "$E2E_TMP/trail.txt"
check "trail (text): each place on its line with first time and count" bash -c "
	grep -q '└─ file $WORK/x.txt  first 20.*Z, count 3, medium' '$E2E_TMP/trail.txt' &&
	grep -q 'socket udp 127.0.0.1:9  first 20.*Z, count 1, high' '$E2E_TMP/trail.txt' &&
	grep -q 'file $WORK/y.txt  first .*count 1' '$E2E_TMP/trail.txt' &&
	grep -q 'process [0-9]* python3 (.*python3.*), read the origin' '$E2E_TMP/trail.txt'"

"$SPRAWLCTL" trail TRAIL_KEY --file "$ALERTS" --format dot >"$E2E_TMP/trail.dot"
check "trail --format dot: graphviz accepts it" dot -Tsvg -o "$E2E_TMP/dot.svg" "$E2E_TMP/trail.dot"
check "... one node per place, session and process, plus secret and origin (9)" \
	test "$(grep -cE '^.(secret|origin|p[0-9]+|s[0-9]+(p[0-9]+)?) \[label=' "$E2E_TMP/trail.dot")" = 9
check "... and an arrow for each of the 9 steps (origin read twice)" \
	test "$(grep -c -- ' -> ' "$E2E_TMP/trail.dot")" = 10

"$SPRAWLCTL" trail TRAIL_KEY --file "$ALERTS" --format svg >"$E2E_TMP/trail.svg"
check "trail --format svg: well-formed, self-contained, 9 boxes naming every place" \
	python3 - "$E2E_TMP/trail.svg" "$WORK" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg"
boxes = [r for r in root.iter(ns + "rect") if r.get("rx")]
assert len(boxes) == 9, len(boxes)
texts = [t.text or "" for t in root.iter(ns + "text")]
for want in ("TRAIL_KEY", "origin", "x.txt", "y.txt", "udp 127.0.0.1:9"):
    assert any(want in t for t in texts), want
assert not any(e.get("href") or e.get("{http://www.w3.org/1999/xlink}href") for e in root.iter())
assert len(list(root.iter(ns + "path"))) == 8  # origin, 2 sessions, 2 processes, 3 places
PY
check "... and rsvg-convert renders it" rsvg-convert -o "$E2E_TMP/trail.png" "$E2E_TMP/trail.svg"

# Hostile names (a path a process chose) stay text in every rendering.
python3 - "$E2E_TMP/hostile.jsonl" <<'PY'
import json, sys
path = '/tmp/a"b<script>&\\x\u009b31m\u001b[2J\n\uffff</svg>'
a = {"time": "2026-11-30T10:00:00.000001Z", "kind": "secret_spread", "severity": "high",
     "host": "h<1>", "secret": {"id": "00112233445566aa", "name": "HOSTILE", "variant": "raw"},
     "artifact": {"type": "file", "path": path, "dev": 1, "ino": 2},
     "process": {"pid": 7, "ppid": 1, "uid": 0, "comm": "x\"y", "exe": path, "argv": []},
     "session": {"id": 9, "agent": "a&b", "root_pid": 7, "root_exe": path},
     "first_seen": True, "count": 1}
open(sys.argv[1], "w").write(json.dumps(a) + "\n")
PY
"$SPRAWLCTL" trail HOSTILE --file "$E2E_TMP/hostile.jsonl" >"$E2E_TMP/hostile.txt"
check "hostile names: the tree holds no control character (C0 or C1)" python3 -c "
import sys
b = open('$E2E_TMP/hostile.txt', 'rb').read().decode()
sys.exit(any(ord(c) < 0x20 and c != '\n' or 0x7f <= ord(c) <= 0x9f for c in b))"
"$SPRAWLCTL" trail HOSTILE --file "$E2E_TMP/hostile.jsonl" --format dot >"$E2E_TMP/hostile.dot"
check "hostile names: the DOT is still graphviz's" dot -Tsvg -o /dev/null "$E2E_TMP/hostile.dot"
"$SPRAWLCTL" trail HOSTILE --file "$E2E_TMP/hostile.jsonl" --format svg >"$E2E_TMP/hostile.svg"
check "hostile names: the SVG is well-formed XML with no element of theirs" python3 -c "
import xml.etree.ElementTree as ET
r = ET.parse('$E2E_TMP/hostile.svg').getroot()
assert {e.tag.split('}')[1] for e in r.iter()} == {'svg', 'rect', 'text', 'g', 'path'}"
"$SPRAWLCTL" trail HOSTILE --file "$E2E_TMP/hostile.jsonl" --format json >"$E2E_TMP/hostile.json"
check "hostile names: the JSON keeps them exactly" python3 -c "
import json
t = json.load(open('$E2E_TMP/hostile.json'))
assert t['places'][0]['place'] == '/tmp/a\"b<script>&\\\\x\u009b31m\u001b[2J\n\uffff</svg>', t['places'][0]['place']"

OUT=$("$SPRAWLCTL" trail NO_SUCH_SECRET --file "$ALERTS" 2>&1)
check "an unknown secret is an error that says so" \
	bash -c "grep -q \"no alert names a secret 'NO_SUCH_SECRET'\" <<<\"\$0\"" "$OUT"
e2e_stop
expect_no_plaintext "$SECRET"
check "no plaintext in any rendering" bash -c "! grep -qF -- '$SECRET' '$E2E_TMP'/trail*"
e2e_finish
