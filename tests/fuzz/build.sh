#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the rules-loader fuzz target with clang -fsanitize=fuzzer,address and runs it.
# Usage: tests/fuzz/build.sh [SECONDS]   (default 60; 0 = build only)
# Output under .output/fuzz/; crashes land in .output/fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=.output/fuzz
mkdir -p "$out/obj" "$out/corpus" "$out/crashes"
make --no-print-directory .output/gen/rules_embedded.c .output/gen/sprawl.pb-c.h >/dev/null
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
	-Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iuserspace/src -Ibpf -I.output/gen -I.output"
for src in userspace/src/rules.c userspace/src/detect.c .output/gen/rules_embedded.c; do
	clang $flags -c "$src" -o "$out/obj/$(basename "${src%.c}").o"
done
clang $flags -fsanitize=fuzzer -o "$out/fuzz_rules" tests/fuzz/fuzz_rules.c "$out"/obj/*.o \
	-lpcre2-8 -lyaml -lsodium
# Seeds: the default rule files, each behind its selector byte.
i=0
for f in rules/agents.yaml rules/detectors.yaml rules/policy.yaml; do
	{ printf "\\x$(printf %02x $i)"; cat "$f"; } > "$out/corpus/seed-$i"
	i=$((i + 1))
done
[ "$secs" -gt 0 ] || exit 0
"$out/fuzz_rules" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$out/crashes/" "$out/corpus"
