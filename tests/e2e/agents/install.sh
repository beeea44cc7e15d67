#!/usr/bin/env bash
# Install the real agent CLIs (Claude Code, Gemini CLI, Codex CLI) from the npm registry
# into a cache OUTSIDE the repository, and print the paths of their executables.
#
#   tests/e2e/agents/install.sh            # prints  claude=/path  gemini=/path  codex=/path
#   SPRAWL_AGENT_CACHE=/some/dir install.sh
#   install.sh --print-env                 # prints  SPRAWL_CLAUDE=... SPRAWL_GEMINI=...
#                                          # SPRAWL_CODEX=... (sourceable)
#
# Env:
#   SPRAWL_AGENT_CACHE   cache root (default /var/cache/sprawlwatch-test/npm)
#   SPRAWL_CLAUDE_VERSION  npm version of @anthropic-ai/claude-code (default: pinned below)
#   SPRAWL_GEMINI_VERSION  npm version of @google/gemini-cli       (default: pinned below)
#   SPRAWL_CODEX_VERSION   npm version of @openai/codex            (default: pinned below)
#
# Exit: 0 ok; 77 when the npm registry cannot be reached (tests treat 77 as "skipped");
#       1 on any other failure.
#
# Notes (see README.md):
# * Claude Code's npm package is a thin wrapper: the real program is a ~400 MB native
#   (Bun) ELF shipped in the optional dependency @anthropic-ai/claude-code-<platform>.
#   Its postinstall (install.cjs) hard-links that binary over bin/claude.exe; it does no
#   network I/O. We install with --ignore-scripts (so no other package's install script
#   can reach for the internet) and do that step ourselves: run install.cjs, and if the
#   result is still not an ELF, point straight at the platform package's binary.
#   The package declares engines.node >=22 but needs no Node at run time (native binary).
# * Gemini CLI 0.61.x declares engines.node >=20 and runs on the machine's Node 20.
#   Its optional native deps (node-pty, keytar) have install scripts that would try to
#   download prebuilt binaries / headers; --ignore-scripts skips them (gemini falls back
#   to child_process for shell commands and to a file for credentials).
# * Codex CLI 0.171.x: bin/codex.js is a node launcher for a static (musl) Rust binary in
#   the optional dependency @openai/codex-linux-x64 (an npm alias of
#   @openai/codex@<version>-linux-x64), vendor/<triple>/bin/codex. It has no install
#   scripts. On Node 20 (no process.execve) the launcher spawns the binary as its child.
set -euo pipefail

CLAUDE_VERSION="${SPRAWL_CLAUDE_VERSION:-2.1.332}"
GEMINI_VERSION="${SPRAWL_GEMINI_VERSION:-0.61.0}"
CODEX_VERSION="${SPRAWL_CODEX_VERSION:-0.171.0}"
CACHE="${SPRAWL_AGENT_CACHE:-/var/cache/sprawlwatch-test/npm}"
NPM_TIMEOUT="${SPRAWL_NPM_TIMEOUT:-600}"

print_env=0
[[ "${1:-}" == "--print-env" ]] && print_env=1

log() { echo "install.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v npm >/dev/null || die "npm not found (need Node >= 20 with npm)"
command -v node >/dev/null || die "node not found"
node_major=$(node -p 'process.versions.node.split(".")[0]')
(( node_major >= 20 )) || die "Node >= 20 required for gemini-cli, found $(node --version)"

is_elf() { [[ -f "$1" ]] && [[ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" == '177ELF' ]]; }

claude_platform_pkg() {
  local arch libc=""
  case "$(uname -m)" in
    x86_64|amd64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) die "unsupported architecture $(uname -m) for claude-code" ;;
  esac
  if ! ldd --version 2>&1 | grep -qi 'glibc\|gnu libc'; then
    if ldd --version 2>&1 | grep -qi musl; then libc="-musl"; fi
  fi
  echo "@anthropic-ai/claude-code-linux-${arch}${libc}"
}

CLAUDE_DIR="$CACHE/claude-code-$CLAUDE_VERSION"
GEMINI_DIR="$CACHE/gemini-cli-$GEMINI_VERSION"
CODEX_DIR="$CACHE/codex-$CODEX_VERSION"

# Resolve the claude executable inside an install dir; prints path or nothing.
resolve_claude() {
  local d="$1/node_modules" p
  p="$d/@anthropic-ai/claude-code/bin/claude.exe"
  if is_elf "$p"; then echo "$p"; return 0; fi
  p="$d/$(claude_platform_pkg)/claude"
  if is_elf "$p"; then echo "$p"; return 0; fi
  return 1
}
resolve_gemini() {
  local p="$1/node_modules/.bin/gemini"
  [[ -e "$p" && -f "$1/node_modules/@google/gemini-cli/package.json" ]] && { echo "$p"; return 0; }
  return 1
}

codex_triple() {
  case "$(uname -m)" in
    x86_64|amd64) echo x86_64-unknown-linux-musl ;;
    aarch64|arm64) echo aarch64-unknown-linux-musl ;;
    *) die "unsupported architecture $(uname -m) for codex" ;;
  esac
}
# The launcher (what users run), provided its native binary is there.
resolve_codex() {
  local p="$1/node_modules/.bin/codex" m
  m=$(ls -d "$1"/node_modules/@openai/codex-linux-*/vendor/"$(codex_triple)"/bin/codex 2>/dev/null | head -n1)
  [[ -e "$p" && -n "$m" ]] && is_elf "$m" && { echo "$p"; return 0; }
  return 1
}

registry_reachable() {
  timeout 30 npm view "@google/gemini-cli@$GEMINI_VERSION" version >/dev/null 2>&1
}

checked_registry=0
ensure_registry() {
  (( checked_registry )) && return 0
  if ! registry_reachable; then
    log "the npm registry ($(npm config get registry 2>/dev/null)) cannot be reached; cannot install the agent CLIs -> skipping (exit 77)"
    exit 77
  fi
  checked_registry=1
}

npm_install_into() { # dir spec...
  local dir="$1"; shift
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  echo '{"name":"sprawlwatch-agent-cache","private":true}' > "$tmp/package.json"
  log "npm install $* into $dir"
  if ! (cd "$tmp" && timeout "$NPM_TIMEOUT" npm install --no-audit --no-fund --no-update-notifier \
          --ignore-scripts --engine-strict=false --loglevel=error "$@" >&2); then
    rm -rf "$tmp"
    registry_reachable || { log "npm registry became unreachable -> exit 77"; exit 77; }
    die "npm install $* failed"
  fi
  rm -rf "$dir"; mv "$tmp" "$dir"
}

mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"

# --- Claude Code ---------------------------------------------------------
if ! CLAUDE_BIN=$(resolve_claude "$CLAUDE_DIR"); then
  ensure_registry
  npm_install_into "$CLAUDE_DIR" "@anthropic-ai/claude-code@$CLAUDE_VERSION"
  pkgdir="$CLAUDE_DIR/node_modules/@anthropic-ai/claude-code"
  # The postinstall step we skipped: link the platform binary over bin/claude.exe (local only).
  if [[ -f "$pkgdir/install.cjs" ]]; then
    (cd "$pkgdir" && timeout 60 node install.cjs >&2) || log "warning: claude install.cjs failed; using platform binary directly"
  fi
  if ! resolve_claude "$CLAUDE_DIR" >/dev/null; then
    # The optional platform package was not installed (npm may skip optional deps): ask for it.
    npm_install_into "$CLAUDE_DIR.plat" "$(claude_platform_pkg)@$CLAUDE_VERSION"
    mkdir -p "$CLAUDE_DIR/node_modules/@anthropic-ai"
    cp -a "$CLAUDE_DIR.plat/node_modules/$(claude_platform_pkg)" "$CLAUDE_DIR/node_modules/@anthropic-ai/"
    rm -rf "$CLAUDE_DIR.plat"
  fi
  CLAUDE_BIN=$(resolve_claude "$CLAUDE_DIR") || die "no native claude binary after install (platform $(claude_platform_pkg))"
else
  log "claude-code $CLAUDE_VERSION already installed"
fi

# --- Gemini CLI ----------------------------------------------------------
if ! GEMINI_BIN=$(resolve_gemini "$GEMINI_DIR"); then
  ensure_registry
  npm_install_into "$GEMINI_DIR" "@google/gemini-cli@$GEMINI_VERSION"
  GEMINI_BIN=$(resolve_gemini "$GEMINI_DIR") || die "gemini not found after install"
else
  log "gemini-cli $GEMINI_VERSION already installed"
fi

# --- Codex CLI -----------------------------------------------------------
if ! CODEX_BIN=$(resolve_codex "$CODEX_DIR"); then
  ensure_registry
  npm_install_into "$CODEX_DIR" "@openai/codex@$CODEX_VERSION"
  CODEX_BIN=$(resolve_codex "$CODEX_DIR") || die "no native codex binary after install ($(codex_triple))"
else
  log "codex $CODEX_VERSION already installed"
fi

# Sanity: all must report their version without touching the network.
vhome=$(mktemp -d "${TMPDIR:-/tmp}/sprawl-agent-version.XXXXXX")
trap 'rm -rf "$vhome"' EXIT
cv=$(cd "$vhome" && HOME="$vhome" TMPDIR="$vhome" DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
     timeout 60 "$CLAUDE_BIN" --version 2>/dev/null) || die "$CLAUDE_BIN --version failed"
gv=$(cd "$vhome" && HOME="$vhome" TMPDIR="$vhome" timeout 60 "$GEMINI_BIN" --version 2>/dev/null | tail -n1) \
     || die "$GEMINI_BIN --version failed"
log "claude --version: $cv"
xv=$(cd "$vhome" && HOME="$vhome" TMPDIR="$vhome" timeout 60 "$CODEX_BIN" --version 2>/dev/null) \
     || die "$CODEX_BIN --version failed"
log "gemini --version: $gv"
log "codex --version: $xv"

if (( print_env )); then
  printf 'SPRAWL_CLAUDE=%q\nSPRAWL_GEMINI=%q\nSPRAWL_CODEX=%q\n' "$CLAUDE_BIN" "$GEMINI_BIN" "$CODEX_BIN"
else
  echo "claude=$CLAUDE_BIN"
  echo "gemini=$GEMINI_BIN"
  echo "codex=$CODEX_BIN"
fi
