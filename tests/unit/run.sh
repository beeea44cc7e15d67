#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every unit test given (cmocka binaries, and executable scripts such as
# test_noplain.py) and prints one summary line. A test that exits 77 could not run: a skip, or
# with SPRAWL_STRICT=1 (CI) a failure with its reason. The tests run SPRAWL_UNIT_JOBS at once
# (default: the cores); each one's output is printed whole, in the order given.
set -u
strict=${SPRAWL_STRICT:-0}
jobs=${SPRAWL_UNIT_JOBS:-$(nproc)}
pass=0
fail=0
skip=0
failed=()
out=$(mktemp -d /tmp/sprawl-unit.XXXXXX)
trap 'rm -rf "$out"' EXIT

run_one() { # index test: output in $out/index.log, exit status and seconds in $out/index.rc
	local t0=$SECONDS rc
	"$2" >"$out/$1.log" 2>&1
	rc=$?
	echo "$rc $((SECONDS - t0))" >"$out/$1.rc"
}

i=0
for t in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$i" "$t" &
	i=$((i + 1))
done
wait

i=0
for t in "$@"; do
	echo "== $(basename "$t")"
	cat "$out/$i.log"
	read -r rc secs <"$out/$i.rc"
	[ "$secs" -ge 5 ] && echo "-- $(basename "$t"): $secs s"
	i=$((i + 1))
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
echo "unit: took $SECONDS s ($jobs at once)"
echo "unit: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
