#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the fuzz targets with clang -fsanitize=fuzzer,address and runs each in turn.
# Usage: tests/fuzz/build.sh [SECONDS] [TARGET...]   (default 60 s each; 0 = build only;
# targets: rules tracelog records statefiles unpack ctl envfile alerttext config event
# secretset,
# default all). With FUZZ_RUNS=N in
# the environment each target runs N executions instead of SECONDS (make fuzz: 1M each), and
# the executions each made are checked against N.
# Output under .output/fuzz/; crashes land in .output/fuzz/crashes/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(rules tracelog records statefiles ctl envfile alerttext config event secretset unpack)
out=.output/fuzz
mkdir -p "$out/obj"
make --no-print-directory .output/gen/rules_embedded.c .output/gen/sprawl.pb-c.h \
	.output/gen/version.h >/dev/null
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
	-Wall -Wextra -Werror -Wno-gnu-variable-sized-type-not-at-end -Wno-missing-field-initializers
	-std=gnu11 -D_GNU_SOURCE
	-Iuserspace/src -Ibpf -I.output/gen -I.output"

# Each source is compiled once per run, on every core, into .output/fuzz/obj/all (the heavy
# targets share the whole library).
declare -A compiled
rm -rf "$out/obj/all"
mkdir -p "$out/obj/all"

# build_target NAME LIBS SOURCES...: objects in .output/fuzz/obj/NAME, binary .output/fuzz/fuzz_NAME
build_target() {
	local name=$1 libs=$2 src todo=()
	shift 2
	mkdir -p "$out/obj/$name" "$out/corpus/$name" "$out/crashes/$name"
	rm -f "$out/obj/$name"/*.o
	for src in "$@"; do
		[ -n "${compiled[$src]:-}" ] || todo+=("$src")
		compiled[$src]=1
	done
	if [ ${#todo[@]} -gt 0 ]; then
		# shellcheck disable=SC2016 # expanded by the inner shell
		printf '%s\n' "${todo[@]}" | xargs -P "$(nproc)" -I{} \
			sh -c 'clang $0 -c "$1" -o "$2/$(basename "${1%.c}").o"' "$flags" {} "$out/obj/all"
	fi
	for src in "$@"; do
		ln -f "$out/obj/all/$(basename "${src%.c}").o" "$out/obj/$name/"
	done
	clang $flags -fsanitize=fuzzer -o "$out/fuzz_$name" "tests/fuzz/fuzz_$name.c" \
		"$out/obj/$name"/*.o $libs
}

# What the library links with (the Makefile's LIBS; libbpf only to link: no kernel is used here).
LIBS="-lbpf -lelf -ldeflate -lz -lcrypto -lsodium -lprotobuf-c -lpcre2-8 -lhs -lyaml -lcurl -ljson-c -ljansson -lsystemd -lpthread"

for t in "${targets[@]}"; do
	case $t in
	rules)
		clang ${flags/-Werror/} -Wno-unused-parameter -c .output/gen/sprawl.pb-c.c \
			-o "$out/obj/sprawl.pb-c.o"
		build_target rules "$out/obj/sprawl.pb-c.o $LIBS" \
			$(ls userspace/src/*.c | grep -v -e 'tracelog[a-z_]*\.c') .output/gen/rules_embedded.c
		# Seeds: the default rule files, each behind its selector byte.
		i=0
		for f in rules/agents.yaml rules/detectors.yaml rules/policy.yaml; do
			{ printf "\\x$(printf %02x $i)"; cat "$f"; } > "$out/corpus/rules/seed-$i"
			i=$((i + 1))
		done
		;;
	tracelog)
		# The generated protobuf code is not ours to hold to -Werror.
		clang ${flags/-Werror/} -Wno-unused-parameter -c .output/gen/sprawl.pb-c.c \
			-o "$out/obj/sprawl.pb-c.o"
		build_target tracelog "$out/obj/sprawl.pb-c.o -ldeflate -lz -lsodium -lprotobuf-c" userspace/src/fileio.c \
			userspace/src/tracelog*.c userspace/src/tracerec*.c userspace/src/event.c
		# Seeds: segments written by the real writer.
		clang -g -O1 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -DSW_FUZZ_SEEDGEN \
			-Iuserspace/src -Ibpf -I.output/gen -o "$out/seedgen_tracelog" \
			tests/fuzz/fuzz_tracelog.c userspace/src/tracelog*.c userspace/src/tracerec*.c \
			userspace/src/event.c userspace/src/fileio.c .output/gen/sprawl.pb-c.c \
			-ldeflate -lz -lsodium -lprotobuf-c
		seeds=$(mktemp -d)
		"$out/seedgen_tracelog" "$seeds/t"
		for f in "$seeds"/t/*.swt; do cp "$f" "$out/corpus/tracelog/seed-$(basename "$f")"; done
		cp "$seeds/t/recipe" "$out/corpus/tracelog/seed-recipe"
		rm -rf "$seeds"
		;;
	records | statefiles)
		clang ${flags/-Werror/} -Wno-unused-parameter -c .output/gen/sprawl.pb-c.c \
			-o "$out/obj/sprawl.pb-c.o"
		build_target "$t" "$out/obj/sprawl.pb-c.o $LIBS" \
			$(ls userspace/src/*.c | grep -v -e 'tracelog[a-z_]*\.c') .output/gen/rules_embedded.c
		if [ "$t" = records ]; then
			# Seeds: records of a session writing and sending the target's secret.
			clang $flags -DSW_FUZZ_SEEDGEN -o "$out/seedgen_records" \
				tests/fuzz/fuzz_records.c -fsanitize=address,undefined
			"$out/seedgen_records" "$out/corpus/records"
		fi
		if [ "$t" = statefiles ]; then
			# Seeds: a secret set and a registry written by the real writers.
			clang $flags -DSW_FUZZ_SEEDGEN -fsanitize=address,undefined \
				-o "$out/seedgen_statefiles" tests/fuzz/fuzz_statefiles.c \
				"$out/obj/statefiles"/*.o "$out/obj/sprawl.pb-c.o" \
				$LIBS
			"$out/seedgen_statefiles" "$out/corpus/statefiles"
		fi
		;;
	unpack)
		build_target unpack "-lz -lcrypto -lsodium" userspace/src/unpack.c \
			userspace/src/inflate.c userspace/src/gitobj.c
		# Seeds: a gzip file, a loose object and a pack with an OFS_DELTA (kind byte first).
		python3 - "$out/corpus/unpack" <<'PY'
import sys, zlib
d = sys.argv[1]
base = b"".join(b"line %d of a file in a repository\n" % i for i in range(10))
def hdr(t, n):
    b = [t << 4 | (n & 15)]
    n >>= 4
    while n:
        b[-1] |= 0x80
        b.append(n & 0x7f)
        n >>= 7
    return bytes(b)
def var(n):
    b = []
    while True:
        b.append((n & 0x7f) | (0x80 if n > 0x7f else 0))
        n >>= 7
        if not n:
            return bytes(b)
delta = var(len(base)) + var(len(base) + 4) + bytes([0x90, 200, 4]) + b"new!" + \
    bytes([0x91, 200, len(base) - 200])
pack = b"PACK\0\0\0\2\0\0\0\2" + hdr(3, len(base)) + zlib.compress(base)
ofs = len(pack) - 12
pack += hdr(6, len(delta)) + bytes([ofs & 0x7f]) + zlib.compress(delta) + bytes(20)
c = zlib.compressobj(6, zlib.DEFLATED, 31)
open(d + "/seed-gzip", "wb").write(b"\x00" + c.compress(base) + c.flush())
open(d + "/seed-loose", "wb").write(b"\x01" + zlib.compress(b"blob %d\0" % len(base) + base))
open(d + "/seed-pack", "wb").write(b"\x02" + pack)
PY
		;;
	ctl)
		# The control protocol as the daemon reads it: framing and the request parser.
		build_target ctl "" userspace/src/ctl.c
		printf '\x07status\n\x08summary\n\x10session claude\n\x0bwatch 4242\n' \
			>"$out/corpus/ctl/seed-requests"
		printf '\x07reload\n\x07follow\n\x3fssssssssssssssssssssssssssssssss' \
			>"$out/corpus/ctl/seed-drip"
		;;
	envfile)
		# The .env importer's line splitter (values are placeholders).
		build_target envfile "" userspace/src/envfile.c
		printf 'A=placeholder-one\nexport B = "two # three"\n# c\nD=\x27four\x27\n\nE\n' \
			>"$out/corpus/envfile/seed-env"
		;;
	alerttext)
		build_target alerttext "-ljansson" userspace/src/alerttext.c userspace/src/json.c
		printf '\x03{"time":"2026-11-29T18:00:00Z","kind":"secret_spread","severity":"high","secret":{"name":"N","variant":"raw"},"artifact":{"type":"file","path":"/p\\u001b[2J"},"process":{"pid":1,"comm":"sh","argv":["a"]}}' \
			>"$out/corpus/alerttext/seed-alert"
		;;
	config)
		build_target config "-lyaml" userspace/src/daemon_config.c userspace/src/daemon_config_file.c \
			userspace/src/policy.c userspace/src/config.c
		make --no-print-directory .output/bin/sprawlctl >/dev/null
		.output/bin/sprawlctl config example >"$out/corpus/config/seed-example"
		;;
	secretset)
		clang ${flags/-Werror/} -Wno-unused-parameter -c .output/gen/sprawl.pb-c.c \
			-o "$out/obj/sprawl.pb-c.o"
		build_target secretset "$out/obj/sprawl.pb-c.o -lsodium -lprotobuf-c" \
			userspace/src/secretset.c userspace/src/secretset_index.c userspace/src/fingerprint.c \
			userspace/src/fileio.c \
			userspace/src/encode.c
		# Seeds: the statefiles target's secret set (made by the real writer, fuzz key).
		if [ -x "$out/seedgen_statefiles" ]; then
			"$out/seedgen_statefiles" "$out/corpus/secretset"
		fi
		;;
	event)
		build_target event "" userspace/src/event.c
		# Seeds: the records of the records target's seed generator, one a file.
		clang $flags -DSW_FUZZ_SEEDGEN -o "$out/seedgen_records" tests/fuzz/fuzz_records.c \
			-fsanitize=address,undefined
		"$out/seedgen_records" "$out/corpus/event"
		;;
	*)
		echo "build.sh: unknown target '$t' (rules, tracelog, records, statefiles, ctl," \
			"envfile, alerttext, config, event, secretset, unpack)" >&2
		exit 2
		;;
	esac
done
runs=${FUZZ_RUNS:-}
[ "$secs" -gt 0 ] || [ -n "$runs" ] || exit 0
for t in "${targets[@]}"; do
	if [ -n "$runs" ]; then
		limit=(-runs="$runs")
	else
		limit=(-max_total_time="$secs")
	fi
	"$out/fuzz_$t" "${limit[@]}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/crashes/$t/" "$out/corpus/$t" 2>&1 | tee "$out/$t.log" |
		grep -E '^(#[0-9]+ +(DONE|INITED)|Done |==[0-9]+==ERROR|SUMMARY)' || true
	# The run's own count ("Done N runs"): a target that stopped early is a failure.
	done_runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$t.log")
	if [ -z "$done_runs" ] || { [ -n "$runs" ] && [ "$done_runs" -lt "$runs" ]; }; then
		echo "fuzz: $t stopped after ${done_runs:-0} execution(s) (see $out/$t.log)" >&2
		exit 1
	fi
	echo "fuzz: $t: $done_runs executions, no findings"
done
