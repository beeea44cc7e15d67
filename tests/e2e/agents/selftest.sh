#!/usr/bin/env bash
# Self-test of the agent harness, no daemon involved: each REAL agent CLI runs a
# scenario against the loopback stand-in, and we check that its tool calls really ran.
#
#   tests/e2e/agents/selftest.sh [claude] [gemini] [codex]     (default: all three)
#
# Per agent, the scenario is:
#   turn 1: shell  cat .env                      (.env holds a value generated now)
#   turn 2: shell  cut -d= -f2 .env > out.txt     +  a backgrounded subprocess
#                  nohup sh -c 'sleep 1; echo done > bg.txt' >/dev/null 2>&1 &
#   turn 3: write_file written.txt (Codex has no such tool: a shell printf)
#   then a final text.
# Checks: agent exit 0; out.txt holds the value; bg.txt appears; written.txt written;
# the stand-in's request log shows the value coming back in a tool_result (Claude) /
# functionResponse (Gemini) / function_call_output (Codex); the agent's transcript under the
# private HOME holds it;
# the scenario ran to its final turn.
# Prints "N passed, N failed". Exit 0 all passed, 1 some failed, 77 CLIs not installable.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
AGENTS=("$@")
(( ${#AGENTS[@]} )) || AGENTS=(claude gemini codex)

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

envout=$("$HERE/install.sh" --print-env); irc=$?
if (( irc == 77 )); then
  echo "selftest: agent CLIs cannot be installed (npm registry unreachable): skipped"
  echo "0 passed, 0 failed, ${#AGENTS[@]} skipped"
  exit 77
elif (( irc != 0 )); then
  bad "install.sh exited $irc"
  echo "$pass passed, $fail failed"; exit 1
fi
eval "$envout"
export SPRAWL_CLAUDE SPRAWL_GEMINI SPRAWL_CODEX
echo "selftest: $("$SPRAWL_CLAUDE" --version 2>/dev/null) / gemini $(cd / && "$SPRAWL_GEMINI" --version 2>/dev/null | tail -n1) / $("$SPRAWL_CODEX" --version 2>/dev/null)"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/sprawl-agents-selftest.XXXXXX")
KEEP="${SPRAWL_SELFTEST_KEEP:-0}"

for agent in "${AGENTS[@]}"; do
  T="$ROOT/$agent"; WD="$T/work"; mkdir -p "$WD"
  # A run-time random value: nothing secret-looking is ever committed.
  VALUE="swtest-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  printf 'SPRAWL_SELFTEST_VALUE=%s\n' "$VALUE" > "$WD/.env"
  WRITE='{"write_file": {"path": "written.txt", "content": "written by the scenario\n"}}'
  [[ "$agent" == codex ]] && WRITE='{"shell": "printf '"'"'written by the scenario\\n'"'"' > written.txt"}'
  cat > "$T/scenario.json" <<EOF
{
  "turns": [
    [{"shell": "cat .env"}],
    [{"shell": "cut -d= -f2 .env > out.txt"},
     {"shell": "setsid nohup sh -c 'sleep 1; echo done > bg.txt' >/dev/null 2>&1 &"}],
    [$WRITE]
  ],
  "final": "Scenario finished."
}
EOF
  echo "--- $agent (run dir $T/run)"
  SPRAWL_DRIVE_DIR="$T/run" SPRAWL_AGENT_TIMEOUT="${SPRAWL_AGENT_TIMEOUT:-120}" \
    "$HERE/drive.sh" "$agent" "$T/scenario.json" "$WD" 2>"$T/drive.stderr"
  rc=$?
  if (( rc == 0 )); then ok "$agent: agent exited 0"
  else bad "$agent: agent exited $rc"; tail -n 30 "$T/run/agent.stderr" 2>/dev/null | sed 's/^/    /'; fi

  if [[ -f "$WD/out.txt" ]] && grep -qx "$VALUE" "$WD/out.txt"; then ok "$agent: out.txt holds the value"
  else bad "$agent: out.txt missing or without the value"; fi

  for _ in $(seq 1 100); do [[ -s "$WD/bg.txt" ]] && break; sleep 0.1; done
  if [[ -f "$WD/bg.txt" ]] && grep -qx "done" "$WD/bg.txt"; then ok "$agent: backgrounded subprocess wrote bg.txt"
  else bad "$agent: bg.txt not written by the background subprocess"; fi

  if [[ -f "$WD/written.txt" ]] && grep -qx 'written by the scenario' "$WD/written.txt"; then ok "$agent: write_file tool wrote written.txt"
  else bad "$agent: written.txt missing or wrong"; fi

  # The value came back to the "model" inside the tool result of the right call.
  if python3 - "$agent" "$VALUE" "$T/run/standin/requests.jsonl" <<'EOF'
import json, sys
agent, value, path = sys.argv[1:4]
found = False
for line in open(path, encoding="utf-8"):
    r = json.loads(line)
    b = r.get("body")
    if not isinstance(b, dict):
        continue
    if agent == "claude":
        for m in b.get("messages", []):
            if isinstance(m.get("content"), list):
                for blk in m["content"]:
                    if blk.get("type") == "tool_result" and blk.get("tool_use_id") == "toolu_sw_1_1" \
                            and value in json.dumps(blk.get("content")):
                        found = True
    elif agent == "codex":
        for it in b.get("input", []):
            if it.get("type") == "function_call_output" and it.get("call_id") == "call_sw_1_1" \
                    and value in json.dumps(it.get("output")):
                found = True
    else:
        for c in b.get("contents", []):
            for p in c.get("parts", []) or []:
                fr = p.get("functionResponse")
                if fr and fr.get("name") == "run_shell_command" and value in json.dumps(fr.get("response")):
                    found = True
sys.exit(0 if found else 1)
EOF
  then ok "$agent: request log shows the value in the tool result sent back"
  else bad "$agent: value not found in a tool result in $T/run/standin/requests.jsonl"; fi

  if grep -q '"kind": "[a-z]*\.main\.final"' "$T/run/standin/requests.jsonl" 2>/dev/null; then ok "$agent: scenario ran to its final turn"
  else bad "$agent: stand-in never reached the final turn"; fi

  H="$T/run/home"
  case "$agent" in
    claude) transcripts=$(find "$H/.claude/projects" -name '*.jsonl' 2>/dev/null) ;;
    gemini) transcripts=$(find "$H/.gemini/tmp" -path '*/chats/*' -type f 2>/dev/null) ;;
    codex) transcripts=$(find "$H/.codex/sessions" -name 'rollout-*.jsonl' 2>/dev/null) ;;
  esac
  if [[ -n "$transcripts" ]] && grep -lq -- "$VALUE" $transcripts; then
    ok "$agent: transcript holds the value ($(grep -l -- "$VALUE" $transcripts | head -n1))"
  else bad "$agent: no transcript under $H holding the value (found: ${transcripts:-none})"; fi
done

if (( fail == 0 )) && [[ "$KEEP" != 1 ]]; then rm -rf "$ROOT"; else echo "selftest: artefacts kept in $ROOT"; fi
echo "$pass passed, $fail failed"
(( fail == 0 ))
