#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Alerts carry the writer's cgroup and, when it is a container's, the runtime and id: a
# session process moved into a cgroup named like a docker scope (systemd driver), and one in a
# Kubernetes pod's containerd scope, each write a secret; their alerts name exactly that
# cgroup and container, and a process in a plain cgroup gets the cgroup and no container.
. "$(dirname "$0")/lib.sh"

CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG2" ] || { echo "SKIP $E2E_NAME: no cgroup v2 hierarchy mounted"; exit 77; }
PARENT=$CG2/sprawl-e2e-$$
DOCKER_ID=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
K8S_ID=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
DOCKER_CG=$PARENT/docker-$DOCKER_ID.scope
K8S_CG=$PARENT/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c1d2e3f_4a5b_6c7d_8e9f_0a1b2c3d4e5f.slice/cri-containerd-$K8S_ID.scope
PLAIN_CG=$PARENT/user-tasks
cleanup_cgroups() {
	local d
	# deepest first; their processes have exited
	for d in $(find "$PARENT" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null; done
}
trap 'cleanup_cgroups; e2e_cleanup' EXIT
mkdir -p "$DOCKER_CG" "$K8S_CG" "$PLAIN_CG"
REL=${PARENT#"$CG2"}

e2e_start
SECRET=$(new_secret CONTAINER_KEY)
printf '%s\n' "$SECRET" >"$E2E_TMP/src"

# Each session moves itself into its cgroup, then starts the writer (exec'd and forked).
leak() { # CGROUP OUT
	"$SPRAWLCTL" run -- sh -c "echo \$\$ > '$1/cgroup.procs' && exec python3 -c '
import sys
v = open(sys.argv[1]).read()
open(sys.argv[2], \"w\").write(v)' '$E2E_TMP/src' '$2'"
}
leak "$DOCKER_CG" "$WORK/docker.out"
leak "$K8S_CG" "$WORK/k8s.out"
leak "$PLAIN_CG" "$WORK/plain.out"
# a forked child of a process that moved after its exec, both gone before the daemon handles
# the fork (it is stopped meanwhile; the records wait in the ring): the fork record carries
# the cgroup the kernel saw, resolved while its directory lasts; /proc has nothing left (a
# flake in CI7 and CI29 when the daemon was merely late)
"$SPRAWLCTL" run -- sh -c "sleep 0.5; echo \$\$ > '$DOCKER_CG/cgroup.procs' && (read -r l < '$E2E_TMP/src'; printf '%s\n' \"\$l\" > '$WORK/forked.out')" &
RUN=$!
sleep 0.2
kill -STOP "$DAEMON_PID"
wait "$RUN"
sleep 0.3
kill -CONT "$DAEMON_PID"
wait_alerts 4 "a['kind']=='secret_spread' and a['secret']['name']=='CONTAINER_KEY'" 10
sleep 1

expect_alerts "docker scope: cgroup path and container {docker, id}" 1 \
	"a['artifact']['path']=='$WORK/docker.out' and a['cgroup']=='$REL/docker-$DOCKER_ID.scope' and a['container']=={'id':'$DOCKER_ID','runtime':'docker'}"
expect_alerts "kubepods cri-containerd scope: container {containerd, id}" 1 \
	"a['artifact']['path']=='$WORK/k8s.out' and a['cgroup']=='${K8S_CG#"$CG2"}' and a['container']=={'id':'$K8S_ID','runtime':'containerd'}"
expect_alerts "a plain cgroup: the path, no container" 1 \
	"a['artifact']['path']=='$WORK/plain.out' and a['cgroup']=='$REL/user-tasks' and 'container' not in a"
expect_alerts "a forked child after its parent moved: the new cgroup" 1 \
	"a['artifact']['path']=='$WORK/forked.out' and a['container']['id']=='$DOCKER_ID'"
expect_alerts "four alerts of the secret in all" 4 "a['secret']['name']=='CONTAINER_KEY'"
check "sprawlctl alerts --format text names the container" bash -c \
	"'$SPRAWLCTL' alerts --file '$ALERTS' --format text | grep -F 'docker.out' | grep -qF 'in docker:${DOCKER_ID:0:12}'"
check "SIGTERM stops the daemon with status 0" e2e_stop
expect_no_plaintext "$SECRET"
e2e_finish
