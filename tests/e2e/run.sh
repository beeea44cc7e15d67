#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every e2e test (tests/e2e/e2e_*.sh), each with a time limit, and prints one summary.
# A test that cannot run exits 77 with a "SKIP name: reason" line. With SPRAWL_STRICT=1 (CI:
# .ci/run) a skip is a failure, and its reason is printed again in the summary.
set -u
cd "$(dirname "$0")"
strict=${SPRAWL_STRICT:-0}
pass=0
fail=0
skip=0
failed=()
reasons=()
log=$(mktemp /tmp/sprawl-e2e-run.XXXXXX)
trap 'rm -f "$log"' EXIT
for t in e2e_*.sh; do
	echo "== $t"
	# The real-agent test may download the agent CLIs (~400 MB) on a fresh machine.
	limit=300
	[ "$t" = e2e_agents_real.sh ] && limit=1200
	t0=$SECONDS
	timeout -k 10 "$limit" bash "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	echo "-- $t: $((SECONDS - t0)) s"
	case $rc in
	0) pass=$((pass + 1)) ;;
	77)
		why=$(grep -m1 '^SKIP' "$log" || echo "SKIP $t: (no reason given)")
		if [ "$strict" = 1 ]; then
			fail=$((fail + 1))
			failed+=("$t")
			reasons+=("$why (a skip is a failure with SPRAWL_STRICT=1)")
		else
			skip=$((skip + 1))
			reasons+=("$why")
		fi
		;;
	124 | 137) fail=$((fail + 1)); failed+=("$t"); reasons+=("FAIL $t: timed out after $limit s") ;;
	*) fail=$((fail + 1)); failed+=("$t") ;;
	esac
done
echo
for r in "${reasons[@]}"; do echo "e2e: $r"; done
[ ${#failed[@]} -gt 0 ] && echo "e2e: failed: ${failed[*]}"
echo "e2e: took $SECONDS s"
echo "e2e: $pass passed, $fail failed, $skip skipped$([ "$strict" = 1 ] && echo " (strict)")"
[ "$fail" -eq 0 ]
