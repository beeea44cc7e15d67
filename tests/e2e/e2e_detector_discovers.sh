#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Detectors: a GitHub-style token nobody registered, written by a session, is recognised by
# its pattern, fingerprinted at once (a learned secret) and tracked from then on: the first
# place is secret_discovered, later places are secret_spread, and it survives a restart.
. "$(dirname "$0")/lib.sh"

e2e_start
# Built at run time: a prefix and 36 random base62 characters.
TOK=$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("gh" + "p_" + "".join(secrets.choice(a) for _ in range(36)))')
printf 'token: %s\n' "$TOK" >"$E2E_TMP/src.txt"
leak() { "$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/src.txt'; printf '%s\n' \"\$l\" > '$1'"; }
track_plaintext "$TOK"
leak "$WORK/first.txt"
wait_alerts 1 "a['kind']=='secret_discovered'" 10
barrier
expect_alerts "the first place is secret_discovered, naming the detector" 1 \
	"a['kind']=='secret_discovered' and a['artifact']['path']=='$WORK/first.txt' and a['secret']['name'].startswith('github-token-') and 'github-token' in a['message']"
leak "$WORK/second.txt"
wait_alerts 1 "a['kind']=='secret_spread'" 10
barrier
expect_alerts "a later place is secret_spread of the learned secret" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/second.txt' and a['secret']['name'].startswith('github-token-')"
check "the learned secret is in the set on disk (secrets list, marked learned)" \
	bash -c "'$SPRAWLCTL' secrets list | grep github-token- | grep -q '(learned)'"
e2e_stop
ALERTS=$E2E_TMP/alerts-restart.jsonl
e2e_start
leak "$WORK/third.txt"
wait_alerts 1 "a['kind']=='secret_spread'" 10
barrier
expect_alerts "after a restart it is still tracked" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/third.txt' and a['secret']['name'].startswith('github-token-')"
expect_alerts "... and not discovered again (one alert after the restart)" 1 "True"
e2e_stop
expect_no_plaintext "$TOK"
e2e_finish
