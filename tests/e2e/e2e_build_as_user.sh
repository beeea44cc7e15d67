#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A fresh box: the source as a tarball (no .git), unpacked by an ordinary user whose PATH has
# no /usr/sbin (where Debian puts bpftool): `make` builds both binaries, `make format-check`
# checks the tree (it used to hang without git), and `make version` matches --version.
# Runs as root only to become that user (nobody).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=$(basename "$0" .sh)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP $NAME: needs root to run as another user"
	exit 77
fi
TMP=$(mktemp -d /tmp/sprawl-e2e-build.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
CHECKS=0
check() {
	local what=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; FAILS=$((FAILS + 1)); fi
}

# The tarball: what git tracks (or, outside a checkout, the tree without build output).
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$ROOT" ls-files --cached --others --exclude-standard -z |
		tar -C "$ROOT" --null -T - -czf "$TMP/src.tar.gz"
else
	tar -C "$ROOT" --exclude=./.output -czf "$TMP/src.tar.gz" .
fi
mkdir "$TMP/src"
chown nobody "$TMP" "$TMP/src"
as_user() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$TMP" LANG=C.UTF-8 "$@"
}
as_user tar -C "$TMP/src" -xzf "$TMP/src.tar.gz"
check "the tarball has no .git" test ! -e "$TMP/src/.git"
check "bpftool is not on the user's PATH" bash -c \
	"! env -i PATH=/usr/local/bin:/usr/bin:/bin bash -c 'command -v bpftool' >/dev/null"
as_user timeout 900 make -C "$TMP/src" -j2 >"$TMP/make.log" 2>&1
rc=$?
check "make as nobody succeeds (status $rc)" test $rc -eq 0
[ $rc -eq 0 ] || tail -20 "$TMP/make.log"
check "both binaries were built, owned by nobody" bash -c \
	"[ \$(stat -c %U '$TMP/src/.output/bin/sprawlwatchd') = nobody ] && [ -x '$TMP/src/.output/bin/sprawlctl' ]"
V=$(as_user make -C "$TMP/src" -s --no-print-directory version)
check "sprawlwatchd --version says $V" test "$(as_user "$TMP/src/.output/bin/sprawlwatchd" --version)" = "sprawlwatchd $V"
check "sprawlctl --version says $V" test "$(as_user "$TMP/src/.output/bin/sprawlctl" --version)" = "sprawlctl $V"
as_user timeout 120 make -C "$TMP/src" -s --no-print-directory format-check </dev/null >"$TMP/fmt.log" 2>&1
rc=$?
check "format-check in the tarball finishes and passes (status $rc)" test $rc -eq 0
check "...having checked the sources" grep -qx 'format: ok' "$TMP/fmt.log"
n=$(as_user make -C "$TMP/src" -n --no-print-directory format-check | grep -o '[a-z_/]*\.[ch]\b' | sort -u | wc -l)
check "...all $n of them found without git (at least 50)" test "$n" -ge 50
echo "$NAME: $((CHECKS - FAILS)) passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
