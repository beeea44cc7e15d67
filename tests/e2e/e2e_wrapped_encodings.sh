#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Base64 and hex as tools print them, wrapped into lines, with the secret across a line break:
# `base64` (76 columns), `openssl base64` (64), `xxd -p` (60 hex digits a line), base64 with
# CRLF line ends, and hex written a line per write() (the secret across writes too). Each file
# raises exactly one alert, with the variant the tool wrote, and so does each pipe between.
. "$(dirname "$0")/lib.sh"

for t in base64 openssl xxd; do
	command -v "$t" >/dev/null || e2e_skip "$t not installed"
done
e2e_start
T=$(gen_secret wrap_ 33)
printf '%s' "$T" | "$SPRAWLCTL" secrets add WRAP_KEY >/dev/null
# Random bytes before the value put its encoding across a line break of each tool: base64
# from column 67 of 76 (50 bytes before), openssl from column 54 of 64 (40), xxd -p from
# digit 40 of 60 (20).
mk() { # mk FILE PREFIX_BYTES
	(umask 077 && { head -c "$2" /dev/urandom && printf '%s' "$T" && head -c 7 /dev/urandom; } >"$1")
}
mk "$E2E_TMP/blob50" 50
mk "$E2E_TMP/blob40" 40
mk "$E2E_TMP/blob20" 20
"$SPRAWLCTL" run -- sh -c "
	base64 '$E2E_TMP/blob50' > '$WORK/coreutils.b64'
	openssl base64 -in '$E2E_TMP/blob40' -out '$WORK/openssl.b64'
	xxd -p '$E2E_TMP/blob20' > '$WORK/xxd.hex'
	base64 '$E2E_TMP/blob50' | sed 's/\$/\r/' > '$WORK/crlf.b64'
	xxd -p '$E2E_TMP/blob20' | while read -r l; do printf '%s\n' \"\$l\"; done > '$WORK/lines.hex'
"
check "the tools wrapped: base64 at 76, openssl at 64, xxd -p at 60" bash -c "
	[ \$(head -1 '$WORK/coreutils.b64' | tr -d '\n' | wc -c) = 76 ] &&
	[ \$(head -1 '$WORK/openssl.b64' | tr -d '\n' | wc -c) = 64 ] &&
	[ \$(head -1 '$WORK/xxd.hex' | tr -d '\n' | wc -c) = 60 ] &&
	head -1 '$WORK/crlf.b64' | grep -q \$'\r\$'"
check "the value's encoding is across a line break in each (not on one line)" python3 - \
	"$E2E_TMP/.secrets/list" "$WORK" <<'PY'
import base64, sys
v = base64.b64decode(open(sys.argv[1]).read().split()[-1])
w = sys.argv[2]
for f, enc in (("coreutils.b64", None), ("openssl.b64", None), ("xxd.hex", v.hex())):
    data = open(w + "/" + f, "rb").read()
    joined = data.replace(b"\r", b"").replace(b"\n", b"")
    if enc is None:
        # the stable inner part of the value's base64 at its alignment in the blob
        full = base64.b64decode(joined)
        at = full.index(v)
        enc = base64.b64encode(full)[(at * 4 + 2) // 3:((at + len(v)) * 4) // 3].decode()
    assert enc.encode() in joined and enc.encode() not in data, f
PY
wait_alerts 7 "a['kind']=='secret_spread'" 15
barrier
for pair in coreutils.b64:base64 openssl.b64:base64 xxd.hex:hex crlf.b64:base64 lines.hex:hex; do
	f=${pair%%:*}
	v=${pair##*:}
	expect_alerts "$f: one alert, variant $v" 1 \
		"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/$f' and a['secret']['name']=='WRAP_KEY' and a['secret']['variant']=='$v'"
done
# The two pipelines carried the wrapped form from one process to the next: spreads too.
expect_alerts "the pipe into sed carried it: one alert, variant base64" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='pipe' and a['secret']['variant']=='base64'"
expect_alerts "the pipe into the read loop carried it: one alert, variant hex" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='pipe' and a['secret']['variant']=='hex'"
expect_alerts "seven alerts in all" 7 "a['kind']!='session_summary'"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
