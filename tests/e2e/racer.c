// SPDX-License-Identifier: Apache-2.0
/* A racing writer, made deterministic with userfaultfd: write(2) of two pages into FILE, the
 * first holding the secret read from VALUE_FILE, the second not yet there (registered with
 * userfaultfd). The kernel copies the first page into the file, then faults on the second;
 * the handler thread overwrites the first page with 'x' and only then supplies the second (a
 * zero page: no bytes move). So at the syscall's exit the buffer holds no secret, while the
 * file does. Usage: racer FILE VALUE_FILE */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long page;
static char *buf;
static int uffd;

static void *handler(void *arg)
{
	struct uffd_msg msg;
	struct uffdio_zeropage zp = {0};
	struct pollfd p = {.fd = uffd, .events = POLLIN};

	(void)arg;
	if (poll(&p, 1, 10000) != 1 || read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT) {
		fprintf(stderr, "racer: no page fault came\n");
		exit(2);
	}
	memset(buf, 'x', page); /* the kernel copied it already */
	zp.range.start = msg.arg.pagefault.address & ~(unsigned long long)(page - 1);
	zp.range.len = page;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zp)) {
		perror("racer: UFFDIO_ZEROPAGE");
		exit(2);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {0};
	pthread_t t;
	ssize_t n;
	int fd, vf;

	if (argc != 3)
		return 2;
	page = sysconf(_SC_PAGESIZE);
	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (buf == MAP_FAILED || uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		perror("racer: userfaultfd");
		return 2;
	}
	memset(buf, '.', page);
	vf = open(argv[2], O_RDONLY);
	n = vf >= 0 ? read(vf, buf, page - 1) : -1;
	if (n <= 0) {
		perror("racer: value");
		return 2;
	}
	buf[n] = '\n';
	reg.range.start = (unsigned long)buf + page;
	reg.range.len = page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) || pthread_create(&t, NULL, handler, NULL)) {
		perror("racer: register");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	n = fd >= 0 ? write(fd, buf, 2 * page) : -1;
	if (n != 2 * page) {
		perror("racer: write");
		return 2;
	}
	pthread_join(t, NULL);
	/* The buffer the hook read: no secret left in it. */
	if (memchr(buf, '\n', page)) {
		fprintf(stderr, "racer: the first page was not rewritten\n");
		return 2;
	}
	return close(fd) ? 2 : 0;
}
