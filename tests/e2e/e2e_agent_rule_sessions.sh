#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sessions start without `sprawlctl run` when an exec matches an agent rule: a binary named
# like an agent (the kernel decides at exec, from its comm), and an interpreter running an
# agent's script (node .../gemini: the daemon adopts it from its argv). Agents cannot opt out.
# `sprawlctl run` without --agent takes the label from the rules (--agent overrides). Any
# process the rules identify as an agent is one, wherever it sits in the session: tool output
# it reads through a pipe is critical. `~` in the transcript globs is the session's own home
# (HOME of its root), `**` any depth.
. "$(dirname "$0")/lib.sh"
E2E_OWN_AGENTS="claude gemini"
E2E_AGENT_RULES=1 # the compiled-in agent table is what this test is about

e2e_start
T=$(new_secret RULE_KEY)
printf 'RULE_KEY=%s\n' "$T" >"$E2E_TMP/src.env"
mkdir -p "$E2E_TMP/bin"
# A stand-in "claude": a copy of sh under the agent's name.
cp "$(readlink -f /bin/sh)" "$E2E_TMP/bin/claude"
"$E2E_TMP/bin/claude" -c "echo \$\$ > '$WORK/claude.pid'; sh -c 'read -r l < $E2E_TMP/src.env; printf \"%s\\n\" \"\$l\" > $WORK/by_claude'"
# A stand-in "gemini": a node script whose base name is the agent's, spawning a tool.
cat >"$E2E_TMP/bin/gemini" <<'JS'
const { execFileSync } = require("child_process");
const fs = require("fs");
// Node starts slowly: the daemon has adopted us long before this runs.
fs.writeFileSync(process.argv[2] + "/gemini.pid", String(process.pid));
execFileSync("sh", ["-c", `read -r l < ${process.argv[3]}; printf '%s\\n' "$l" > ${process.argv[2]}/by_gemini`]);
JS
node "$E2E_TMP/bin/gemini" "$WORK" "$E2E_TMP/src.env"
wait_alerts 2 "a['kind']=='secret_spread'" 10
sleep 1
expect_alerts "a binary named claude starts a session labelled claude (kernel, at exec)" 1 \
	"a['artifact']['path']=='$WORK/by_claude' and a['session']['agent']=='claude' and a['session']['root_pid']==$(cat "$WORK/claude.pid")"
expect_alerts "node running a gemini script is adopted as a gemini session" 1 \
	"a['artifact']['path']=='$WORK/by_gemini' and a['session']['agent']=='gemini' and a['session']['root_pid']==$(cat "$WORK/gemini.pid")"
node -e 'require("fs").writeFileSync(process.argv[1], require("fs").readFileSync(process.argv[2]))' \
	"$WORK/plain_node" "$E2E_TMP/src.env"
sleep 1
expect_alerts "plain node (no agent script) is not a session" 0 "a['artifact'].get('path')=='$WORK/plain_node'"

# sprawlctl run: the label comes from the rules for a known agent, --agent overrides, and a
# command that is no agent is "run" (also when the agent comes after a wrapper exec).
TOOL="read -r l < $E2E_TMP/src.env; printf '%s\\n' \"\$l\""
"$SPRAWLCTL" run -- "$E2E_TMP/bin/claude" -c "$TOOL > $WORK/run_claude"
"$SPRAWLCTL" run --agent mylabel -- "$E2E_TMP/bin/claude" -c "$TOOL > $WORK/run_mylabel"
"$SPRAWLCTL" run -- env SW_E2E_X=1 "$E2E_TMP/bin/claude" -c "$TOOL > $WORK/run_env_claude"
"$SPRAWLCTL" run -- sh -c "$TOOL > $WORK/run_plain"
# An agent that is not the session's root and runs another exe than the root: a fake codex
# (sh under codex's name) started by a plain sh, reading its tool's output through a pipe.
cp "$(readlink -f /bin/sh)" "$E2E_TMP/bin/codex"
"$SPRAWLCTL" run -- sh -c "'$E2E_TMP/bin/codex' -c 'echo \$\$ > $WORK/codex.pid; v=\$(cat $E2E_TMP/src.env); echo \$v >/dev/null'; true"
# The same through a pseudo-terminal: a fake codex (python under codex's name) runs its tool on
# a pty and reads the master side.
mkdir -p "$E2E_TMP/pybin"
cp "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" "$E2E_TMP/pybin/codex"
cat >"$E2E_TMP/pty_agent.py" <<'PY'
import os, pty, sys, time
m, s = pty.openpty()
pid = os.fork()
if pid == 0:
    os.dup2(s, 1)
    os.close(m)
    os.execvp("cat", ["cat", sys.argv[1]])
os.close(s)
open(sys.argv[2], "w").write(str(os.getpid()))
os.waitpid(pid, 0)
while True:
    try:
        if not os.read(m, 4096):
            break
    except OSError:
        break
time.sleep(2)  # the master stays open while the daemon looks for it
PY
"$SPRAWLCTL" run -- sh -c "'$E2E_TMP/pybin/codex' '$E2E_TMP/pty_agent.py' '$E2E_TMP/src.env' '$WORK/ptyagent.pid'; true"
# The session's home is HOME in its root's environment, outside /home here: its transcript
# (nested below ~/.claude/projects/) is the agent's, the same path under another home is not.
mkdir -p "$WORK/h/.claude/projects/-p/deep" "$WORK/other/.claude/projects/-p"
"$SPRAWLCTL" run -- env HOME="$WORK/h" "$E2E_TMP/bin/claude" -c "$TOOL > $WORK/h/.claude/projects/-p/deep/s.jsonl; $TOOL > $WORK/other/.claude/projects/-p/s.jsonl"
wait_alerts 1 "a['artifact'].get('path')=='$WORK/other/.claude/projects/-p/s.jsonl'" 10
sleep 1
expect_alerts "sprawlctl run -- claude: labelled claude by the rules" 1 \
	"a['artifact'].get('path')=='$WORK/run_claude' and a['session']['agent']=='claude'"
expect_alerts "sprawlctl run --agent mylabel -- claude: --agent overrides" 1 \
	"a['artifact'].get('path')=='$WORK/run_mylabel' and a['session']['agent']=='mylabel'"
expect_alerts "sprawlctl run -- env X=1 claude: the agent after a wrapper names the session" 1 \
	"a['artifact'].get('path')=='$WORK/run_env_claude' and a['session']['agent']=='claude'"
expect_alerts "sprawlctl run -- sh: no agent, labelled run" 1 \
	"a['artifact'].get('path')=='$WORK/run_plain' and a['session']['agent']=='run'"
CODEX_PID=$(cat "$WORK/codex.pid")
expect_alerts "a pipe read by an agent process below a non-agent root: critical, named by its reader" 1 \
	"a['artifact']['type']=='pipe' and a['artifact']['reader_pid']==$CODEX_PID and a['artifact']['reader_exe']=='$E2E_TMP/bin/codex' and a['session']['root_pid']!=$CODEX_PID and a['severity']=='critical' and a['process']['comm']=='cat'"
PTY_PID=$(cat "$WORK/ptyagent.pid")
expect_alerts "a pty whose master an agent process reads: critical (its context), a tty artifact" 1 \
	"a['artifact']['type']=='tty' and a['artifact']['path'].startswith('/dev/pts/') and a['process']['comm']=='cat' and a['process']['ppid']==$PTY_PID and a['severity']=='critical' and 'terminal' in a['message']"
expect_alerts "the transcript under the session's own HOME (nested: **) is high, the agent's" 1 \
	"a['artifact'].get('path')=='$WORK/h/.claude/projects/-p/deep/s.jsonl' and a['severity']=='high' and a['message']==\"the claude agent's transcript\""
expect_alerts "the same path under another home is a plain file" 1 \
	"a['artifact'].get('path')=='$WORK/other/.claude/projects/-p/s.jsonl' and a['severity']=='medium' and not a.get('message')"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
