#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a person reads: `sprawlctl alerts` on a terminal (a pty) prints one coloured line per
# alert (time, severity, kind, secret, where, process, session, agent), NO_COLOR turns colour
# off, a pipe gets the JSON lines, --follow streams the same text; a file name with UTF-8 and an
# escape sequence stays UTF-8 in the alert JSON and the trace dump and never reaches the
# terminal as a control sequence.
. "$(dirname "$0")/lib.sh"

TRACE=$E2E_TMP/trace
e2e_start --trace-dir "$TRACE"
SECRET=$(new_secret TEXT_KEY)
printf '%s\n' "$SECRET" >"$E2E_TMP/src"
NAME=$'заметки-🔑-\e[2J.txt'

# a live follower, as text, in a pty
script -qfc "'$SPRAWLCTL' alerts --follow" /dev/null >"$E2E_TMP/follow.tty" 2>&1 &
FOLLOW=$!
E2E_KILL="$FOLLOW"
sleep 1
"$SPRAWLCTL" run --agent demo -- sh -c "read -r l < '$E2E_TMP/src'; printf '%s\n' \"\$l\" > '$WORK/$NAME'; echo \$\$ > '$WORK/pid'"
wait_alerts 1 "a['kind']=='secret_spread'" 10
sleep 1
PID=$(cat "$WORK/pid")

expect_alerts "the alert JSON keeps the UTF-8 name, with the ESC escaped" 1 \
	"a['artifact']['path']=='$WORK/' + 'заметки-🔑-\x1b[2J.txt'"
check "...escaped as \\u001b in the file, UTF-8 bytes as they are" \
	grep -qF 'заметки-🔑-\u001b[2J.txt' "$ALERTS"

# Only this test's alert: on a shared host other agents' sessions may alert in this daemon too.
python3 -c "
import json, sys
for l in open(sys.argv[1]):
    if json.loads(l).get('secret', {}).get('name') == 'TEXT_KEY':
        sys.stdout.write(l)" "$ALERTS" >"$E2E_TMP/mine.jsonl"
script -qc "'$SPRAWLCTL' alerts --file '$E2E_TMP/mine.jsonl'" /dev/null >"$E2E_TMP/tty.out"
LINE=$(tr -d '\r' <"$E2E_TMP/tty.out" | sed 's/\x1b\[[0-9;]*m//g' | grep secret_spread)
echo "  (text: $LINE)"
check "on a terminal: one text line per alert" test "$(tr -d '\r' <"$E2E_TMP/tty.out" | grep -c .)" -eq 1
check "...time, severity, kind, secret, where, process, session and agent" bash -c \
	"[[ \"\$1\" =~ ^20[0-9-]{8}\ [0-9:]{8}Z\ medium\ +secret_spread\ TEXT_KEY\ \ file\ $WORK/заметки-🔑-\?\[2J\.txt\ \ by\ sh\[$PID\]\ \ session\ [0-9]+\ agent\ demo$ ]]" _ "$LINE"
check "...coloured (severity in yellow)" grep -q $'\e\\[33mmedium' "$E2E_TMP/tty.out"
check "...and the name's own ESC never reaches the terminal" bash -c \
	"! sed 's/\x1b\[[0-9;]*m//g' '$E2E_TMP/tty.out' | grep -q $'\e'"
NO_COLOR=1 script -qc "'$SPRAWLCTL' alerts --file '$E2E_TMP/mine.jsonl'" /dev/null >"$E2E_TMP/nocolor.out"
check "NO_COLOR: the same line without any escape" bash -c \
	"! grep -q $'\e' '$E2E_TMP/nocolor.out' && [ \"\$(tr -d '\r' <'$E2E_TMP/nocolor.out')\" = \"\$1\" ]" _ "$LINE"
"$SPRAWLCTL" alerts --file "$ALERTS" >"$E2E_TMP/pipe.out"
check "to a pipe: the JSON lines, unchanged" cmp -s "$E2E_TMP/pipe.out" "$ALERTS"
"$SPRAWLCTL" alerts --file "$E2E_TMP/mine.jsonl" --format text >"$E2E_TMP/text.out"
check "--format text to a pipe: the text line, no colour" bash -c \
	"[ \"\$(cat '$E2E_TMP/text.out')\" = \"\$1\" ]" _ "$LINE"
check "--follow on a terminal streamed the same line" bash -c \
	"tr -d '\r' <'$E2E_TMP/follow.tty' | sed 's/\x1b\[[0-9;]*m//g' | grep -qxF -- \"\$1\"" _ "$LINE"
kill "$FOLLOW" 2>/dev/null

# --help after a command: that command's usage, on stdout, status 0 (not "unrecognized option"
# or --help taken for a file name); after "--" the word is the program's own.
check "CMD --help: CMD's usage on stdout, nothing on stderr, status 0" bash -c '
for c in replay "secrets import-env" "trace stat" alerts run scan; do
	out=$("$1" $c --help 2>"$2") || exit 1
	[ ! -s "$2" ] && grep -q "^  ${c%% *} " <<<"$out" || exit 1
done' _ "$SPRAWLCTL" "$E2E_TMP/help.err"
check "run -- CMD --help: the flag goes to CMD" bash -c \
	"[ \"\$('$SPRAWLCTL' run -- sh -c 'echo \"\$1\"' sh --help)\" = --help ]"

check "SIGTERM stops the daemon with status 0" e2e_stop
"$SPRAWLCTL" trace dump "$TRACE" >"$E2E_TMP/dump.jsonl"
check "trace dump keeps the UTF-8 path (not \\u00XX bytes)" bash -c \
	"grep -qF 'заметки-🔑-\u001b[2J.txt' '$E2E_TMP/dump.jsonl' && ! grep -q '\\\\u00d0' '$E2E_TMP/dump.jsonl'"
check "trace dump is valid JSON, line by line" python3 -c "
import json, sys
[json.loads(l) for l in open(sys.argv[1])]" "$E2E_TMP/dump.jsonl"
expect_no_plaintext "$SECRET"
e2e_finish
