#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make deb` builds a package that installs on this machine: dpkg -i puts the binaries, the
# unit, man pages, completion, logrotate file and config where they belong, /etc files are
# conffiles, `systemd-analyze verify` accepts the installed unit, the installed binaries run
# (a real session alert), and purge leaves nothing behind. Skips when sprawlwatch is already
# installed or /etc/sprawlwatch exists: this test never touches an installation it did not make.
. "$(dirname "$0")/lib.sh"

if dpkg-query -W -f='${Status}' sprawlwatch 2>/dev/null | grep -q installed; then
	echo "SKIP $E2E_NAME: a sprawlwatch package is installed here; not touching it"
	exit 77
fi
# Removing and purging the package clears these; someone else's must not be touched.
for p in /etc/sprawlwatch /usr/sbin/sprawlwatchd /usr/bin/sprawlctl /var/lib/sprawlwatch \
	/var/log/sprawlwatch /sys/fs/bpf/sprawlwatch; do
	if [ -e "$p" ]; then
		echo "SKIP $E2E_NAME: $p exists (another installation or a running service); not touching it"
		exit 77
	fi
done
INSTALLED=0
purge() {
	[ "$INSTALLED" -eq 1 ] && dpkg --purge sprawlwatch >/dev/null 2>&1
	INSTALLED=0
}
trap 'purge; e2e_cleanup' EXIT

VERSION=$(make -C "$E2E_ROOT" -s --no-print-directory version)
make -C "$E2E_ROOT" -s --no-print-directory deb >"$E2E_TMP/deb.out" 2>"$E2E_TMP/deb.err"
DEB=$(grep '\.deb$' "$E2E_TMP/deb.out" | tail -1)
case $DEB in /*) ;; ?*) DEB=$E2E_ROOT/$DEB ;; esac
if [ ! -f "$DEB" ]; then
	echo "FAIL $E2E_NAME: make deb built nothing"
	cat "$E2E_TMP/deb.out" "$E2E_TMP/deb.err"
	exit 1
fi
check "make deb built $(basename "$DEB")" test -f "$DEB"
check "the package is named for VERSION ($VERSION)" \
	test "$(dpkg-deb -f "$DEB" Package Version | tr '\n' ' ')" = "Package: sprawlwatch Version: $VERSION "

dpkg -i "$DEB" >"$E2E_TMP/dpkg.out" 2>&1
rc=$?
[ $rc -eq 0 ] && INSTALLED=1
check "dpkg -i installs it" test $rc -eq 0
check "dpkg says installed" bash -c "dpkg-query -W -f='\${Status}' sprawlwatch | grep -q 'install ok installed'"
for f in /usr/sbin/sprawlwatchd /usr/bin/sprawlctl /lib/systemd/system/sprawlwatch.service \
	/etc/sprawlwatch/sprawlwatchd.yaml /etc/sprawlwatch/rules/agents.yaml \
	/etc/sprawlwatch/rules/detectors.yaml /etc/sprawlwatch/rules/policy.yaml \
	/usr/share/man/man8/sprawlwatchd.8.gz /usr/share/man/man8/sprawlctl.8.gz \
	/usr/share/bash-completion/completions/sprawlctl \
	/usr/share/bash-completion/completions/sprawlwatchd /etc/logrotate.d/sprawlwatch \
	/usr/share/doc/sprawlwatch/README.md; do
	check "installed: $f" test -e "$f"
done
CONFFILES=$(dpkg-query -W -f='${Conffiles}\n' sprawlwatch | awk 'NF { print $1 }' | sort | tr '\n' ' ')
check "the conffiles are exactly the files under /etc" test "$CONFFILES" = \
	"/etc/logrotate.d/sprawlwatch /etc/sprawlwatch/rules/agents.yaml /etc/sprawlwatch/rules/detectors.yaml /etc/sprawlwatch/rules/policy.yaml /etc/sprawlwatch/sprawlwatchd.yaml "
check "systemd-analyze verify accepts the installed unit" \
	systemd-analyze verify /lib/systemd/system/sprawlwatch.service
check "the installed unit starts /usr/sbin/sprawlwatchd with the config" grep -qx \
	'ExecStart=/usr/sbin/sprawlwatchd --config /etc/sprawlwatch/sprawlwatchd.yaml' \
	/lib/systemd/system/sprawlwatch.service
check "man finds sprawlwatchd(8) and sprawlctl(8)" bash -c \
	"man -w 8 sprawlwatchd | grep -q /usr/share/man && man -w 8 sprawlctl | grep -q /usr/share/man"
check "both binaries report the package's version" bash -c \
	"[ \"\$(/usr/sbin/sprawlwatchd --version)\" = 'sprawlwatchd $VERSION' ] && [ \"\$(/usr/bin/sprawlctl --version)\" = 'sprawlctl $VERSION' ]"
check "the installed config passes sprawlctl config check" bash -c \
	"/usr/bin/sprawlctl config check /etc/sprawlwatch/sprawlwatchd.yaml >/dev/null"
check "the installed rules pass sprawlctl rules check" bash -c \
	"/usr/bin/sprawlctl rules check /etc/sprawlwatch/rules >/dev/null"
if command -v logrotate >/dev/null; then
	check "logrotate accepts the logrotate file" bash -c \
		"logrotate -d /etc/logrotate.d/sprawlwatch >'$E2E_TMP/logrotate.out' 2>&1"
fi
check "bash completion offers sprawlctl's commands" bash -c \
	"source /usr/share/bash-completion/completions/sprawlctl; COMP_WORDS=(sprawlctl se); COMP_CWORD=1; _sprawlctl; [ \"\${COMPREPLY[*]}\" = secrets ]"

# The installed daemon works: private directories, the installed rules, a real alert.
SPRAWLWATCHD=/usr/sbin/sprawlwatchd SPRAWLCTL=/usr/bin/sprawlctl
e2e_start --rules /etc/sprawlwatch/rules
SECRET=$(new_secret DEB_KEY)
printf '%s\n' "$SECRET" >"$E2E_TMP/src"
"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/src'; printf '%s\n' \"\$l\" > '$WORK/out'"
wait_alerts 1 "a['kind']=='secret_spread'" 10
expect_alerts "the installed daemon raises the alert" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/out' and a['secret']['name']=='DEB_KEY'"
check "SIGTERM stops it with status 0" e2e_stop
expect_no_plaintext "$SECRET"

dpkg --purge sprawlwatch >"$E2E_TMP/purge.out" 2>&1
rc=$?
[ $rc -eq 0 ] && INSTALLED=0
check "dpkg --purge removes it" test $rc -eq 0
check "nothing is left: binaries, unit, /etc/sprawlwatch, man pages, completion" bash -c \
	"! ls -d /usr/sbin/sprawlwatchd /usr/bin/sprawlctl /lib/systemd/system/sprawlwatch.service /etc/sprawlwatch /etc/logrotate.d/sprawlwatch /usr/share/man/man8/sprawlwatchd.8.gz /usr/share/bash-completion/completions/sprawlctl /usr/share/doc/sprawlwatch 2>/dev/null | grep -q ."
check "dpkg no longer knows it" bash -c "! dpkg-query -W -f='\${Status}' sprawlwatch 2>/dev/null | grep -q installed"
e2e_finish
