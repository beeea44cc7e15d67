// SPDX-License-Identifier: Apache-2.0
/* Container runtime and id from real-shaped cgroup v2 paths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "container.h"

#define ID  "3f4e0c1d2b6a79880e5f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"
#define ID2 "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

static void expect(const char *path, const char *runtime, const char *id)
{
	struct sw_container c;
	int r = sw_container__parse(path, &c);

	if (!runtime) {
		if (r)
			fail_msg("%s: expected no container, got %s %s", path, c.runtime, c.id);
		assert_string_equal(c.id, "");
		return;
	}
	if (!r)
		fail_msg("%s: expected %s, got none", path, runtime);
	assert_string_equal(c.runtime, runtime);
	assert_string_equal(c.id, id);
}

static void test_runtimes(void **state)
{
	/* docker, systemd cgroup driver and cgroupfs driver */
	expect("/system.slice/docker-" ID ".scope", "docker", ID);
	expect("/docker/" ID, "docker", ID);
	/* podman: root (machine.slice), rootless (user slice), its init sub-cgroup, cgroupfs */
	expect("/machine.slice/libpod-" ID ".scope", "podman", ID);
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
	       "podman", ID);
	expect("/machine.slice/libpod-" ID ".scope/container", "podman", ID);
	expect("/libpod_parent/libpod-" ID, "podman", ID);
	/* Kubernetes: containerd and CRI-O with the systemd driver, any runtime with cgroupfs */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod4f1c2d3e_5a6b_7c8d_"
	       "9e0f_a1b2c3d4e5f6.slice/cri-containerd-" ID ".scope",
	       "containerd", ID);
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podab12.slice/"
	       "crio-" ID ".scope",
	       "cri-o", ID);
	expect("/kubepods/burstable/pod4f1c2d3e-5a6b-7c8d-9e0f-a1b2c3d4e5f6/" ID, "kubernetes", ID);
	expect("/kubepods/besteffort/podab12/" ID, "kubernetes", ID);
	/* short ids (12..63 hex) are accepted */
	expect("/system.slice/docker-0123456789ab.scope", "docker", "0123456789ab");
}

static void test_not_containers(void **state)
{
	expect("/", NULL, NULL);
	expect("", NULL, NULL);
	expect("/user.slice/user-1000.slice/session-3.scope", NULL, NULL);
	expect("/system.slice/sprawlwatch.service", NULL, NULL);
	expect("/system.slice/docker.service", NULL, NULL);
	/* conmon monitors the container; it is not in it */
	expect("/machine.slice/libpod-conmon-" ID ".scope", NULL, NULL);
	expect("/kubepods.slice/crio-conmon-" ID ".scope", NULL, NULL);
	/* not hex, too short, too long, upper case */
	expect("/system.slice/docker-xyz.scope", NULL, NULL);
	expect("/system.slice/docker-0123abc.scope", NULL, NULL);
	expect("/system.slice/docker-" ID "0.scope", NULL, NULL);
	expect("/docker/3F4E0C1D2B6A79880E5F1A2B3C4D5E6F", NULL, NULL);
	/* a bare id needs a parent that says whose it is */
	expect("/" ID, NULL, NULL);
	expect("/other/" ID, NULL, NULL);
	expect("relative/docker-" ID ".scope", NULL, NULL);
	expect(NULL, NULL, NULL);
}

/* Docker in a podman container: the innermost one is where the process is. */
static void test_nested(void **state)
{
	expect("/machine.slice/libpod-" ID ".scope/docker/" ID2, "docker", ID2);
	expect("/system.slice/docker-" ID ".scope//", "docker", ID);
}

static void test_cgroup_file(void **state)
{
	static const char v2[] = "0::/system.slice/docker-" ID ".scope\n";
	static const char hybrid[] = "12:memory:/docker/x\n1:name=systemd:/init.scope\n0::/init\n";
	static const char v1[] = "4:cpu,cpuacct:/docker/x\n";
	char out[512], tiny[8];

	assert_int_equal(sw_container__cgroup_v2(v2, sizeof(v2) - 1, out, sizeof(out)),
			 (int)strlen("/system.slice/docker-" ID ".scope"));
	assert_string_equal(out, "/system.slice/docker-" ID ".scope");
	assert_int_equal(sw_container__cgroup_v2(hybrid, sizeof(hybrid) - 1, out, sizeof(out)), 5);
	assert_string_equal(out, "/init");
	assert_int_equal(sw_container__cgroup_v2(v1, sizeof(v1) - 1, out, sizeof(out)), -ENOENT);
	assert_int_equal(sw_container__cgroup_v2(v2, sizeof(v2) - 1, tiny, sizeof(tiny)),
			 -ENAMETOOLONG);
	/* no trailing newline */
	assert_int_equal(sw_container__cgroup_v2("0::/a", 5, out, sizeof(out)), 2);
	assert_string_equal(out, "/a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtimes),
		cmocka_unit_test(test_not_containers),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_cgroup_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
