#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A secret is found in its encoded forms too, and the alert names the variant: base64 (at an
# odd alignment inside a larger blob), base64url, hex, percent-encoding, JSON escaping.
. "$(dirname "$0")/lib.sh"

e2e_start
# A value with characters that percent- and JSON-encoding change; six '?' make an aligned
# "???" group whose base64 is "Pz8/" and base64url "Pz8_", so the two variants differ.
T=$(gen_secret 'k/"+=??????' 30)
printf '%s' "$T" | "$SPRAWLCTL" secrets add ENC_KEY >/dev/null
printf '%s' "$T" >"$E2E_TMP/value"
"$SPRAWLCTL" run -- python3 - "$E2E_TMP/value" "$WORK" <<'PY'
import base64, json, sys, urllib.parse
v = open(sys.argv[1], "rb").read()
w = sys.argv[2]
open(w + "/b64.txt", "w").write(base64.b64encode(b"xy" + v + b"z").decode())
open(w + "/b64url.txt", "w").write(base64.urlsafe_b64encode(b"q" + v).decode())
open(w + "/hex.txt", "w").write("dump: " + v.hex() + "\n")
open(w + "/pct.txt", "w").write("GET /?k=" + urllib.parse.quote(v, safe="") + "\n")
open(w + "/json.txt", "w").write(json.dumps({"k": v.decode()}) + "\n")
PY
wait_alerts 5 "a['kind']=='secret_spread'" 10
barrier
for pair in b64.txt:base64 b64url.txt:base64url hex.txt:hex pct.txt:percent json.txt:json; do
	f=${pair%%:*}
	v=${pair##*:}
	expect_alerts "$f: found, variant $v" 1 \
		"a['artifact']['path']=='$WORK/$f' and a['secret']['name']=='ENC_KEY' and a['secret']['variant']=='$v'"
done
expect_alerts "five alerts in all" 5 "a['kind']!='session_summary'"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
