#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every e2e test (tests/e2e/e2e_*.sh), each with a time limit, and prints one summary.
set -u
cd "$(dirname "$0")"
pass=0
fail=0
skip=0
failed=()
for t in e2e_*.sh; do
	echo "== $t"
	# The real-agent test may download the agent CLIs (~400 MB) on a fresh machine.
	limit=300
	[ "$t" = e2e_agents_real.sh ] && limit=1200
	timeout -k 10 "$limit" bash "$t"
	rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); failed+=("$t") ;;
	esac
done
echo
[ ${#failed[@]} -gt 0 ] && echo "e2e: failed: ${failed[*]}"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
