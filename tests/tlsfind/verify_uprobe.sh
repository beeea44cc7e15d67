#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks for real that the offsets sw_tlsfind__scan finds are the TLS write functions every
# request goes through: for each client below, a uprobe at each offset (tools/tlsfind/probe.c,
# libbpf, no daemon) records the buffer of every call made by the client's process while it
# sends an https request with a random marker to a loopback sink (tls_sink.py); compare.py
# then requires the calls to account for every plaintext byte the sink received, in order,
# and for nothing else, and the marker to be in a captured buffer.
#
#   curl --data            libssl.so.3 SSL_write       (symbol)
#   python3 urllib         libssl.so.3 SSL_write_ex    (symbol)
#   node fetch             /usr/bin/node SSL_write     (symbol, exported by the executable)
#   claude.exe -p          Claude Code's Bun binary    (build-id table; pattern agrees, unit test)
#   bun fetch              SPRAWL_BUN, when set: any other Bun build (pattern only), e.g. the
#                          `bun` of npm's @oven/bun-linux-x64
#
# Needs root (uprobes, BPF). Exit 0 pass, 1 fail, 77 skipped (not root, or no claude.exe and
# the agents cannot be installed). Run from the repository root or anywhere:
#   bash tests/tlsfind/verify_uprobe.sh
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LIBSSL=/usr/lib/x86_64-linux-gnu/libssl.so.3

[ "$(id -u)" = 0 ] || { echo "verify_uprobe: needs root: skipped"; exit 77; }
for t in cc openssl python3 curl; do
	command -v "$t" >/dev/null || { echo "verify_uprobe: no $t: skipped"; exit 77; }
done
if [ -z "${SPRAWL_CLAUDE:-}" ]; then
	envs=$(bash "$ROOT/tests/e2e/agents/install.sh" --print-env 2>/dev/null)
	rc=$?
	[ $rc = 77 ] && { echo "verify_uprobe: agents cannot be installed: skipped"; exit 77; }
	[ $rc = 0 ] || { echo "verify_uprobe: install.sh failed ($rc)"; exit 1; }
	eval "$envs"
fi

T=$(mktemp -d /tmp/verify_uprobe.XXXXXX)
SINK=
cleanup() {
	[ -n "$SINK" ] && kill "$SINK" 2>/dev/null && wait "$SINK" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

cc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$ROOT/userspace/src" "$ROOT/tools/tlsfind/probe.c" \
	"$ROOT/userspace/src/tlsfind.c" -lbpf -lelf -o "$T/probe" || { echo "verify_uprobe: build failed"; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null || exit 1

fails=0
# case NAME BINARY CMD...: the sink, the probed client, the comparison.
case_() {
	local name=$1 bin=$2 marker log port
	shift 2
	log="$T/$name"
	mkdir -p "$log" "$T/home"
	python3 "$HERE/tls_sink.py" "$T/cert.pem" "$T/key.pem" "$log" &
	SINK=$!
	for _ in $(seq 1 50); do [ -s "$log/port" ] && break; sleep 0.1; done
	port=$(cat "$log/port")
	marker="tlsfind-marker-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	local cmd=()
	for a in "$@"; do a=${a//@PORT@/$port}; cmd+=("${a//@MARKER@/$marker}"); done
	echo "== $name"
	"$T/probe" -t 120 -b "$bin" "$T/$name.cap" -- "${cmd[@]}" >"$T/$name.out" 2>&1
	grep -E '^(hook|calls)' "$T/$name.out"
	sleep 0.5 # the sink writes a connection's log when the client has closed it
	kill "$SINK" 2>/dev/null
	wait "$SINK" 2>/dev/null
	SINK=
	if ! python3 "$HERE/compare.py" "$T/$name.cap" "$log" "$marker"; then
		fails=$((fails + 1))
		sed 's/^/  | /' "$T/$name.out" | tail -20
	fi
}

case_ curl "$LIBSSL" curl -sS -o /dev/null --cacert "$T/cert.pem" --data "@MARKER@" \
	"https://127.0.0.1:@PORT@/curl"
case_ python_urllib "$LIBSSL" python3 -c "
import ssl, urllib.request
ctx = ssl.create_default_context(cafile='$T/cert.pem')
try:
    urllib.request.urlopen('https://127.0.0.1:@PORT@/py', data=b'@MARKER@', context=ctx)
except Exception:
    pass
"
if [ -x /usr/bin/node ]; then
	case_ node_fetch /usr/bin/node env NODE_EXTRA_CA_CERTS="$T/cert.pem" /usr/bin/node -e "
fetch('https://127.0.0.1:@PORT@/node', {method: 'POST', body: '@MARKER@'}).then(r => r.text()).catch(() => {});
"
fi
# Claude Code against the sink as its model API: every request it makes (the prompt, with the
# marker, and its retries) goes through the hooked function. A throwaway key made here.
key="sk-ant-test-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
case_ claude "$SPRAWL_CLAUDE" env -i HOME="$T/home" PATH=/usr/bin:/bin \
	ANTHROPIC_BASE_URL="https://127.0.0.1:@PORT@" ANTHROPIC_API_KEY="$key" \
	NODE_EXTRA_CA_CERTS="$T/cert.pem" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
	DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 "$SPRAWL_CLAUDE" -p "@MARKER@"

if [ -n "${SPRAWL_BUN:-}" ]; then
	case_ bun_fetch "$SPRAWL_BUN" env NODE_EXTRA_CA_CERTS="$T/cert.pem" "$SPRAWL_BUN" -e "
await fetch('https://127.0.0.1:@PORT@/bun', {method: 'POST', body: '@MARKER@'}).then(r => r.text()).catch(() => {});
"
fi

[ $fails = 0 ] && echo "verify_uprobe: ok" || echo "verify_uprobe: $fails case(s) failed"
[ $fails = 0 ]
