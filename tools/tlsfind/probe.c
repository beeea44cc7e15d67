// SPDX-License-Identifier: Apache-2.0
/* tlsfind-probe: checks offsets from sw_tlsfind__scan for real. Runs CMD, with a uprobe at
 * each TLS write function sw_tlsfind__scan finds in BINARY that copies, for CMD's process only, the
 * connection pointer (1st argument), the length (3rd) and up to CAP bytes of the buffer (2nd)
 * into a ring buffer; writes what it saw to OUT, one record per call:
 *
 *   u64 conn, u64 len, then min(len, CAP) bytes
 *
 * and prints "calls=N bytes=M over_cap=K". The BPF program is a dozen instructions written
 * here (no clang -target bpf, no skeleton), so the check needs only libbpf.
 *
 *   tlsfind-probe [-b BINARY] [-t SECONDS] OUT -- CMD [ARG...]
 *
 * BINARY defaults to CMD (PATH looked up); CMD is killed after SECONDS (default 60). Needs
 * root. A test tool: tests/tlsfind/verify_uprobe.sh drives it. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tlsfind.h"

#define CAP	   16384 /* bytes of each buffer kept: a TLS record's worth */
#define RING_BYTES (64u << 20)

/* struct pt_regs on x86-64. */
#define REG_DX 96
#define REG_SI 104
#define REG_DI 112

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV64_REG(d, s)	     INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i)	     INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALU64_IMM(op, d, i)  INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define LDX64(d, s, o)	     INSN(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define STX64(d, s, o)	     INSN(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define ST32(d, o, i)	     INSN(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define JMP_IMM(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define CALL(f)		     INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()		     INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_MAP(d, fd)                                                                              \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)

struct rec {
	uint64_t conn;
	uint64_t len;
	uint8_t data[CAP];
};

static FILE *out;
static unsigned long long calls, bytes, over_cap;

static int load(int tgid, int scratch, int ring)
{
	struct bpf_insn prog[] = {
		MOV64_REG(BPF_REG_6, BPF_REG_1),
		CALL(BPF_FUNC_get_current_pid_tgid),
		ALU64_IMM(BPF_RSH, BPF_REG_0, 32),
		JMP_IMM(BPF_JNE, BPF_REG_0, tgid, 26), /* not CMD's process: out */
		ST32(BPF_REG_10, -4, 0),
		LD_MAP(BPF_REG_1, scratch),
		MOV64_REG(BPF_REG_2, BPF_REG_10),
		ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
		CALL(BPF_FUNC_map_lookup_elem),
		JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 19),
		MOV64_REG(BPF_REG_7, BPF_REG_0),
		LDX64(BPF_REG_1, BPF_REG_6, REG_DI),
		STX64(BPF_REG_7, BPF_REG_1, 0),
		LDX64(BPF_REG_2, BPF_REG_6, REG_DX),
		/* The length is an int (size_t for gnutls): keep 32 bits, cap at CAP. */
		ALU64_IMM(BPF_LSH, BPF_REG_2, 32),
		ALU64_IMM(BPF_RSH, BPF_REG_2, 32),
		STX64(BPF_REG_7, BPF_REG_2, 8),
		JMP_IMM(BPF_JLE, BPF_REG_2, CAP, 1),
		MOV64_IMM(BPF_REG_2, CAP),
		LDX64(BPF_REG_3, BPF_REG_6, REG_SI),
		MOV64_REG(BPF_REG_1, BPF_REG_7),
		ALU64_IMM(BPF_ADD, BPF_REG_1, 16),
		CALL(BPF_FUNC_probe_read_user),
		LD_MAP(BPF_REG_1, ring),
		MOV64_REG(BPF_REG_2, BPF_REG_7),
		MOV64_IMM(BPF_REG_3, sizeof(struct rec)),
		MOV64_IMM(BPF_REG_4, 0),
		CALL(BPF_FUNC_ringbuf_output),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	static char log[1 << 16];

	opts.log_buf = log;
	opts.log_size = sizeof(log);
	opts.log_level = 1;
	{
		int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "tlsfind_probe", "GPL", prog,
				       sizeof(prog) / sizeof(prog[0]), &opts);
		if (fd < 0)
			fprintf(stderr, "tlsfind-probe: load: %s\n%s\n", strerror(-fd), log);
		return fd;
	}
}

static int on_rec(void *ctx, void *data, size_t size)
{
	(void)ctx;
	const struct rec *r = data;
	uint64_t keep;

	if (size < sizeof(*r))
		return 0;
	keep = r->len < CAP ? r->len : CAP;
	calls++;
	bytes += r->len;
	over_cap += r->len > CAP;
	fwrite(&r->conn, 8, 1, out);
	fwrite(&r->len, 8, 1, out);
	fwrite(r->data, 1, keep, out);
	return 0;
}

static int uprobe_type(void)
{
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	int t = -1;

	if (f) {
		if (fscanf(f, "%d", &t) != 1)
			t = -1;
		fclose(f);
	}
	return t;
}

int main(int argc, char **argv)
{
	const char *binary = NULL, *outpath;
	int opt, secs = 60, gate[2], scratch, ring, prog, type, i, status = 0;
	struct sw_tls_hook hooks[4];
	int pfd[4];
	struct ring_buffer *rb;
	char resolved[4096];
	time_t deadline;
	pid_t child;
	int n;

	while ((opt = getopt(argc, argv, "b:t:")) != -1) {
		if (opt == 'b')
			binary = optarg;
		else if (opt == 't')
			secs = atoi(optarg);
		else
			return EXIT_FAILURE;
	}
	if (argc - optind < 2) {
		fprintf(stderr,
			"usage: tlsfind-probe [-b BINARY] [-t SECONDS] OUT -- CMD [ARG...]\n");
		return EXIT_FAILURE;
	}
	outpath = argv[optind++];
	if (!binary) {
		char cmd[4200];
		FILE *p;

		snprintf(cmd, sizeof(cmd), "command -v '%s'", argv[optind]);
		p = popen(cmd, "r");
		if (!p || !fgets(resolved, sizeof(resolved), p)) {
			fprintf(stderr, "tlsfind-probe: %s: not found\n", argv[optind]);
			return EXIT_FAILURE;
		}
		pclose(p);
		resolved[strcspn(resolved, "\n")] = 0;
		binary = resolved;
	}
	n = sw_tlsfind__scan(binary, hooks, 4);
	if (n <= 0) {
		fprintf(stderr, "tlsfind-probe: %s: no TLS write function found (%d)\n", binary, n);
		return EXIT_FAILURE;
	}
	for (i = 0; i < n; i++)
		printf("hook: %s fn=%d how=%d stack=%s offset=0x%llx\n", binary, hooks[i].fn,
		       hooks[i].how, hooks[i].stack, hooks[i].offset);
	out = fopen(outpath, "w");
	if (!out || pipe(gate))
		return EXIT_FAILURE;
	child = fork();
	if (child < 0)
		return EXIT_FAILURE;
	if (child == 0) {
		char c;

		close(gate[1]);
		if (read(gate[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(gate[0]);
	scratch = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "scratch", 4, sizeof(struct rec), 1,
				 NULL);
	ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ring", 0, 0, RING_BYTES, NULL);
	prog = scratch >= 0 && ring >= 0 ? load(child, scratch, ring) : -1;
	type = uprobe_type();
	if (prog < 0 || type < 0) {
		fprintf(stderr, "tlsfind-probe: cannot set up the uprobe\n");
		kill(child, SIGKILL);
		return EXIT_FAILURE;
	}
	/* One event per function, on CPU 0 with no task, as libbpf does: a BPF program attached
	 * to a uprobe runs for every hit on any CPU (the program hangs off the probe, not the
	 * event), so one event per CPU would run it once per CPU. */
	for (i = 0; i < n; i++) {
		struct perf_event_attr attr = {0};

		attr.size = sizeof(attr);
		attr.type = (uint32_t)type;
		attr.config1 = (uint64_t)(uintptr_t)binary;
		attr.config2 = hooks[i].offset;
		pfd[i] = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
		if (pfd[i] < 0 || ioctl(pfd[i], PERF_EVENT_IOC_SET_BPF, prog) ||
		    ioctl(pfd[i], PERF_EVENT_IOC_ENABLE, 0)) {
			fprintf(stderr, "tlsfind-probe: uprobe at 0x%llx: %s\n", hooks[i].offset,
				strerror(errno));
			kill(child, SIGKILL);
			return EXIT_FAILURE;
		}
	}
	rb = ring_buffer__new(ring, on_rec, NULL, NULL);
	if (!rb || write(gate[1], "go", 1) != 1) {
		kill(child, SIGKILL);
		return EXIT_FAILURE;
	}
	deadline = time(NULL) + secs;
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);

		ring_buffer__poll(rb, 100);
		if (w == child)
			break;
		if (time(NULL) > deadline) {
			fprintf(stderr, "tlsfind-probe: %s still running after %d s: killed\n",
				argv[optind], secs);
			kill(child, SIGKILL);
		}
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	fclose(out);
	printf("calls=%llu bytes=%llu over_cap=%llu exit=%d\n", calls, bytes, over_cap,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return EXIT_SUCCESS;
}
