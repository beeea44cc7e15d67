#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Matcher vs grep -F on the same generated corpora and values, in one run (called by run.sh via
# `make bench`). Extra arguments go to `sprawlctl bench matcher` (--size MB, --secrets N,N,N).
set -euo pipefail
out=${OUTPUT:-.output}
ctl="$out/bin/sprawlctl"
if [ ! -x "$ctl" ]; then
	echo "bench_matcher: $ctl not built (make all)" >&2
	exit 1
fi
command -v grep >/dev/null || { echo "bench_matcher: grep not found" >&2; exit 1; }
echo "== matcher (1 core; grep -F gets the same raw values via a private 0600 temp file," \
	"deleted after each row)"
exec "$ctl" bench matcher "$@"
