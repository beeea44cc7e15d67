#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The REAL agents over https (tests/e2e/agents, the stand-in serving https with a CA made for
# the run): a tool reads .env (a run-time secret) and the agent sends it in its next request.
#   Gemini CLI (node's own OpenSSL, SSL_write by symbol) and Claude Code (Bun's static
#   BoringSSL, found by build id or byte pattern): exactly one `tls` alert for the prompt,
#   naming the stand-in's address and server name, by the agent process.
#   Codex CLI (rustls: no uprobe can see it): one `unmonitored_channel` tls naming its binary,
#   and once the secret reached its context (the tool's output piped into it), its TLS
#   connection to the stand-in is a `secret_spread` with variant "inferred".
. "$(dirname "$0")/lib.sh"

AGENTS_DIR=$E2E_ROOT/tests/e2e/agents
AGENT_LIST=${E2E_AGENTS:-gemini claude codex}
E2E_OWN_AGENTS=$AGENT_LIST
E2E_AGENT_RULES=1
envout=$("$AGENTS_DIR/install.sh" --print-env 2>"$E2E_TMP/install.err")
irc=$?
[ "$irc" -eq 77 ] && e2e_skip "the npm registry cannot be reached: no agent CLIs"
[ "$irc" -eq 0 ] || { echo "FAIL $E2E_NAME: install.sh exited $irc"; exit 1; }
eval "$envout"
export SPRAWL_CLAUDE SPRAWL_GEMINI SPRAWL_CODEX
e2e_start
cat >"$E2E_TMP/scenario.json" <<'J'
{ "turns": [ [{"shell": "cat .env"}] ], "final": "Scenario finished." }
J

for agent in $AGENT_LIST; do
	echo "-- $agent over https"
	R=$WORK/$agent
	mkdir -p "$R/proj"
	NAME=TLS_$(echo "$agent" | tr a-z A-Z)_KEY
	SECRET=$(gen_secret swe2e_ 30)
	printf '%s=%s\n' "$NAME" "$SECRET" >"$R/proj/.env"
	"$SPRAWLCTL" secrets import-env "$R/proj/.env" >/dev/null
	SPRAWL_STANDIN_TLS=1 SPRAWL_DRIVE_DIR=$R/run SPRAWL_AGENT_HOME=$R/home \
		SPRAWL_AGENT_TIMEOUT=90 SPRAWL_AGENT_STDIO=null \
		"$AGENTS_DIR/drive.sh" "$agent" "$E2E_TMP/scenario.json" "$R/proj" 2>"$R/drive.err"
	rc=$?
	check "$agent: finished its run over https (exit $rc)" test "$rc" -eq 0
	PORT=$(sed -n 's/^PORT=//p' "$R/run/env")
	check "$agent: the stand-in got the secret in a request (it went over TLS)" \
		grep -qF -- "$SECRET" "$R/run/standin/requests.jsonl"
	S="a['secret']['name']=='$NAME'"
	TLS="a['kind']=='secret_spread' and a['artifact']['type']=='tls'"
	PEER="a['artifact']['peer']=='127.0.0.1:$PORT' and a['artifact'].get('sni')=='localhost'"
	case $agent in
	codex)
		wait_alerts 1 "$S and $TLS" 20
		barrier "$agent"
		expect_alerts "codex: one unmonitored_channel tls naming its binary (rustls)" 1 \
			"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['artifact']['path'].endswith('/bin/codex') and 'rustls' in a['message']"
		expect_alerts "codex: its TLS connection after the secret reached its context: one inferred spread, the peer" 1 \
			"$S and $TLS and $PEER and a['secret']['variant']=='inferred' and a['severity']=='critical'"
		expect_alerts "codex: no tls alert it did not infer" 0 \
			"$S and $TLS and a['secret']['variant']!='inferred'"
		;;
	*)
		wait_alerts 1 "$S and $TLS" 20
		barrier "$agent"
		expect_alerts "$agent: exactly one tls alert for the prompt, by the agent, the stand-in's peer and name" 1 \
			"$S and $TLS and $PEER and a['severity']=='critical' and a['secret']['variant']!='inferred' and a['session']['agent']=='$agent'"
		expect_alerts "$agent: no unmonitored_channel tls (its TLS is hooked)" 0 \
			"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['session']['agent']=='$agent'"
		;;
	esac
done
e2e_stop
e2e_finish
