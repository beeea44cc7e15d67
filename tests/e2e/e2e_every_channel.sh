#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every way bytes move that sprawlwatch reports rather than captures (README, "Every way bytes
# move"), used from C, each twice in one session: exactly one unmonitored_channel each, named —
# io_submit (Linux AIO), mq_timedsend, msgsnd, shmat, ptrace_poke, keyring (add_key), setxattr
# (user.*), tiocsti, ia32_syscall (writev through int 0x80 from a 64-bit process), sigqueue,
# uts (sethostname, in a UTS namespace of its own), bpf_map (a map update), userfaultfd
# (UFFDIO_COPY) and core_dump (the kernel writes a core file). Captured: write through int 0x80
# (the secret's file alert) and vmsplice into a pipe (the pipe alert). The int 0x80 rows run
# where the kernel offers the ia32 entry.
. "$(dirname "$0")/lib.sh"

cat >"$E2E_TMP/channels.c" <<'C'
/* Uses every channel sprawlwatch reports rather than captures, each twice (one alert each per
 * session), and the ia32 entry (int 0x80) from a 64-bit process: write (captured) and writev
 * (reported). argv[1]: a file holding the secret; argv[2]: a work directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <mqueue.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

static char secret[256];
static size_t slen;
static volatile long poked;

#define CHECK(what, cond)                                                                        \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "channels: %s: %s\n", what, strerror(errno));            \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

static void aio(const char *dir)
{
	char path[512];
	aio_context_t ctx = 0;
	struct iocb cb = {0}, *cbs[1] = {&cb};
	struct io_event ev;
	int fd;

	snprintf(path, sizeof(path), "%s/aio.out", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK("aio open", fd >= 0);
	CHECK("io_setup", syscall(SYS_io_setup, 4, &ctx) == 0);
	cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	cb.aio_fildes = fd;
	cb.aio_buf = (unsigned long)"aio bytes\n";
	cb.aio_nbytes = 10;
	CHECK("io_submit", syscall(SYS_io_submit, ctx, 1, cbs) == 1);
	CHECK("io_getevents", syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) == 1);
	syscall(SYS_io_destroy, ctx);
	close(fd);
}

static void mq(void)
{
	struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 64};
	char name[64];
	mqd_t q;

	snprintf(name, sizeof(name), "/sw-e2e-%d", getpid());
	q = mq_open(name, O_CREAT | O_RDWR, 0600, &a);
	CHECK("mq_open", q != (mqd_t)-1);
	CHECK("mq_send", mq_send(q, "mq bytes", 8, 0) == 0);
	mq_close(q);
	mq_unlink(name);
}

static void sysv_msg(void)
{
	struct {
		long type;
		char text[16];
	} m = {1, "msg bytes"};
	int id = msgget(IPC_PRIVATE, 0600);

	CHECK("msgget", id >= 0);
	CHECK("msgsnd", msgsnd(id, &m, sizeof(m.text), 0) == 0);
	msgctl(id, IPC_RMID, NULL);
}

static void sysv_shm(void)
{
	int id = shmget(IPC_PRIVATE, 4096, 0600);
	char *p;

	CHECK("shmget", id >= 0);
	p = shmat(id, NULL, 0);
	CHECK("shmat", p != (void *)-1);
	strcpy(p, "shm bytes");
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
}

static void poke(void)
{
	pid_t c = fork();
	int st;

	CHECK("fork", c >= 0);
	if (c == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		_exit(poked == 42 ? 0 : 3);
	}
	CHECK("waitpid stop", waitpid(c, &st, 0) == c && WIFSTOPPED(st));
	CHECK("PTRACE_POKEDATA", ptrace(PTRACE_POKEDATA, c, (void *)&poked, (void *)42L) == 0);
	CHECK("PTRACE_CONT", ptrace(PTRACE_CONT, c, 0, 0) == 0);
	CHECK("waitpid exit", waitpid(c, &st, 0) == c && WIFEXITED(st) && !WEXITSTATUS(st));
}

static void key(void)
{
	long k = syscall(SYS_add_key, "user", "sw-e2e", "key bytes", 9, KEY_SPEC_PROCESS_KEYRING);

	CHECK("add_key", k > 0);
}

static void xattr(const char *dir)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/xattr.file", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK("xattr open", fd >= 0);
	close(fd);
	CHECK("setxattr", setxattr(path, "user.sw_e2e", "xattr bytes", 11, 0) == 0);
}

static void tiocsti(void)
{
	int m, s;
	char c = 'x';

	CHECK("openpty", openpty(&m, &s, NULL, NULL, NULL) == 0);
	CHECK("TIOCSTI", ioctl(s, TIOCSTI, &c) == 0);
	close(s);
	close(m);
}

/* int 0x80 from this 64-bit process: the ia32 table, 32-bit pointers. */
static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static void compat(const char *dir)
{
	char path[512], *low;
	struct {
		unsigned int base, len;
	} *iov32;
	int fd;

	low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		   -1, 0);
	CHECK("mmap 32-bit", low != MAP_FAILED);
	memcpy(low, secret, slen);
	low[slen] = '\n';
	snprintf(path, sizeof(path), "%s/compat.out", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK("compat open", fd >= 0);
	/* i386 write = 4: captured like its 64-bit twin */
	CHECK("int 0x80 write", int80(4, fd, (long)low, slen + 1) == (long)slen + 1);
	/* i386 writev = 146: a 32-bit iovec, reported */
	iov32 = (void *)(low + 2048);
	iov32->base = (unsigned int)(unsigned long)low + 1024;
	iov32->len = 6;
	memcpy(low + 1024, "plain\n", 6);
	CHECK("int 0x80 writev", int80(146, fd, (long)iov32, 1) == 6);
	close(fd);
}

/* A name given through the ia32 table (mkdir = 39): not followed there, reported. */
static void compat_mkdir(const char *dir)
{
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	CHECK("mmap 32-bit", low != MAP_FAILED);
	snprintf(low, 4096, "%s/compat.dir", dir);
	CHECK("int 0x80 mkdir", int80(39, (long)low, 0700, 0) == 0);
}

static void sigqueue_self(void)
{
	union sigval v = {.sival_int = 42};

	signal(SIGUSR1, SIG_IGN);
	CHECK("sigqueue", sigqueue(getpid(), SIGUSR1, v) == 0);
}

/* sethostname in a UTS namespace of its own (the host's name stays). */
static void uts(void)
{
	pid_t c = fork();
	int st;

	CHECK("fork", c >= 0);
	if (c == 0)
		_exit(unshare(CLONE_NEWUTS) || sethostname("sw-e2e", 6) ? 1 : 0);
	CHECK("sethostname", waitpid(c, &st, 0) == c && WIFEXITED(st) && !WEXITSTATUS(st));
}

static void bpf_map(void)
{
	union bpf_attr a;
	int key = 0, fd;
	long val = 42;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	CHECK("bpf map create", fd >= 0);
	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)&val;
	CHECK("bpf map update", syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) == 0);
	close(fd);
}

/* UFFDIO_COPY: bytes placed into a registered range without a write. */
static void uffd(void)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {0};
	struct uffdio_copy cp = {0};
	long page = sysconf(_SC_PAGESIZE);
	char *dst, *src;
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	CHECK("userfaultfd", fd >= 0);
	CHECK("UFFDIO_API", ioctl(fd, UFFDIO_API, &api) == 0);
	dst = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("uffd mmap", dst != MAP_FAILED && src != MAP_FAILED);
	strcpy(src, "uffd bytes");
	reg.range.start = (unsigned long)dst;
	reg.range.len = page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	CHECK("UFFDIO_REGISTER", ioctl(fd, UFFDIO_REGISTER, &reg) == 0);
	cp.dst = (unsigned long)dst;
	cp.src = (unsigned long)src;
	cp.len = page;
	CHECK("UFFDIO_COPY", ioctl(fd, UFFDIO_COPY, &cp) == 0 && !strcmp(dst, "uffd bytes"));
	munmap(dst, page);
	munmap(src, page);
	close(fd);
}

static void core(const char *dir)
{
	struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};
	pid_t c = fork();
	int st;

	CHECK("fork", c >= 0);
	if (c == 0) {
		setrlimit(RLIMIT_CORE, &r);
		if (chdir(dir))
			_exit(2);
		raise(SIGSEGV);
		_exit(3);
	}
	CHECK("waitpid core", waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WCOREDUMP(st));
}

int main(int argc, char **argv)
{
	int fd, i, p[2];
	struct iovec v;
	char back[256];

	if (argc == 4 && !strcmp(argv[3], "ia32-mkdir")) {
		compat_mkdir(argv[2]);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "ia32-probe")) /* getpid = 20: the entry works */
		return int80(20, 0, 0, 0) == getpid() ? 0 : 1;
	if (argc != 3)
		return 2;
	fd = open(argv[1], O_RDONLY);
	CHECK("secret", fd >= 0);
	slen = read(fd, secret, sizeof(secret) - 1);
	CHECK("secret read", slen > 0);
	close(fd);
	while (slen && secret[slen - 1] == '\n')
		slen--;
	for (i = 0; i < 2; i++) {
		aio(argv[2]);
		mq();
		sysv_msg();
		sysv_shm();
		poke();
		key();
		xattr(argv[2]);
		tiocsti();
		if (getenv("IA32")) /* (a kernel without ia32 emulation faults int 0x80) */
			compat(argv[2]);
		sigqueue_self();
		uts();
		bpf_map();
		uffd();
	}
	core(argv[2]); /* once: its own process; a second would be a second place */
	/* vmsplice: captured as a write into the pipe */
	CHECK("pipe", pipe(p) == 0);
	v.iov_base = secret;
	v.iov_len = slen;
	CHECK("vmsplice", vmsplice(p[1], &v, 1, 0) == (ssize_t)slen);
	CHECK("pipe read", read(p[0], back, sizeof(back)) == (ssize_t)slen);
	return 0;
}
C
cc -O2 -Wall -o "$E2E_TMP/channels" "$E2E_TMP/channels.c" || { echo "FAIL: cc"; exit 1; }

# The ia32 entry is the kernel's to offer: without ia32 emulation (CONFIG_IA32_EMULATION off,
# or ia32_emulation=0) int 0x80 faults (SIGSEGV) and no bytes move through it; then its rows
# are checked to be absent, not skipped.
CHANNELS=("$E2E_TMP/channels" "$E2E_TMP/value" "$WORK")
if (ulimit -c 0 && "$E2E_TMP/channels" ia32-probe 2>/dev/null); then
	IA32=1
	echo "  (this kernel offers the ia32 entry: int 0x80 rows run)"
else
	IA32=
	echo "  (this kernel has no ia32 entry: int 0x80 faults, so no bytes move through it)"
fi
NCH=$((IA32 ? 14 : 13))

e2e_start
T=$(new_secret CHANNEL_KEY)
printf '%s\n' "$T" >"$E2E_TMP/value"
check "the channels program ran every channel" \
	env ${IA32:+IA32=1} "$SPRAWLCTL" run -- "${CHANNELS[@]}"
wait_alerts $NCH "a['kind']=='unmonitored_channel'" 15
barrier
for ch in io_submit mq_timedsend msgsnd shmat ptrace_poke keyring setxattr tiocsti \
	${IA32:+ia32_syscall} sigqueue uts bpf_map userfaultfd core_dump; do
	expect_alerts "$ch: exactly one unmonitored_channel" 1 \
		"a['kind']=='unmonitored_channel' and a['channel']=='$ch' and a['process']['comm']=='channels'"
done
expect_alerts "no other unmonitored_channel" $NCH "a['kind']=='unmonitored_channel'"
if [ -n "$IA32" ]; then
	# A name given through the ia32 table, in a session of its own (ia32_syscall is once a
	# session).
	check "mkdir through int 0x80 ran" "$SPRAWLCTL" run -- "${CHANNELS[@]}" ia32-mkdir
	wait_alerts 15 "a['kind']=='unmonitored_channel'" 15
	expect_alerts "ia32 mkdir (a name given): reported, ia32_syscall" 2 \
		"a['kind']=='unmonitored_channel' and a['channel']=='ia32_syscall' and a['process']['comm']=='channels'"
	expect_alerts "write through int 0x80 (the ia32 table) is captured: the file alert" 1 \
		"a['kind']=='secret_spread' and a['artifact']['type']=='file' and a['artifact']['path']=='$WORK/compat.out' and a['secret']['name']=='CHANNEL_KEY'"
else
	check "int 0x80 faults in a session too (mkdir: no directory made)" \
		bash -c "exec 2>/dev/null; ulimit -c 0; ! '$SPRAWLCTL' run -- ${CHANNELS[*]} ia32-mkdir && ! test -e '$WORK/compat.dir'"
fi
expect_alerts "vmsplice into a pipe is captured: the pipe alert" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='pipe' and a['process']['comm']=='channels'"
expect_alerts "nothing else of the secret" $((IA32 ? 2 : 1)) "a['kind']=='secret_spread'"
rm -f "$WORK"/core*
expect_no_plaintext "$T"
e2e_finish
