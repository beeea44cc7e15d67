#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The REAL agents (Claude Code, Gemini CLI) under the daemon, driven by the loopback model
# stand-in (tests/e2e/agents). Per agent:
#   run 1 (no secret registered): every tool subprocess, including a backgrounded one, is in
#          the agent's session (sprawlctl status --json polled while the agent runs), and
#          nothing alerts;
#   run 1b (no sprawlctl run): does the agent's exec start a session of its own? (KNOWN gaps)
#   run 2 (a run-time secret in the project's .env, imported with import-env): one alert for
#          every place the secret lands: the exposure (cat .env), the tool output on its way
#          into the agent, a file a tool writes, the request back to the model, the agent's
#          own transcript under its HOME.
# Skips (77) only when the agent CLIs cannot be installed because npm is unreachable.
# Known product gaps are reported as KNOWN lines (not counted) unless E2E_STRICT=1; see
# docs-agents.md.
. "$(dirname "$0")/lib.sh"

AGENTS_DIR=$E2E_ROOT/tests/e2e/agents
AGENT_LIST=${E2E_AGENTS:-claude gemini}
E2E_OWN_AGENTS=$AGENT_LIST
E2E_AGENT_RULES=1 # the compiled-in agent table is what this test is about
E2E_KNOWN=0
SECRETS=()

envout=$("$AGENTS_DIR/install.sh" --print-env 2>"$E2E_TMP/install.err")
irc=$?
if [ "$irc" -eq 77 ]; then
	echo "SKIP $E2E_NAME: the npm registry cannot be reached, so the agent CLIs cannot be installed"
	exit 77
elif [ "$irc" -ne 0 ]; then
	echo "FAIL $E2E_NAME: tests/e2e/agents/install.sh exited $irc"
	cat "$E2E_TMP/install.err"
	exit 1
fi
eval "$envout"
export SPRAWL_CLAUDE SPRAWL_GEMINI

# Agent HOMEs live under /home so that the rules' `~/` transcript globs (which match /root/
# and /home/NAME/ only) apply, as they would for a real user.
HOMES=()
cleanup_homes() {
	local h
	for h in "${HOMES[@]}"; do
		case $h in /home/sprawl-e2e-*) rm -rf "$h" ;; esac
	done
	e2e_cleanup
}
trap cleanup_homes EXIT
e2e_start

# A product gap we know of: shown, not counted, unless E2E_STRICT=1.
known() {
	local what=$1
	shift
	if "$@"; then
		echo "  ok   $what (known gap fixed: make this a check)"
	elif [ -n "${E2E_STRICT:-}" ]; then
		check "$what" false
	else
		echo "  KNOWN $what"
		E2E_KNOWN=$((E2E_KNOWN + 1))
	fi
}

# The scenario of tool calls, the same for both agents and both runs. Gemini blocks $( ) in
# commands and strips a leading `sh -c`, Claude refuses a bare `sleep N`: keep to these forms.
cat >"$E2E_TMP/scenario.json" <<'EOF'
{ "turns": [
    [{"shell": "cat .env"}],
    [{"shell": "cut -d= -f2 .env > out.txt"},
     {"shell": "nohup sh -c 'echo $$ > bg.pid; sleep 2; echo done > bg.txt' >/dev/null 2>&1 &"}],
    [{"shell": "echo $$ > tool.pid; sleep 1.5"}]
  ],
  "final": "Scenario finished." }
EOF
# For the agent started without `sprawlctl run`: does its exec start a session by itself?
cat >"$E2E_TMP/auto.json" <<'EOF'
{ "turns": [[{"shell": "echo $$ > tool.pid; sleep 1.5"}]], "final": "Scenario finished." }
EOF

# drive AGENT NAME [SCENARIO]: runs the agent once through `sprawlctl run --agent AGENT --`
# (without it for auto.json) in $WORK/NAME/proj with HOME /home/sprawl-e2e-PID-NAME, polling
# `sprawlctl status --json` (bounded) into $WORK/NAME/status.jsonl while it runs. Sets R (the
# run's directory), HOME_DIR, PORT (the stand-in's).
drive() {
	local agent=$1 name=$2 scenario=${3:-$E2E_TMP/scenario.json} poller
	local prefix=("$SPRAWLCTL" run --agent "$agent" --)
	[ "$scenario" = "$E2E_TMP/auto.json" ] && prefix=()
	R=$WORK/$name
	mkdir -p "$R/proj"
	HOME_DIR=/home/sprawl-e2e-$$-$name
	HOMES+=("$HOME_DIR")
	rm -rf "$HOME_DIR"
	mkdir -p "$HOME_DIR"
	(
		for _ in $(seq 900); do
			"$SPRAWLCTL" status --json >>"$R/status.jsonl" 2>/dev/null
			# the process table too: which sessions are this test's (a shared host runs
			# other people's agents, which the compiled-in agent rules adopt as well)
			{ echo "--"; ps -e -o pid= -o ppid=; } >>"$R/ps.txt"
			[ -e "$R/stop" ] && break
			sleep 0.1
		done
	) &
	poller=$!
	SPRAWL_DRIVE_DIR=$R/run SPRAWL_AGENT_HOME=$HOME_DIR SPRAWL_AGENT_TIMEOUT=90 \
		SPRAWL_AGENT_GRACE=6 \
		"$AGENTS_DIR/drive.sh" "$agent" "$scenario" "$R/proj" \
		${prefix[@]:+-- "${prefix[@]}"} 2>"$R/drive.err"
	echo $? >"$R/rc"
	touch "$R/stop"
	wait "$poller"
	PORT=$(sed -n 's/^PORT=//p' "$R/run/env")
}

# Facts from the status snapshots of run R, as shell assignments: the session (label LABEL,
# or any with '*') that held the tool's shell (pid in tool.pid): ROOT SID LABEL, TOOL_IN and
# BG_IN (whether the tool's shell and the backgrounded sh from bg.pid were among its
# processes), AGENT_PID/AGENT_EXE/AGENT_PPID (the tool shell's parent: the root for Claude,
# for Gemini the node its launcher relaunches), NSESSIONS (this test's sessions of LABEL that had
# processes while polled).
tree_facts() {
	python3 - "$R/status.jsonl" "$1" "$R/proj" "$R/ps.txt" "$$" <<'PY'
import json, os, sys
path, label, proj, pstxt, me = sys.argv[1:6]
# this test's processes: descendants of its shell in any process-table snapshot
ours = set()
snaps = open(pstxt).read().split("--\n") if os.path.exists(pstxt) else []
for snap in snaps:
    parent = {}
    for l in snap.split("\n"):
        f = l.split()
        if len(f) == 2:
            parent[int(f[0])] = int(f[1])
    for pid in parent:
        p, seen = pid, 0
        while p > 1 and seen < 64:
            if p == int(me):
                ours.add(pid)
                break
            p, seen = parent.get(p, 0), seen + 1
def pid_of(f):
    try:
        return int(open(os.path.join(proj, f)).read().split()[0])
    except Exception:
        return -1
bg, tool = pid_of("bg.pid"), pid_of("tool.pid")
sessions = {}
for line in open(path):
    try:
        st = json.loads(line)
    except ValueError:
        continue
    for s in st.get("sessions", []):
        if label != "*" and s.get("agent") != label:
            continue
        e = sessions.setdefault(s["id"], {"root": s["root_pid"], "procs": {}, "label": s.get("agent")})
        for p in s.get("processes", []):
            e["procs"][p["pid"]] = p
# The session of this run: the one that held the tool's shell.
sid = next((k for k, e in sessions.items() if tool in e["procs"]), None)
e = sessions.get(sid, {"root": 0, "procs": {}})
procs, root = e["procs"], e["root"]
tp = procs.get(tool)
agent_pid = tp["ppid"] if tp else 0
print(f"ROOT={root} SID={sid or 0} AGENT_PID={agent_pid} BG_PID={bg} TOOL_PID={tool}")
print(f"TOOL_IN={int(tp is not None)} BG_IN={int(bg in procs)}")
ap = procs.get(agent_pid)
print(f"AGENT_EXE={ap['exe'] if ap else ''} AGENT_PPID={ap['ppid'] if ap else 0}")
# sessions of this test only: their root or a process of theirs was ours
print(f"NSESSIONS={sum(1 for e in sessions.values() if e['procs'] and (e['root'] in ours or ours & set(e['procs'])))}")
print(f"LABEL='{e.get('label') or ''}'")
PY
}

for agent in $AGENT_LIST; do
	case $agent in
	claude) agent_exe=$SPRAWL_CLAUDE; transcript_glob='.claude/projects/*/*.jsonl' ;;
	gemini) agent_exe=$(command -v node); transcript_glob='.gemini/tmp/*/chats/*.jsonl' ;;
	esac
	agent_exe=$(readlink -f "$agent_exe") # the daemon names exes as /proc/PID/exe does

	# ---- run 1: no secret registered: the process tree -----------------------------------
	echo "-- $agent, no secret registered: the session follows every tool subprocess"
	mkdir -p "$WORK/$agent-tree/proj"
	printf 'SW_E2E_UNREGISTERED=%s\n' "$(gen_secret swe2e_ 30)" >"$WORK/$agent-tree/proj/.env"
	drive "$agent" "$agent-tree"
	eval "$(tree_facts "$agent")"
	check "$agent: agent exited 0 and the scenario ran to its end" \
		bash -c "[ \"\$(cat '$R/rc')\" = 0 ] && grep -q 'main.final' '$R/run/standin/requests.jsonl'"
	for _ in $(seq 30); do [ -s "$R/proj/bg.txt" ] && break; sleep 0.1; done
	check "$agent: the tools ran (out.txt, tool.pid, backgrounded bg.txt)" \
		test -s "$R/proj/out.txt" -a -s "$R/proj/tool.pid" -a -s "$R/proj/bg.txt"
	check "$agent: one session labelled $agent, root = the agent's launch" \
		test "$NSESSIONS" -eq 1 -a "$ROOT" -gt 0
	check "$agent: the tool's shell (pid $TOOL_PID) is in the session" test "$TOOL_IN" -eq 1
	check "$agent: the backgrounded nohup sh (pid $BG_PID) is in the session" test "$BG_IN" -eq 1
	check "$agent: the tool's parent is the agent process ($AGENT_EXE)" \
		test "$AGENT_EXE" = "$agent_exe"
	if [ "$agent" = gemini ]; then
		check "gemini: the agent process is the relaunched node, a child of the root" \
			test "$AGENT_PPID" -eq "$ROOT"
	else
		check "claude: the agent process is the session root" test "$AGENT_PID" -eq "$ROOT"
	fi
	# Nothing registered: the only alerts may be the detectors' own finds (a learned secret,
	# e.g. the token Claude Code puts in its tools' environment).
	barrier "$agent run 1 processed"
	expect_alerts "$agent: no secret registered, no alert but detector finds" 0 \
		"(a.get('session') or {}).get('root_pid')==$ROOT and not (a.get('secret') or {}).get('name', '').startswith(('generic-secret-', 'jwt-'))"

	# ---- the agent started without sprawlctl run: the agent table should start a session --
	drive "$agent" "$agent-auto" "$E2E_TMP/auto.json"
	eval "$(tree_facts '*')"
	check "$agent (no sprawlctl run): agent exited 0" test "$(cat "$R/rc")" = 0
	# Gemini's `#!/usr/bin/env node` launcher is adopted from its argv; claude.exe is in the
	# kernel's agent table.
	check "$agent (no sprawlctl run): its exec starts a session holding its tools (pid $TOOL_PID)" \
		test "$TOOL_IN" -eq 1
	check "$agent (no sprawlctl run): ... labelled $agent" test "$LABEL" = "$agent"

	# ---- run 2: a registered secret ------------------------------------------------------
	echo "-- $agent, a secret in .env: one alert for every place it lands"
	R=$WORK/$agent-secret
	mkdir -p "$R/proj"
	NAME=SW_E2E_${agent^^}_TOKEN
	SECRET=$(gen_secret swe2e_ 30)
	printf '%s=%s\n' "$NAME" "$SECRET" >"$R/proj/.env"
	"$SPRAWLCTL" secrets import-env "$R/proj/.env" >/dev/null
	SECRETS+=("$SECRET")
	sleep 1.2 # the daemon picks up a changed secret set within one second
	drive "$agent" "$agent-secret"
	eval "$(tree_facts "$agent")"
	check "$agent: agent exited 0, tools ran" \
		bash -c "[ \"\$(cat '$R/rc')\" = 0 ] && grep -q 'main.final' '$R/run/standin/requests.jsonl' && test -s '$R/proj/out.txt'"
	# shellcheck disable=SC2086 # the glob is meant to expand
	transcript=$(cd "$HOME_DIR" && ls -d $transcript_glob 2>/dev/null | head -n1)
	transcript=${transcript:+$HOME_DIR/$transcript}
	check "$agent: the transcript under HOME holds the secret (${transcript:-none})" \
		grep -qF -- "$SECRET" "${transcript:-/dev/null}"
	S="(a.get('secret') or {}).get('name')=='$NAME'"
	SESS="a['session']['root_pid']==$ROOT and a['session']['agent']=='$agent'"
	# Everything that follows is due within a few seconds of the agent's exit (file alerts
	# are held 0.5 s); wait for the last of them, bounded.
	wait_alerts 1 "$S and a['artifact']['type']=='file' and a['artifact']['path']=='$transcript'" 10
	barrier "$agent run 2 processed"

	expect_alerts "$agent (a) exactly one exposure: a session process opened .env" 1 \
		"$S and a['kind']=='secret_exposure'"
	expect_alerts "$agent (a) ... naming .env, the session and a process of it" 1 \
		"$S and a['kind']=='secret_exposure' and a['artifact']['path']=='$R/proj/.env' and $SESS and a['origin']['path']=='$R/proj/.env'"

	if [ "$agent" = claude ]; then
		# Claude Code 2.1 sends a Bash tool's stdout to a file, $TMPDIR/claude-UID/<project>/
		# <session>/tasks/<id>.output, which claude.exe then reads back: no pipe at all.
		expect_alerts "claude (b) exactly one alert for the tool output file cat wrote for the agent" 1 \
			"$S and a['kind']=='secret_spread' and a['artifact']['type']=='file' and a['artifact']['path'].startswith('$R/run/tmp/claude-') and '/tasks/' in a['artifact']['path'] and a['artifact']['path'].endswith('.output') and a['process']['argv']==['cat','.env'] and $SESS"
		expect_alerts "claude (b) no pipe alert (the tool output does not travel by pipe)" 0 \
			"$S and a['artifact']['type']=='pipe' and a['process']['argv']==['cat','.env']"
		check "claude (b) the tool output file the agent reads is marked as reaching the agent (critical)" \
			test "$(count_alerts "$S and '/tasks/' in a['artifact'].get('path','') and a['severity']=='critical'")" -eq 1
	else
		# Gemini CLI (node child_process) gives a tool a socketpair for stdout: a pipe in all
		# but name, reported as one.
		expect_alerts "gemini (b) exactly one alert for cat's stdout into the agent (socketpair as a pipe)" 1 \
			"$S and a['kind']=='secret_spread' and a['artifact']['type']=='pipe' and a['process']['argv']==['cat','.env'] and $SESS"
		check "gemini (b) the socketpair names its reader, the agent node (pid $AGENT_PID), severity critical" \
			test "$(count_alerts "$S and a['process']['argv']==['cat','.env'] and a['artifact'].get('reader_pid')==$AGENT_PID and a['artifact'].get('reader_exe')=='$agent_exe' and a['severity']=='critical'")" -eq 1
		# Gemini CLI loads the project's .env into its own environment at start: every tool
		# subprocess then carries the secret in its environment.
		# One alert for the variable as the agent hands it down, not one per tool.
		expect_alerts "gemini: the secret in its tools' environment (the CLI loaded .env): one alert" 1 \
			"$S and a['artifact']['type']=='exec_env' and a['artifact']['name']=='$NAME' and $SESS"
	fi

	expect_alerts "$agent (c) exactly one alert for out.txt, written by cut" 1 \
		"$S and a['artifact']['type']=='file' and a['artifact']['path']=='$R/proj/out.txt'"
	expect_alerts "$agent (c) ... with dev, ino, the writer and the session" 1 \
		"$S and a['artifact'].get('path')=='$R/proj/out.txt' and a['artifact']['ino']==$(stat -c %i "$R/proj/out.txt") and a['artifact']['dev']==$(stat -c %d "$R/proj/out.txt") and a['process']['comm']=='cut' and a['severity']=='medium' and $SESS"
	expect_alerts "$agent (d) exactly one alert for the request to the model: tcp 127.0.0.1:$PORT" 1 \
		"$S and a['artifact']['type']=='socket' and a['artifact']['proto']=='tcp'"
	expect_alerts "$agent (d) ... sent by the agent process (pid $AGENT_PID), severity high" 1 \
		"$S and a['artifact']['type']=='socket' and a['artifact']['peer']=='127.0.0.1:$PORT' and a['process']['pid']==$AGENT_PID and a['process']['exe']=='$agent_exe' and a['severity']=='high' and $SESS"
	expect_alerts "$agent (e) exactly one alert for the transcript, written by the agent" 1 \
		"$S and a['artifact']['type']=='file' and a['artifact']['path']=='$transcript' and a['process']['pid']==$AGENT_PID and $SESS"
	expect_alerts "$agent (e) ... marked as the $agent agent's transcript, severity high" 1 \
		"$S and a['artifact'].get('path')=='$transcript' and a['severity']=='high' and a.get('message','')==\"the $agent agent's transcript\""
	expect_alerts "$agent: every alert for this secret is in this session" 0 \
		"$S and not ($SESS)"
	expect_alerts "$agent: every alert is a first sighting" 0 "$S and not a['first_seen']"
	check "$agent: the backgrounded sh (pid $BG_PID) was in the session in this run too" \
		test "$BG_IN" -eq 1
	check "$agent: session.root_exe names the agent ($agent_exe), not the sprawlctl that exec'd it" \
		test "$(count_alerts "$S and a['session']['root_exe']=='$agent_exe'")" -ge 1 -a \
		"$(count_alerts "$S and a['session']['root_exe']!='$agent_exe'")" -eq 0
	if [ -n "${E2E_VERBOSE:-}" ]; then
		python3 -c 'import json,sys
for l in open(sys.argv[1]):
    a=json.loads(l)
    if a.get("secret",{}).get("name")==sys.argv[2]:
        print("    ", a["kind"], a["severity"], json.dumps(a["artifact"]), a["process"]["pid"], a["process"]["comm"])' \
			"$ALERTS" "$NAME"
	fi
done

for s in "${SECRETS[@]}"; do expect_no_plaintext "$s"; done
[ "$E2E_KNOWN" -gt 0 ] && echo "  ($E2E_KNOWN known product gap(s), see docs-agents.md; E2E_STRICT=1 counts them)"
e2e_finish
