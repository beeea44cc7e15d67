#!/usr/bin/env bash
# Drive a REAL agent CLI against the loopback model stand-in.
#
#   drive.sh AGENT SCENARIO WORKDIR [-- PREFIX...]
#
#   AGENT     claude | gemini | codex
#   SCENARIO  scenario JSON for llm_standin.py
#   WORKDIR   directory the agent works in (its cwd)
#   PREFIX    optional wrapper, e.g.  -- sprawlctl run --agent claude --
#
# Starts llm_standin.py on 127.0.0.1 (free port, private log dir), runs the agent
# with a private HOME and a timeout, stops the stand-in, prints where the logs are.
# Exit status = the agent's (124 on timeout; 77 when the CLIs cannot be installed).
#
# Env knobs:
#   SPRAWL_DRIVE_DIR      run dir to use (default: fresh mktemp dir under $TMPDIR or /tmp);
#                         holds home/, standin/ (requests.jsonl, server.log, port),
#                         agent.stdout, agent.stderr, and env (sourceable summary)
#   SPRAWL_AGENT_HOME     HOME for the agent (default: $RUN_DIR/home, created fresh)
#   SPRAWL_AGENT_TIMEOUT  seconds (default 120)
#   SPRAWL_AGENT_PROMPT   prompt (default: "Carry out the scenario steps.")
#   SPRAWL_AGENT_NETNS    1 = run stand-in + agent in a private network namespace that
#                         has only loopback (default: 1 when `unshare -n` works, else 0).
#                         Set 0 when the PREFIX needs the host network namespace
#                         (e.g. it talks to a daemon over an abstract unix socket).
#   SPRAWL_AGENT_ENV      "clean" (default): the agent starts from a minimal environment
#                         (PATH, LANG, USER, LOGNAME, SHELL, SPRAWL_{STATE,RUN,PIN}_DIR and
#                         the variables below); "inherit": the caller's, minus known
#                         credentials and endpoints
#   SPRAWL_AGENT_STDIO    "null": the agent's stdout and stderr go to /dev/null instead of
#                         RUN_DIR/agent.stdout and agent.stderr (codex exec echoes every
#                         command's output on stderr: a file there is a place of its own)
#   SPRAWL_AGENT_GRACE    seconds to let leftover tool subprocesses (e.g. backgrounded
#                         commands) finish after the agent exits before they are ended
#                         (default 5). They are found by SPRAWL_DRIVE_RUN=<id> in their
#                         environment, which drive.sh sets for the agent.
#   SPRAWL_STANDIN_TLS    1 = the stand-in serves https (a self-signed certificate made for
#                         the run, trusted through NODE_EXTRA_CA_CERTS, SSL_CERT_FILE and
#                         CODEX_CA_CERTIFICATE)
#   SPRAWL_CLAUDE, SPRAWL_GEMINI, SPRAWL_CODEX   executables (default: from install.sh)
#   SPRAWL_AGENT_CACHE    passed on to install.sh
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() { echo "usage: $0 claude|gemini|codex SCENARIO WORKDIR [-- PREFIX...]" >&2; exit 2; }

# ---- inner stage: runs (possibly inside the netns) with everything resolved ----
if [[ "${_SPRAWL_DRIVE_INNER:-}" == 1 ]]; then
  unset _SPRAWL_DRIVE_INNER
  if [[ "${_SPRAWL_IN_NETNS:-0}" == 1 ]]; then
    ip link set lo up || { echo "drive.sh: cannot bring lo up in netns" >&2; exit 1; }
  fi
  unset _SPRAWL_IN_NETNS
  AGENT="$1" SCENARIO="$2" WORKDIR="$3"; shift 3
  PREFIX=("$@")
  SD="$RUN_DIR/standin"
  mkdir -p "$SD" "$RUN_DIR/tmp"
  rm -f "$SD/port"
  TLSARGS=()
  if [[ "${SPRAWL_STANDIN_TLS:-0}" == 1 ]]; then
    # https: a self-signed certificate for localhost and 127.0.0.1, made for this run; the
    # agents trust it through NODE_EXTRA_CA_CERTS (node, Bun) and SSL_CERT_FILE.
    # A CA and a server certificate it signs: rustls (Codex) takes no CA certificate as a
    # server's own.
    { openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sprawl-standin-ca \
        -keyout "$SD/ca.key" -out "$SD/ca.crt" &&
      openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$SD/tls.key" \
        -out "$SD/tls.csr" &&
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' \
        >"$SD/tls.ext" &&
      openssl x509 -req -in "$SD/tls.csr" -CA "$SD/ca.crt" -CAkey "$SD/ca.key" \
        -CAcreateserial -days 1 -extfile "$SD/tls.ext" -out "$SD/tls.crt"; } 2>/dev/null ||
      { echo "drive.sh: openssl failed" >&2; exit 1; }
    TLSARGS=(--tls-cert "$SD/tls.crt" --tls-key "$SD/tls.key")
  fi
  python3 "$HERE/llm_standin.py" --scenario "$SCENARIO" --log-dir "$SD" --port 0 \
      --port-file "$SD/port" --workdir "$WORKDIR" --max-seconds $(( TIMEOUT + 60 )) \
      "${TLSARGS[@]}" 2>>"$SD/stderr" &
  SPID=$!
  cleanup() {
    if kill -0 "$SPID" 2>/dev/null; then
      kill -TERM "$SPID" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$SPID" 2>/dev/null
    fi
    wait "$SPID" 2>/dev/null
  }
  trap cleanup EXIT
  for _ in $(seq 1 100); do [[ -s "$SD/port" ]] && break; kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  [[ -s "$SD/port" ]] || { echo "drive.sh: stand-in did not start; see $SD/stderr" >&2; cat "$SD/stderr" >&2; exit 1; }
  PORT=$(cat "$SD/port")
  BASE="http://127.0.0.1:$PORT"
  TLSENV=()
  if (( ${#TLSARGS[@]} )); then
    BASE="https://localhost:$PORT"
    TLSENV=(NODE_EXTRA_CA_CERTS="$SD/ca.crt" SSL_CERT_FILE="$SD/ca.crt"
            CODEX_CA_CERTIFICATE="$SD/ca.crt")
  fi
  echo "PORT=$PORT" >> "$RUN_DIR/env"

  # Keep the agents away from any real credentials / endpoints in our environment.
  CLEAN=(-u ANTHROPIC_AUTH_TOKEN -u CLAUDE_CODE_OAUTH_TOKEN -u ANTHROPIC_MODEL -u CLAUDECODE
         -u CLAUDE_CODE_ENTRYPOINT -u CLAUDE_CODE_USE_BEDROCK -u CLAUDE_CODE_USE_VERTEX
         -u ANTHROPIC_BEDROCK_BASE_URL -u ANTHROPIC_VERTEX_BASE_URL
         -u GOOGLE_API_KEY -u GOOGLE_CLOUD_PROJECT -u GOOGLE_CLOUD_LOCATION -u GOOGLE_GENAI_USE_VERTEXAI
         -u GOOGLE_GENAI_USE_GCA -u GOOGLE_APPLICATION_CREDENTIALS -u GOOGLE_VERTEX_BASE_URL
         -u OPENAI_API_KEY -u OPENAI_BASE_URL -u CODEX_HOME -u CODEX_API_KEY
         -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u ALL_PROXY -u all_proxy)
  COMMON=(HOME="$AGENT_HOME" USERPROFILE="$AGENT_HOME" XDG_CONFIG_HOME="$AGENT_HOME/.config"
          XDG_CACHE_HOME="$AGENT_HOME/.cache" XDG_DATA_HOME="$AGENT_HOME/.local/share"
          XDG_STATE_HOME="$AGENT_HOME/.local/state" TMPDIR="$RUN_DIR/tmp" NO_PROXY="127.0.0.1,localhost"
          no_proxy="127.0.0.1,localhost" CI=1 TERM=dumb NO_COLOR=1 SPRAWL_DRIVE_RUN="$RUN_ID")
  # By default the agent starts from a minimal environment: whatever the caller's holds (a
  # token in CI, say) would otherwise reach the agent and its tools.
  if [[ "${SPRAWL_AGENT_ENV:-clean}" == clean ]]; then
    BASEENV=(-i PATH="$PATH" LANG="${LANG:-C.UTF-8}" USER="$(id -un)" LOGNAME="$(id -un)"
             SHELL=/bin/bash)
    for v in SPRAWL_STATE_DIR SPRAWL_RUN_DIR SPRAWL_PIN_DIR; do
      [[ -n "${!v:-}" ]] && BASEENV+=("$v=${!v}")
    done
  else
    BASEENV=("${CLEAN[@]}")
  fi
  case "$AGENT" in
    claude)
      AENV=(ANTHROPIC_BASE_URL="$BASE" ANTHROPIC_API_KEY="sk-ant-standin-not-a-key"
            DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1
            DISABLE_ERROR_REPORTING=1 DISABLE_COST_WARNINGS=1 IS_SANDBOX=1)
      ACMD=("$SPRAWL_CLAUDE" -p "$PROMPT" --dangerously-skip-permissions)
      ;;
    gemini)
      AENV=(GOOGLE_GEMINI_BASE_URL="$BASE" GEMINI_API_KEY="standin-not-a-key"
            GEMINI_CLI_TRUST_WORKSPACE=true)
      ACMD=("$SPRAWL_GEMINI" -p "$PROMPT" --yolo)
      ;;
    codex)
      # A custom model provider speaking the Responses API to the stand-in; the key comes
      # from the provider's env_key. exec mode never asks for approval; Codex's own
      # sandbox (bubblewrap/landlock) is bypassed: the run is already in a private netns.
      AENV=(SW_STANDIN_OPENAI_KEY="sk-standin-not-a-key")
      ACMD=("$SPRAWL_CODEX" exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox
            --color never -m gpt-standin
            -c model_provider=sw_standin -c model_providers.sw_standin.name=standin
            -c "model_providers.sw_standin.base_url=$BASE/v1"
            -c model_providers.sw_standin.wire_api=responses
            -c model_providers.sw_standin.env_key=SW_STANDIN_OPENAI_KEY
            -c check_for_update_on_startup=false -c analytics.enabled=false
            "$PROMPT")
      ;;
  esac
  echo "drive.sh: $AGENT -> $BASE in $WORKDIR (timeout ${TIMEOUT}s${PREFIX:+, prefix: ${PREFIX[*]}})" >&2
  OUT=$RUN_DIR/agent.stdout ERR=$RUN_DIR/agent.stderr
  [[ "${SPRAWL_AGENT_STDIO:-}" == null ]] && OUT=/dev/null ERR=/dev/null
  (
    cd "$WORKDIR" || exit 1
    exec env "${BASEENV[@]}" "${COMMON[@]}" "${TLSENV[@]}" "${AENV[@]}" \
      timeout -k 5 "$TIMEOUT" "${PREFIX[@]}" "${ACMD[@]}" </dev/null
  ) >"$OUT" 2>"$ERR"
  rc=$?
  # Tool subprocesses the agent left behind (backgrounded commands; Gemini runs each
  # shell command in its own process group, so `timeout` does not reach them) carry
  # SPRAWL_DRIVE_RUN=$RUN_ID in their environment. Let them finish for up to
  # SPRAWL_AGENT_GRACE seconds, then end them (only those: matched by that marker).
  leftovers() {
    local p
    for p in /proc/[0-9]*; do
      [[ "${p#/proc/}" == "$$" ]] && continue
      grep -qxzF "SPRAWL_DRIVE_RUN=$RUN_ID" "$p/environ" 2>/dev/null && echo "${p#/proc/}"
    done
  }
  grace=$GRACE; (( rc == 124 || rc == 137 )) && grace=0   # timed out: no grace
  for _ in $(seq 1 $(( grace * 10 ))); do [[ -z "$(leftovers)" ]] && break; sleep 0.1; done
  left=$(leftovers)
  if [[ -n "$left" ]]; then
    echo "drive.sh: ending leftover agent subprocesses: $(echo $left)" >&2
    kill -TERM $left 2>/dev/null
    for _ in $(seq 1 20); do [[ -z "$(leftovers)" ]] && break; sleep 0.1; done
    left=$(leftovers); [[ -n "$left" ]] && kill -KILL $left 2>/dev/null
  fi
  exit $rc
fi

# ---- outer stage: argument parsing, install, run dir, optional netns ----
(( $# >= 3 )) || usage
AGENT="$1" SCENARIO="$2" WORKDIR="$3"; shift 3
case "$AGENT" in claude|gemini|codex) ;; *) usage ;; esac
PREFIX=()
if (( $# )); then
  [[ "$1" == "--" ]] || usage
  shift; PREFIX=("$@")
fi
[[ -f "$SCENARIO" ]] || { echo "drive.sh: no scenario file $SCENARIO" >&2; exit 2; }
[[ -d "$WORKDIR" ]] || { echo "drive.sh: no workdir $WORKDIR" >&2; exit 2; }
SCENARIO="$(cd "$(dirname "$SCENARIO")" && pwd)/$(basename "$SCENARIO")"
WORKDIR="$(cd "$WORKDIR" && pwd)"

if [[ -z "${SPRAWL_CLAUDE:-}" || -z "${SPRAWL_GEMINI:-}" || -z "${SPRAWL_CODEX:-}" ]]; then
  envout=$("$HERE/install.sh" --print-env) ; irc=$?
  (( irc == 0 )) || exit "$irc"
  eval "$envout"
fi
export SPRAWL_CLAUDE SPRAWL_GEMINI SPRAWL_CODEX

RUN_DIR="${SPRAWL_DRIVE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sprawl-drive.XXXXXX")}"
mkdir -p "$RUN_DIR"; RUN_DIR="$(cd "$RUN_DIR" && pwd)"
AGENT_HOME="${SPRAWL_AGENT_HOME:-$RUN_DIR/home}"
mkdir -p "$AGENT_HOME"; AGENT_HOME="$(cd "$AGENT_HOME" && pwd)"
TIMEOUT="${SPRAWL_AGENT_TIMEOUT:-120}"
PROMPT="${SPRAWL_AGENT_PROMPT:-Carry out the scenario steps.}"

if [[ "$AGENT" == gemini && ! -f "$AGENT_HOME/.gemini/settings.json" ]]; then
  mkdir -p "$AGENT_HOME/.gemini"
  cat > "$AGENT_HOME/.gemini/settings.json" <<'JSON'
{
  "security": {
    "auth": { "selectedType": "gemini-api-key" },
    "folderTrust": { "enabled": false }
  },
  "general": {
    "enableAutoUpdate": false,
    "enableAutoUpdateNotification": false
  },
  "privacy": { "usageStatisticsEnabled": false },
  "telemetry": { "enabled": false }
}
JSON
fi

cat > "$RUN_DIR/env" <<EOF
RUN_DIR=$(printf %q "$RUN_DIR")
AGENT=$AGENT
AGENT_HOME=$(printf %q "$AGENT_HOME")
STANDIN_LOG_DIR=$(printf %q "$RUN_DIR/standin")
REQUEST_LOG=$(printf %q "$RUN_DIR/standin/requests.jsonl")
WORKDIR=$(printf %q "$WORKDIR")
EOF

NETNS="${SPRAWL_AGENT_NETNS:-auto}"
if [[ "$NETNS" == auto ]]; then
  if timeout 10 unshare -n true 2>/dev/null && command -v ip >/dev/null; then NETNS=1; else NETNS=0; fi
fi

GRACE="${SPRAWL_AGENT_GRACE:-5}"
RUN_ID="$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export RUN_DIR AGENT_HOME TIMEOUT PROMPT GRACE RUN_ID _SPRAWL_DRIVE_INNER=1
if [[ "$NETNS" == 1 ]]; then
  _SPRAWL_IN_NETNS=1 unshare -n -- bash "$HERE/drive.sh" "$AGENT" "$SCENARIO" "$WORKDIR" "${PREFIX[@]}"
else
  _SPRAWL_IN_NETNS=0 bash "$HERE/drive.sh" "$AGENT" "$SCENARIO" "$WORKDIR" "${PREFIX[@]}"
fi
rc=$?
{
  echo "drive.sh: $AGENT exited $rc (netns=$NETNS)"
  echo "  run dir:      $RUN_DIR"
  echo "  HOME:         $AGENT_HOME"
  echo "  request log:  $RUN_DIR/standin/requests.jsonl"
  echo "  server log:   $RUN_DIR/standin/server.log"
  echo "  agent output: $RUN_DIR/agent.stdout  $RUN_DIR/agent.stderr"
} >&2
exit $rc
