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
# Then with --guard redact, Gemini CLI and Claude Code again (a new secret each): both finish
# their run, the stand-in never receives the secret in any form the matcher knows (raw,
# base64, hex, percent, JSON-escaped), and the prompt's tls alert says "action": "redacted".
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
TLS="a['kind']=='secret_spread' and a['artifact']['type']=='tls'"
cat >"$E2E_TMP/scenario.json" <<'J'
{ "turns": [ [{"shell": "cat .env"}] ], "final": "Scenario finished." }
J

run_agent() { # AGENT RUNDIR [SUFFIX]: the scenario over https; sets R NAME SECRET PORT rc
	agent=$1
	R=$2
	mkdir -p "$R/proj"
	# (a name per run: importing a name again replaces its secret, and the replay check
	# needs every run's secret in the set)
	NAME=TLS_$(echo "$agent" | tr a-z A-Z)${3:-}_KEY
	SECRET=$(gen_secret swe2e_ 30)
	printf '%s=%s\n' "$NAME" "$SECRET" >"$R/proj/.env"
	"$SPRAWLCTL" secrets import-env "$R/proj/.env" >/dev/null
	SPRAWL_STANDIN_TLS=1 SPRAWL_DRIVE_DIR=$R/run SPRAWL_AGENT_HOME=$R/home \
		SPRAWL_AGENT_TIMEOUT=90 SPRAWL_AGENT_STDIO=null \
		"$AGENTS_DIR/drive.sh" "$agent" "$E2E_TMP/scenario.json" "$R/proj" 2>"$R/drive.err"
	rc=$?
	PORT=$(sed -n 's/^PORT=//p' "$R/run/env")
}

for agent in $AGENT_LIST; do
	echo "-- $agent over https"
	run_agent "$agent" "$WORK/$agent"
	check "$agent: finished its run over https (exit $rc)" test "$rc" -eq 0
	check "$agent: the stand-in got the secret in a request (it went over TLS)" \
		grep -qF -- "$SECRET" "$R/run/standin/requests.jsonl"
	S="a['secret']['name']=='$NAME'"
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

e2e_start --guard redact
for agent in $AGENT_LIST; do
	[ "$agent" = codex ] && continue
	echo "-- $agent over https, --guard redact"
	run_agent "$agent" "$WORK/$agent-guard" _GUARD
	check "$agent (redact): finished its run (exit $rc)" test "$rc" -eq 0
	check "$agent (redact): the stand-in got its requests" \
		test "$(grep -c . "$R/run/standin/requests.jsonl")" -ge 2
	printf '%s' "$SECRET" | base64 -w0 >"$E2E_TMP/.secrets/guard"
	check "$agent (redact): the stand-in never received the secret in any form" \
		python3 "$E2E_ROOT/tests/e2e/noplain.py" "$E2E_TMP/.secrets/guard" \
		"$R/run/standin/requests.jsonl"
	wait_alerts 1 "a['secret']['name']=='$NAME' and $TLS" 20
	barrier "$agent-guard"
	expect_alerts "$agent (redact): the prompt's tls alert, action redacted" 1 \
		"a['secret']['name']=='$NAME' and $TLS and a['action']=='redacted' and a['artifact']['peer']=='127.0.0.1:$PORT'"
	expect_alerts "$agent (redact): no verdict came late (no guard_failed gap)" 0 \
		"a['kind']=='coverage_gap' and 'guard_failed' in a.get('gaps', {})"
done
e2e_stop
e2e_finish
