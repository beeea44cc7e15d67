#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# When a session ends (its last process exits, a backgrounded one included), exactly one
# session_summary alert lists the secrets that spread in it and where, with counts: what a
# responder rotates or revokes. A hook gets it like any alert; a session that spread nothing
# has none.
. "$(dirname "$0")/lib.sh"

cat >"$E2E_TMP/hook.sh" <<'SH'
#!/bin/sh
cat >>"$1"
SH
chmod +x "$E2E_TMP/hook.sh"
HOOK_OUT=$E2E_TMP/hook.out
e2e_start --hook "$E2E_TMP/hook.sh" --hook-arg "$HOOK_OUT"
A=$(gen_secret sumA_ 30)
B=$(gen_secret sumB_ 30)
printf 'A=%s\n' "$A" >"$WORK/.env"
printf '%s\n' "$B" >"$E2E_TMP/b.txt"
"$SPRAWLCTL" secrets import-env "$WORK/.env" >/dev/null
"$SPRAWLCTL" secrets add SUM_B <"$E2E_TMP/b.txt" >/dev/null

# Session 1: reads .env (exposure of A), puts A in two files (one of them twice), B in a
# third from a backgrounded child that outlives the shell by a moment.
"$SPRAWLCTL" run --agent summ -- sh -c "
cat '$WORK/.env' > '$WORK/copy1'
cat '$WORK/.env' >> '$WORK/copy1'
grep A= '$WORK/.env' > '$WORK/copy2'
(sleep 0.5; read -r l < '$E2E_TMP/b.txt'; printf '%s\\n' \"\$l\" > '$WORK/copy3') &
echo \$\$ > '$WORK/root.pid'"
ROOT=$(cat "$WORK/root.pid")
# Session 2: nothing tracked goes anywhere.
"$SPRAWLCTL" run --agent quiet -- sh -c "echo hello > '$WORK/plain.txt'"

wait_alerts 1 "a['kind']=='session_summary'" 15
sleep 1.5
expect_alerts "exactly one session_summary, for the session that spread" 1 \
	"a['kind']=='session_summary'"
expect_alerts "... naming that session (agent summ, its root)" 1 \
	"a['kind']=='session_summary' and a['session']['agent']=='summ' and a['session']['root_pid']==$ROOT"
check "... after every spread of the session (the backgrounded child's included)" python3 - "$ALERTS" <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
kinds = [a["kind"] for a in alerts if a.get("session", {}).get("agent") == "summ"]
assert kinds[-1] == "session_summary" and kinds.count("session_summary") == 1, kinds
PY
check "... listing exactly the secrets and places of its alerts, with counts" \
	python3 - "$ALERTS" "$WORK" <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
work = sys.argv[2]
summ = [a for a in alerts if a["kind"] == "session_summary"][0]
spreads = [a for a in alerts if a["kind"] == "secret_spread" and a["session"]["agent"] == "summ"]
got = {s["name"]: s for s in summ["secrets"]}
assert set(got) == {"A", "SUM_B"}, got.keys()
assert got["A"]["read_origin"] is True and got["SUM_B"]["read_origin"] is False
places = lambda s: sorted((p["type"], p["place"], p["count"]) for p in s["places"])
assert places(got["A"]) == [("file", work + "/copy1", 1), ("file", work + "/copy2", 1)], places(got["A"])
assert places(got["SUM_B"]) == [("file", work + "/copy3", 1)], places(got["SUM_B"])
want = sorted((a["secret"]["name"], a["artifact"]["path"]) for a in spreads)
have = sorted((s["name"], p["place"]) for s in summ["secrets"] for p in s["places"])
assert want == have, (want, have)
assert summ["count"] == 3 and summ["more_secrets"] == 0
assert summ["severity"] == "medium", summ["severity"]
assert "2 secret(s) spread to 3 place(s)" in summ["message"], summ["message"]
assert all(s["id"] == a["secret"]["id"] for a in spreads for s in summ["secrets"] if s["name"] == a["secret"]["name"])
PY
for _ in $(seq 50); do grep -q session_summary "$HOOK_OUT" 2>/dev/null && break; sleep 0.1; done
check "the hook got the same session_summary" python3 - "$ALERTS" "$HOOK_OUT" <<'PY'
import json, sys
f = [l for l in open(sys.argv[1]) if '"session_summary"' in l]
h = [l for l in open(sys.argv[2]) if '"session_summary"' in l]
assert len(f) == 1 and h == f, (len(f), len(h))
PY
e2e_stop
expect_no_plaintext "$A"
expect_no_plaintext "$B"
e2e_finish
