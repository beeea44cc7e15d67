#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The REAL agents (Claude Code, Gemini CLI, Codex CLI) under the daemon, driven by the loopback
# model stand-in (tests/e2e/agents). Each agent's HOME is outside /home: the agent rules' `~`
# is the session's own home. Per agent:
#   run 1, clean (.env holds nothing secret), started as `sprawlctl run -- AGENT` without
#          --agent: one session, labelled by the agent rules; every tool subprocess, a
#          backgrounded one too, in it (sprawlctl status --json polled while the agent runs);
#          the tools' parent is an agent process. Noise budget: the run raises ZERO alerts of
#          any kind (in its session, naming its files, or of no session) — with a barrier: a
#          sentinel leak started after it has alerted, so the daemon had processed the whole
#          run. (Other agents running on the host are watched too: their alerts are not ours.)
#          Codex CLI's first run says once that its TLS (rustls) cannot be hooked.
#   run 2, a run-time secret in the project's .env (import-env), the agent started WITHOUT
#          sprawlctl run (its exec starts the session): exactly one alert for each place the
#          secret lands — the exposure (.env opened), the tool output on its way into the
#          agent (critical), a file a tool wrote, the next request to the model (high), each of
#          the agent's transcript files (high) — and no other alert.
#   run 3 (Codex only): a tool on a pseudo-terminal (exec_command tty: true): its output
#          reaches the agent through the terminal, critical.
# Skips (77) only when the agent CLIs cannot be installed because npm is unreachable.
. "$(dirname "$0")/lib.sh"

AGENTS_DIR=$E2E_ROOT/tests/e2e/agents
AGENT_LIST=${E2E_AGENTS:-claude gemini codex}
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
export SPRAWL_CLAUDE SPRAWL_GEMINI SPRAWL_CODEX
e2e_start

# The barrier's secret (no origin file: copying it is a plain file alert) and its source.
SENTINEL=$(new_secret SW_E2E_SENTINEL)
SECRETS+=("$SENTINEL")
printf 'SW_E2E_SENTINEL=%s\n' "$SENTINEL" >"$E2E_TMP/sentinel.src"

# The scenario of tool calls, the same for every agent and run. Gemini blocks $( ) in commands
# and strips a leading `sh -c`, Claude refuses a bare `sleep N`, Codex ends the process group
# of a command when it returns (so the backgrounded one leaves it with setsid, and the command
# waits for its bg.pid: a group ended before setsid ran took it along once, under load): keep
# to these forms.
cat >"$E2E_TMP/scenario.json" <<'EOF'
{ "turns": [
    [{"shell": "cat .env"}],
    [{"shell": "cut -d= -f2 .env > out.txt"},
     {"shell": "setsid nohup sh -c 'echo $$ > bg.pid; sleep 2; echo done > bg.txt' >/dev/null 2>&1 & for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do test -s bg.pid && break; sleep 0.1; done"}],
    [{"shell": "echo $$ > tool.pid; sleep 1.5"}]
  ],
  "final": "Scenario finished." }
EOF

alert_lines() { if [ -f "$ALERTS" ]; then wc -l <"$ALERTS"; else echo 0; fi; }

# Other agents may run on this host while the test does (the daemon watches every agent):
# the alerts of run R are those of its session SID, those naming a file of R, and those of no
# session at all (coverage gaps).
mine() {
	# (a session's summary, told when it ends, is about it, not another alert of it)
	echo "(a['kind']!='session_summary' and (a.get('session', {}).get('id')==$SID or 'session' not in a or a.get('artifact', {}).get('path', '').startswith('$R/')))"
}

# Alerts after line MARK of the alert file matching a python predicate over `a`.
count_since() {
	python3 - "$ALERTS" "$1" "$2" <<'PY'
import json, sys
path, mark, pred = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = 0
try:
    for i, line in enumerate(open(path)):
        if i < mark or not line.strip():
            continue
        a = json.loads(line)
        try:
            n += bool(eval(pred, {}, {"a": a}))
        except (KeyError, IndexError, TypeError):
            pass
except FileNotFoundError:
    pass
print(n)
PY
}

# Prints every alert after line MARK, one short line each (for a failing count).
show_since() {
	python3 - "$ALERTS" "$1" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    if i < int(sys.argv[2]) or not line.strip():
        continue
    a = json.loads(line)
    print("      ", a["kind"], a["severity"], a.get("secret", {}).get("name", "-"),
          json.dumps(a.get("artifact", {}))[:160], a.get("process", {}).get("comm", "-"))
PY
}

expect_since() {
	local what=$1 mark=$2 n=$3 pred=$4 got
	got=$(count_since "$mark" "$pred")
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if [ "$got" -eq "$n" ]; then
		echo "  ok   $what"
	else
		echo "  FAIL $what: expected $n alert(s) matching [$pred], got $got; alerts since:"
		show_since "$mark"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# A sentinel leak through a session of its own: once its alert is out, the daemon has processed
# everything before it. Waits (bounded) for it; returns 1 when it did not come.
barrier() {
	local out=$WORK/sentinel-$1.out
	"$SPRAWLCTL" run -- cp "$E2E_TMP/sentinel.src" "$out"
	wait_alerts 1 "a['artifact'].get('path')=='$out'" 15
}

# Codex only: a tool on a pseudo-terminal (exec_command with tty: true).
cat >"$E2E_TMP/pty.json" <<'EOF'
{ "turns": [[{"shell": {"command": "cat .env; sleep 1", "tty": true}}]], "final": "Scenario finished." }
EOF

# drive AGENT NAME [run] [SCENARIO]: runs the agent once in $WORK/NAME/proj with HOME
# $WORK/NAME/home, started through `sprawlctl run --` (no --agent) when the third argument is
# "run", else directly; polls `sprawlctl status --json` (bounded) into $WORK/NAME/status.jsonl
# while it runs. Sets R (the run's directory), HOME_DIR, PORT (the stand-in's).
drive() {
	local agent=$1 name=$2 poller prefix=() scenario=${4:-$E2E_TMP/scenario.json}
	[ "${3:-}" = run ] && prefix=("$SPRAWLCTL" run --)
	R=$WORK/$name
	HOME_DIR=$R/home
	mkdir -p "$R/proj" "$HOME_DIR"
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

# Facts from the status snapshots of run R, as shell assignments: the session that held the
# tool's shell (pid in tool.pid): ROOT SID LABEL, TOOL_IN and BG_IN (whether the tool's shell
# and the backgrounded sh from bg.pid were among its processes), AGENT_PID/AGENT_EXE/AGENT_PPID
# (the tool shell's parent: the root for Claude; for Gemini the node its launcher relaunches;
# for Codex the native binary its node launcher spawns), NSESSIONS (sessions that held a
# process of this run's project while polled).
tree_facts() {
	python3 - "$R/status.jsonl" "$R/proj" <<'PY'
import json, os, sys
path, proj = sys.argv[1:3]
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
        e = sessions.setdefault(s["id"], {"root": s["root_pid"], "procs": {}, "label": s.get("agent")})
        e["label"] = s.get("agent") or e["label"]
        for p in s.get("processes", []):
            e["procs"][p["pid"]] = p
sid = next((k for k, e in sessions.items() if tool in e["procs"]), None)
e = sessions.get(sid, {"root": 0, "procs": {}})
procs, root = e["procs"], e["root"]
tp = procs.get(tool)
agent_pid = tp["ppid"] if tp else 0
print(f"ROOT={root} SID={sid or 0} AGENT_PID={agent_pid} BG_PID={bg} TOOL_PID={tool}")
print(f"TOOL_IN={int(tp is not None)} BG_IN={int(bg in procs)}")
ap = procs.get(agent_pid)
print(f"AGENT_EXE={ap['exe'] if ap else ''} AGENT_PPID={ap['ppid'] if ap else 0}")
mine = [k for k, s in sessions.items() if any(p.get("pid") in (tool, bg) for p in s["procs"].values())]
print(f"NSESSIONS={len(mine)}")
print(f"LABEL='{e.get('label') or ''}'")
PY
}

# The process-tree checks shared by both runs.
check_tree() {
	local agent=$1 what=$2
	check "$agent ($what): agent exited 0 and the scenario ran to its end" \
		bash -c "[ \"\$(cat '$R/rc')\" = 0 ] && grep -q 'main.final' '$R/run/standin/requests.jsonl'"
	for _ in $(seq 30); do [ -s "$R/proj/bg.txt" ] && break; sleep 0.1; done
	check "$agent ($what): the tools ran (out.txt, tool.pid, backgrounded bg.txt)" \
		test -s "$R/proj/out.txt" -a -s "$R/proj/tool.pid" -a -s "$R/proj/bg.txt"
	check "$agent ($what): one session, labelled $agent (got '$LABEL'), holding the tool's shell" \
		test "$NSESSIONS" -eq 1 -a "$TOOL_IN" -eq 1 -a "$LABEL" = "$agent"
	check "$agent ($what): the backgrounded nohup sh (pid $BG_PID) is in the session" \
		test "$BG_IN" -eq 1
	check "$agent ($what): the tool's parent is the agent process ($AGENT_EXE)" \
		test "$AGENT_EXE" = "$agent_exe"
	if [ "$agent" = claude ]; then
		check "claude ($what): the agent process is the session root" \
			test "$AGENT_PID" -eq "$ROOT"
	else
		check "$agent ($what): the agent process is a child of the root (the launcher)" \
			test "$AGENT_PPID" -eq "$ROOT" -a "$AGENT_PID" -ne "$ROOT"
	fi
}

for agent in $AGENT_LIST; do
	case $agent in
	claude)
		agent_exe=$SPRAWL_CLAUDE
		transcript_globs='.claude/projects/*/*.jsonl'
		;;
	gemini)
		agent_exe=$(command -v node)
		transcript_globs='.gemini/tmp/*/chats/*.jsonl'
		;;
	codex)
		# The node launcher spawns the static binary of the platform package.
		agent_exe=$(ls -d "$(dirname "$(readlink -f "$SPRAWL_CODEX")")"/../../codex-linux-*/vendor/*/bin/codex | head -n1)
		transcript_globs='.codex/sessions/*/*/*/rollout-*.jsonl'
		;;
	esac
	agent_exe=$(readlink -f "$agent_exe") # the daemon names exes as /proc/PID/exe does

	# ---- run 1: clean, through sprawlctl run without --agent ---------------------------------
	echo "-- $agent, clean run (sprawlctl run, no --agent): the session, and not one alert"
	mark=$(alert_lines)
	mkdir -p "$WORK/$agent-clean/proj"
	printf 'GREETING=hello\n' >"$WORK/$agent-clean/proj/.env"
	drive "$agent" "$agent-clean" run
	eval "$(tree_facts)"
	check_tree "$agent" clean
	check "$agent (clean): the barrier's sentinel leak alerted" barrier "$agent"
	# Codex's TLS (rustls) is a channel no uprobe sees: said once per binary, at its first run.
	tlsch="a['kind']=='unmonitored_channel' and a['channel']=='tls'"
	if [ "$agent" = codex ]; then
		expect_since "codex (clean): one unmonitored_channel tls naming its binary (rustls)" \
			"$mark" 1 "$(mine) and $tlsch and a['artifact']['path']=='$agent_exe'"
	fi
	expect_since "$agent (clean): the run raised no alert at all (session $SID, files of the run, gaps)" \
		"$mark" 0 "$(mine) and not ($tlsch and a['session']['agent']=='codex')"
	expect_since "$agent (clean): ... while the sentinel leak after it did" "$mark" 1 \
		"a['secret']['name']=='SW_E2E_SENTINEL' and a['session']['agent']=='run' and a['artifact']['path']=='$WORK/sentinel-$agent.out'"

	# ---- run 2: a registered secret, the agent started on its own ----------------------------
	echo "-- $agent, a secret in .env, no sprawlctl run: one alert for every place it lands"
	R=$WORK/$agent-secret
	mkdir -p "$R/proj"
	NAME=SW_E2E_${agent^^}_TOKEN
	SECRET=$(gen_secret swe2e_ 30)
	printf '%s=%s\n' "$NAME" "$SECRET" >"$R/proj/.env"
	"$SPRAWLCTL" secrets import-env "$R/proj/.env" >/dev/null
	SECRETS+=("$SECRET")
	sleep 1.2 # the daemon picks up a changed secret set within one second
	mark=$(alert_lines)
	# codex exec echoes each command's output on its stderr: a file there would be a place of
	# its own (it alerts); here the agent's own places are the subject.
	stdio=
	[ "$agent" = codex ] && stdio=null
	SPRAWL_AGENT_STDIO=$stdio drive "$agent" "$agent-secret"
	eval "$(tree_facts)"
	check_tree "$agent" secret
	# shellcheck disable=SC2086 # the glob is meant to expand
	transcript=$(cd "$HOME_DIR" && ls -d $transcript_globs 2>/dev/null | head -n1)
	transcript=${transcript:+$HOME_DIR/$transcript}
	check "$agent: the transcript under HOME holds the secret (${transcript:-none})" \
		grep -qF -- "$SECRET" "${transcript:-/dev/null}"
	S="a['secret']['name']=='$NAME'"
	SESS="a['session']['root_pid']==$ROOT and a['session']['agent']=='$agent'"
	wait_alerts 1 "$S and a['artifact']['type']=='file' and a['artifact']['path']=='$transcript'" 15
	check "$agent: the barrier's sentinel leak alerted" barrier "$agent-secret"
	expect_since "$agent: ... its alert is not the run's" "$mark" 0 \
		"$(mine) and a['secret']['name']=='SW_E2E_SENTINEL'"

	expect_since "$agent (a) exactly one exposure: a session process opened .env" "$mark" 1 \
		"$S and a['kind']=='secret_exposure' and a['artifact']['path']=='$R/proj/.env' and $SESS and a['origin']['path']=='$R/proj/.env'"
	case $agent in
	claude)
		# Claude Code 2.1 sends a Bash tool's stdout to a file, $TMPDIR/claude-UID/<project>/
		# <session>/tasks/<id>.output, which claude.exe then reads back: no pipe at all.
		expect_since "claude (b) exactly one alert for the tool output file the agent reads back: critical" "$mark" 1 \
			"$S and a['kind']=='secret_spread' and a['artifact']['type']=='file' and a['artifact']['path'].startswith('$R/run/tmp/claude-') and '/tasks/' in a['artifact']['path'] and a['artifact']['path'].endswith('.output') and a['process']['argv']==['cat','.env'] and a['severity']=='critical' and $SESS"
		context=1 extra=0
		;;
	*)
		# Gemini CLI (node child_process) gives a tool a socketpair for stdout, Codex a pipe;
		# the reader is the agent process, not the session's root.
		expect_since "$agent (b) exactly one alert for cat's stdout into the agent (pid $AGENT_PID): critical" "$mark" 1 \
			"$S and a['kind']=='secret_spread' and a['artifact']['type']=='pipe' and a['process']['argv']==['cat','.env'] and a['artifact'].get('reader_pid')==$AGENT_PID and a['artifact'].get('reader_exe')=='$agent_exe' and a['severity']=='critical' and 'context' in a['message'] and $SESS"
		context=1 extra=0
		if [ "$agent" = gemini ]; then
			# Gemini CLI loads the project's .env into its own environment at start: every
			# tool carries the secret in its environment. One alert for the variable as the
			# agent hands it down, not one per tool.
			expect_since "gemini: the secret in its tools' environment (the CLI loaded .env): one alert" "$mark" 1 \
				"$S and a['artifact']['type']=='exec_env' and a['artifact']['name']=='$NAME' and $SESS"
			extra=1
		fi
		;;
	esac
	expect_since "$agent (c) exactly one alert for out.txt, written by cut (dev, ino, session)" "$mark" 1 \
		"$S and a['artifact'].get('path')=='$R/proj/out.txt' and a['artifact']['ino']==$(stat -c %i "$R/proj/out.txt") and a['artifact']['dev']==$(stat -c %d "$R/proj/out.txt") and a['process']['comm']=='cut' and a['severity']=='medium' and $SESS"
	expect_since "$agent (d) exactly one alert for the request to the model, tcp 127.0.0.1:$PORT, by the agent process, high" "$mark" 1 \
		"$S and a['artifact']['type']=='socket' and a['artifact']['proto']=='tcp' and a['artifact']['peer']=='127.0.0.1:$PORT' and a['process']['pid']==$AGENT_PID and a['process']['exe']=='$agent_exe' and a['severity']=='high' and $SESS"
	expect_since "$agent (e) exactly one alert for the transcript, by the agent process, high, the $agent agent's" "$mark" 1 \
		"$S and a['artifact'].get('path')=='$transcript' and a['process']['pid']==$AGENT_PID and a['severity']=='high' and a['message']==\"the $agent agent's transcript\" and $SESS"
	# Every other file the secret landed in under HOME is a transcript of its own (Codex's
	# history database and its write-ahead log), each alerted once, high.
	ntr=$(count_since "$mark" "$S and a['artifact'].get('path','').startswith('$HOME_DIR/')")
	expect_since "$agent (e) every file under HOME with the secret is one of the agent's transcripts, high ($ntr)" "$mark" "$ntr" \
		"$S and a['artifact'].get('path','').startswith('$HOME_DIR/') and a['severity']=='high' and a['message']==\"the $agent agent's transcript\""
	npaths=$(python3 - "$ALERTS" "$mark" "$HOME_DIR/" <<'PY'
import json, sys
paths = set()
for i, line in enumerate(open(sys.argv[1])):
    if i >= int(sys.argv[2]) and line.strip():
        p = json.loads(line).get("artifact", {}).get("path", "")
        if p.startswith(sys.argv[3]):
            paths.add(p)
print(len(paths))
PY
)
	check "$agent (e) ... one alert per transcript file ($ntr alerts, $npaths files)" \
		test "$ntr" -eq "$npaths"
	if [ "$agent" = codex ]; then
		expect_since "codex (e) its history database is a transcript: one alert" "$mark" 1 \
			"$S and a['artifact'].get('path','').startswith('$HOME_DIR/.codex/thread_history_') and a['severity']=='high'"
	fi
	# exposure + context + out.txt + request + transcripts (+ gemini's exec_env)
	expect_since "$agent: no other alert (no unmonitored_channel, no discovery, nothing else)" "$mark" \
		$((1 + context + 1 + 1 + ntr + extra)) "$(mine)"
	expect_since "$agent: every alert is a first sighting" "$mark" 0 "$(mine) and not a['first_seen']"
	check "$agent: session.root_exe names the agent's launch, not the sprawlctl that started it" \
		test "$(count_since "$mark" "$S and a['session']['root_exe'].endswith('/sprawlctl')")" -eq 0

	# ---- run 3 (Codex): the tool on a pseudo-terminal -------------------------------------
	[ "$agent" = codex ] || continue
	echo "-- codex, a tool run on a pty (tty: true): its output reaches the agent through the terminal"
	R=$WORK/codex-pty
	mkdir -p "$R/proj"
	NAME=SW_E2E_CODEX_PTY_TOKEN
	SECRET=$(gen_secret swe2e_ 30)
	printf '%s=%s\n' "$NAME" "$SECRET" >"$R/proj/.env"
	"$SPRAWLCTL" secrets import-env "$R/proj/.env" >/dev/null
	SECRETS+=("$SECRET")
	sleep 1.2
	SPRAWL_AGENT_STDIO=null drive codex codex-pty "" "$E2E_TMP/pty.json"
	check "codex (pty): agent exited 0, the scenario ran to its end" \
		bash -c "[ \"\$(cat '$R/rc')\" = 0 ] && grep -q 'main.final' '$R/run/standin/requests.jsonl'"
	check "codex (pty): the barrier's sentinel leak alerted" barrier codex-pty
	expect_alerts "codex (pty): exactly one alert for cat's output on the pty: critical, the agent's context" 1 \
		"a['secret']['name']=='$NAME' and a['artifact']['type']=='tty' and a['artifact']['path'].startswith('/dev/pts/') and a['process']['argv']==['cat','.env'] and a['severity']=='critical' and 'terminal' in a['message'] and a['session']['agent']=='codex'"
	expect_alerts "codex (pty): no pipe alert for it" 0 \
		"a['secret']['name']=='$NAME' and a['artifact']['type']=='pipe'"
done

for s in "${SECRETS[@]}"; do expect_no_plaintext "$s"; done
e2e_finish
