#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the sprawlwatch .deb with dpkg-deb: the tree is what `make install PREFIX=/usr`
# lays out (one description of the layout), plus the package's metadata. Run by `make deb`.
# Usage: packaging/mkdeb.sh VERSION OUTPUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1
out=$2
arch=$(dpkg --print-architecture)
stage=$out/deb
deb=$out/sprawlwatch_${version}_${arch}.deb

rm -rf "$stage"
mkdir -p "$stage/DEBIAN"
if ! make --no-print-directory -s install DESTDIR="$stage" PREFIX=/usr \
	UNITDIR=/lib/systemd/system OUTPUT="$out" >"$out/deb-install.log" 2>&1; then
	echo "mkdeb: make install into $stage failed:" >&2
	cat "$out/deb-install.log" >&2
	exit 1
fi

# Shared-library dependencies, as dpkg-shlibdeps finds them for the two binaries.
shl=$(mktemp -d)
trap 'rm -rf "$shl"' EXIT
mkdir -p "$shl/debian"
printf 'Source: sprawlwatch\n\nPackage: sprawlwatch\nArchitecture: any\n' >"$shl/debian/control"
depends=$(cd "$shl" && dpkg-shlibdeps -O "$OLDPWD/$stage/usr/sbin/sprawlwatchd" \
	"$OLDPWD/$stage/usr/bin/sprawlctl" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')

[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies (is dpkg-dev installed?)" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CTL
Package: sprawlwatch
Version: $version
Architecture: $arch
Maintainer: sprawlwatch developers <sprawlwatch@localhost>
Section: admin
Priority: optional
Installed-Size: $size
Depends: $depends
Recommends: logrotate
Description: follow where secrets go when AI coding agents work on a host
 sprawlwatch is an eBPF host monitor: it watches AI coding agents' process
 trees from the kernel, recognises every tracked secret in what they write,
 execute and send (holding only keyed hashes, never the values) and alerts
 the first time a secret lands somewhere new.
CTL
# Everything under /etc is the administrator's: kept on upgrade and remove, gone on purge.
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') >"$stage/DEBIAN/conffiles"

cat >"$stage/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
fi
exit 0
SH
cat >"$stage/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl stop sprawlwatch.service >/dev/null 2>&1 || true
fi
# The programs stay attached while pinned (that is how a restart loses nothing); a removed
# package must not leave them watching.
if [ "$1" = remove ]; then
	rm -rf /sys/fs/bpf/sprawlwatch
fi
exit 0
SH
cat >"$stage/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
	# the fingerprint key, the secret set, the registry and the alert log
	rm -rf /var/lib/sprawlwatch /var/log/sprawlwatch
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
SH
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
