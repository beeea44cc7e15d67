#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every cmocka unit-test binary given and prints one summary line.
set -u
pass=0
fail=0
failed=()
for t in "$@"; do
	echo "== $(basename "$t")"
	if "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed+=("$(basename "$t")")
	fi
done
echo
[ ${#failed[@]} -gt 0 ] && echo "unit: failed binaries: ${failed[*]}"
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
