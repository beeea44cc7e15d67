#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sessions start without `sprawlctl run` when an exec matches an agent rule: a binary named
# like an agent (the kernel decides at exec, from its comm), and an interpreter running an
# agent's script (node .../gemini: the daemon adopts it from its argv). Agents cannot opt out.
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
barrier
expect_alerts "a binary named claude starts a session labelled claude (kernel, at exec)" 1 \
	"a['artifact']['path']=='$WORK/by_claude' and a['session']['agent']=='claude' and a['session']['root_pid']==$(cat "$WORK/claude.pid")"
expect_alerts "node running a gemini script is adopted as a gemini session" 1 \
	"a['artifact']['path']=='$WORK/by_gemini' and a['session']['agent']=='gemini' and a['session']['root_pid']==$(cat "$WORK/gemini.pid")"
node -e 'require("fs").writeFileSync(process.argv[1], require("fs").readFileSync(process.argv[2]))' \
	"$WORK/plain_node" "$E2E_TMP/src.env"
barrier "plain node's write processed"
expect_alerts "plain node (no agent script) is not a session" 0 "a['artifact'].get('path')=='$WORK/plain_node'"
expect_alerts "two alerts of RULE_KEY in all" 2 "a['secret']['name']=='RULE_KEY'"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
