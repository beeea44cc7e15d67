#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make mutate`: a mutation check of the test suite. The tree (tracked files as they are in
# the working tree, plus the current build) is copied to a scratch directory; then each
# mutation of tests/mutate/mutations.txt is applied there alone, the tree rebuilt, and the
# tests the mutation names are run; a mutant is killed when one of them fails. Fails (exit 1)
# unless every mutant is killed, and loudly (exit 2) when a mutation's original text is not
# found exactly once (the code moved: re-point the mutation) or a mutant does not build.
# Needs root for the e2e tests. Usage: tests/mutate/run.sh [NAME-SUBSTRING...]
# MUTATE_KEEP=1 keeps the scratch directory; MUTATE_LIST=FILE uses another mutation list.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
LIST=${MUTATE_LIST:-tests/mutate/mutations.txt}
[ "$(id -u)" -eq 0 ] || { echo "mutate: needs root (the e2e tests load BPF programs)" >&2; exit 2; }

SCRATCH=$(mktemp -d /tmp/sprawl-mutate.XXXXXX)
chmod 0755 "$SCRATCH"
trap '[ -n "${MUTATE_KEEP:-}" ] && echo "mutate: kept $SCRATCH" || rm -rf "$SCRATCH"' EXIT
T0=$(date +%s)

# The mutations, parsed once into SCRATCH/m/N/{name,file,tests,orig,repl}.
python3 - "$LIST" "$SCRATCH/m" "$@" <<'PY' || exit 2
import os, sys
path, out, want = sys.argv[1], sys.argv[2], sys.argv[3:]
blocks, cur, part = [], None, None
for no, line in enumerate(open(path).read().split("\n"), 1):
    if line.startswith("=== "):
        cur = {"name": line[4:].strip(), "orig": [], "repl": [], "line": no}
        blocks.append(cur)
        part = None
    elif cur is None or (part is None and line.startswith("#")):
        continue
    elif part is None and line.startswith("file: "):
        cur["file"] = line[6:].strip()
    elif part is None and line.startswith("tests: "):
        cur["tests"] = line[7:].split()
    elif line == "--- original":
        part = "orig"
    elif line == "+++ replacement":
        part = "repl"
    elif part:
        cur[part].append(line)
n = 0
for b in blocks:
    for k in ("orig", "repl"):  # a block ends at the next '===': drop trailing blank lines
        while b[k] and not b[k][-1].strip():
            b[k].pop()
    if not all(k in b for k in ("file", "tests")) or not b["orig"] or not b["repl"]:
        sys.exit("%s:%d: mutation '%s' lacks file, tests, original or replacement"
                 % (path, b["line"], b["name"]))
    if want and not any(w in b["name"] for w in want):
        continue
    d = os.path.join(out, "%02d" % n)
    os.makedirs(d)
    for k in ("name", "file"):
        open(os.path.join(d, k), "w").write(b[k])
    open(os.path.join(d, "tests"), "w").write(" ".join(b["tests"]))
    open(os.path.join(d, "orig"), "w").write("\n".join(b["orig"]))
    open(os.path.join(d, "repl"), "w").write("\n".join(b["repl"]))
    n += 1
print("mutate: %d mutation(s) from %s" % (n, path))
PY

# The scratch tree: tracked files with their mtimes, and the build (so only what a mutation
# touches is rebuilt).
echo "mutate: copying the tree to $SCRATCH/tree"
mkdir -p "$SCRATCH/tree"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$SCRATCH/tree"
[ -d .output ] && tar --exclude=.output/fuzz -cf - .output | tar -xf - -C "$SCRATCH/tree"
TREE=$SCRATCH/tree

# apply N: replaces the original text (exactly once) by the replacement; 2 if not found once
apply() {
	python3 - "$TREE/$(cat "$1/file")" "$1/orig" "$1/repl" <<'PY'
import sys
f, o, r = sys.argv[1], open(sys.argv[2]).read(), open(sys.argv[3]).read()
s = open(f).read()
n = s.count(o)
if n != 1:
    sys.exit("the original text occurs %d times in %s (expected once): re-point the mutation" % (n, f))
open(f, "w").write(s.replace(o, r))
PY
}

# run_tests TESTS...: 0 when all pass (the mutant survives), 1 when one fails (killed)
run_tests() {
	local t rc=0
	for t in "$@"; do
		case $t in
		unit:*)
			timeout -k 5 300 "$TREE/.output/tests/${t#unit:}" >"$SCRATCH/log.$t" 2>&1 || { rc=1; echo "      killed by $t"; }
			;;
		e2e:*)
			timeout -k 5 300 bash "$TREE/tests/e2e/${t#e2e:}.sh" >"$SCRATCH/log.$t" 2>&1 || { rc=1; echo "      killed by $t"; }
			;;
		*) echo "mutate: unknown test '$t' (unit:test_X or e2e:e2e_X)"; exit 2 ;;
		esac
		[ "$rc" = 1 ] && return 1
	done
	return 0
}

build() { # build TESTS...: the binaries and the unit-test binaries named
	local t targets=(all)
	for t in "$@"; do
		case $t in unit:*) targets+=(".output/tests/${t#unit:}") ;; esac
	done
	make -C "$TREE" --no-print-directory -j2 "${targets[@]}" >"$SCRATCH/build.log" 2>&1
}

# Every mutation's original text must be where it says before anything runs: a moved site
# is reported at once, not after the baseline.
moved=0
for d in "$SCRATCH"/m/*/; do
	if ! python3 - "$TREE/$(cat "$d/file")" "$d/orig" <<'PY'; then
import sys
try:
    n = open(sys.argv[1]).read().count(open(sys.argv[2]).read())
except OSError as e:
    sys.exit(str(e))
sys.exit(0 if n == 1 else "the original text occurs %d times (expected once)" % n)
PY
		echo "mutate: BROKEN MUTATION '$(cat "$d/name")' in $(cat "$d/file"): re-point it"
		moved=$((moved + 1))
	fi
done
[ "$moved" -eq 0 ] || exit 2

# Baseline: the unmutated scratch tree builds and passes every test named (or the mutants'
# deaths would mean nothing).
ALL_TESTS=$(for f in "$SCRATCH"/m/*/tests; do tr ' ' '\n' <"$f"; echo; done | grep . | sort -u)
echo "mutate: baseline build and tests: $(echo $ALL_TESTS)"
# shellcheck disable=SC2086 # one word per test
build $ALL_TESTS || { echo "mutate: the unmutated tree does not build"; tail -20 "$SCRATCH/build.log"; exit 2; }
# shellcheck disable=SC2086
if ! run_tests $ALL_TESTS; then
	echo "mutate: a test fails on the unmutated tree: fix it first"
	tail -30 "$SCRATCH"/log.* | grep -v "^  ok"
	exit 2
fi

killed=0
survived=()
broken=()
for d in "$SCRATCH"/m/*/; do
	name=$(cat "$d/name")
	file=$(cat "$d/file")
	read -ra tests <"$d/tests"
	echo "-- $name ($file)"
	cp -p "$TREE/$file" "$SCRATCH/orig.file"
	if ! err=$(apply "$d" 2>&1); then
		echo "   ERROR $err"
		broken+=("$name: $err")
		continue
	fi
	touch "$TREE/$file"
	if ! build "${tests[@]}"; then
		echo "   ERROR the mutant does not build:"
		grep -m5 -E "error|Error" "$SCRATCH/build.log" | sed 's/^/      /'
		broken+=("$name: does not build")
	elif run_tests "${tests[@]}"; then
		echo "   SURVIVED (${tests[*]} all pass)"
		survived+=("$name")
	else
		echo "   killed"
		killed=$((killed + 1))
	fi
	cp -p "$SCRATCH/orig.file" "$TREE/$file"
	touch "$TREE/$file" # newer than the mutant's objects: rebuilt next time
done
# the last restore rebuilt nothing: leave the scratch tree consistent for MUTATE_KEEP
total=$(ls -d "$SCRATCH"/m/*/ | wc -l)
echo
echo "mutate: $killed of $total mutant(s) killed in $(($(date +%s) - T0)) s"
for s in "${survived[@]}"; do echo "mutate: SURVIVED: $s"; done
for b in "${broken[@]}"; do echo "mutate: BROKEN MUTATION: $b"; done
[ ${#broken[@]} -gt 0 ] && exit 2
[ ${#survived[@]} -gt 0 ] && exit 1
exit 0
