#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every unit test given (cmocka binaries, and executable scripts such as
# test_noplain.py) and prints one summary line. A test that exits 77 could not run: a skip, or
# with SPRAWL_STRICT=1 (CI) a failure with its reason.
set -u
strict=${SPRAWL_STRICT:-0}
pass=0
fail=0
skip=0
failed=()
for t in "$@"; do
	echo "== $(basename "$t")"
	t0=$SECONDS
	"$t"
	rc=$?
	[ $((SECONDS - t0)) -ge 5 ] && echo "-- $(basename "$t"): $((SECONDS - t0)) s"
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
	elif [ "$rc" -eq 77 ] && [ "$strict" != 1 ]; then
		skip=$((skip + 1))
		echo "unit: $(basename "$t") skipped (exit 77)"
	else
		[ "$rc" -eq 77 ] && echo "unit: $(basename "$t") skipped (exit 77): a failure with SPRAWL_STRICT=1"
		fail=$((fail + 1))
		failed+=("$(basename "$t")")
	fi
done
echo
[ ${#failed[@]} -gt 0 ] && echo "unit: failed: ${failed[*]}"
echo "unit: took $SECONDS s"
echo "unit: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
