/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The record format shared by the kernel programs and userspace. Fixed-size types and
 * explicit padding only; every layout is pinned with _Static_assert. Every record starts with
 * struct sw_hdr; variable data sits at the tail and its lengths are in the fixed part. */
#ifndef SPRAWL_EVENTS_H
#define SPRAWL_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SW_COMM_LEN 16
#define SW_PATH_LEN 4096  /* path tail buffer; longer paths keep their last part */
#define SW_CHUNK    16384 /* data bytes per record: a larger buffer becomes chunks */
/* argv and environment areas copied per exec, each; the kernel allows 2 MiB for both with the
 * default 8 MiB stack, agents use a few KiB to a few tens of KiB */
#define SW_ARGS_LEN	     (256u << 10)
#define SW_ENV_LEN	     (256u << 10)
#define SW_DEFAULT_MAX_BYTES (1u << 20) /* per syscall, before counted truncation */
/* The kernel records' layout: raised whenever a record the kernel makes changes, so that a
 * daemon never reads another layout from a ring that programs of an older build filled.
 * 2: fork and exec records carry the cgroup id; 3: the tlslib record its address, generation,
 * flags and an unknown file's path. */
#define SW_RECORD_FORMAT 3

enum sw_event_type {
	SW_EV_FORK = 1,
	SW_EV_EXEC = 2,
	SW_EV_EXIT = 3,
	SW_EV_DATA = 4,
	SW_EV_OPEN = 5,	  /* a session process opened a secret's origin, or made a file (O_CREAT) */
	SW_EV_RENAME = 6, /* a name given: rename, link, mkdir, mknod, symlink */
	SW_EV_CHANNEL = 7, /* a channel syscalls cannot show (io_uring, shared mmap, ...) */
	SW_EV_TLSLIB = 8,  /* a session process mapped (or exec'd) a file with a TLS stack: it is
			    * stopped until the daemon has attached the TLS uprobes for it */
	/* Made by the daemon, never by the kernel: what the pipeline learned from elsewhere, kept
	 * in the trace log so a replay feeds the pipeline exactly what the live run did. */
	SW_EV_SESSION = 100, /* a session the daemon started (sprawlctl run, watch, adoption) */
	SW_EV_READER = 101,  /* the process found reading a pipe */
	SW_EV_LOSS = 102,    /* loss counter deltas */
	SW_EV_RENAMED = 103, /* what a rename's new name turned out to be (dev, ino) */
	SW_EV_TICK = 104,    /* time passes: the wall clock at hdr.ktime; held alerts come due */
	SW_EV_PROC = 105,    /* what /proc says of a process the pipeline never saw exec */
	SW_EV_CLOSED = 106,  /* a session process closed a file of the read-back set */
	SW_EV_RULES = 107,   /* the rule files the daemon runs: a replay runs the same */
	SW_EV_GUARDED = 108, /* what became of a held TLS write (guard): the verdict carried out */
};

/* Guard mode (--guard, policy guard:): what a TLS write of a session process holding a tracked
 * secret meets. The kernel holds every TLS write of a session process unless it is alert. */
enum sw_guard {
	SW_GUARD_ALERT = 0,
	SW_GUARD_REDACT = 1, /* the secret is overwritten in the writer's buffer, then it goes */
	SW_GUARD_BLOCK = 2,  /* the writer is killed */
};

/* sw_guarded_rec.action */
enum sw_guard_action {
	SW_GA_RESUMED = 1,  /* nothing to do: resumed */
	SW_GA_REDACTED = 2, /* spans overwritten, resumed */
	SW_GA_KILLED = 3,   /* the writer killed */
	SW_GA_FAILOPEN = 4, /* no verdict in time: resumed as it was */
};

/* agent_comms map value for an interpreter (node, python3, ...): not an agent by itself. */
#define SW_AGENT_INTERP 0xffffffffu

/* Header flags. */
enum sw_flags {
	SW_F_TRUNCATED = 1 << 0,   /* data beyond the per-syscall cap was not sent */
	SW_F_FIRST = 1 << 1,	   /* first chunk of a syscall: carries the artifact path */
	SW_F_LAST = 1 << 2,	   /* last chunk of a syscall */
	SW_F_PATH_TRUNC = 1 << 3,  /* path longer than SW_PATH_LEN or deeper than the walk */
	SW_F_READ_ERR = 1 << 4,	   /* a user or kernel read failed: data missing */
	SW_F_ARGS_TRUNC = 1 << 5,  /* exec argv longer than SW_ARGS_LEN */
	SW_F_ENV_TRUNC = 1 << 6,   /* exec environment longer than SW_ENV_LEN */
	SW_F_NEW_SESSION = 1 << 7, /* exec started a session (agent rule matched) */
	SW_F_CANDIDATE = 1 << 9,   /* exec of an interpreter outside any session: the daemon
				    * decides from argv whether it runs an agent */
	SW_F_COPY = 1 << 8,	   /* data record of a copy without a user buffer: no data,
				    * the source is in src_* */
	SW_F_READBACK = 1 << 10,   /* daemon-made data record: bytes read back from a file (a
				    * copy's source, or the file itself with SW_F_RESCAN) */
	SW_F_RESCAN = 1 << 11,	   /* read-back of a whole file at close or exit: matched as a
				    * fresh stream of that file, offset = position in the file */
	SW_F_SETTLED = 1 << 13,	   /* read-back at a close: the closer holds the file no more
				    * (no descriptor, no mapping), so this read-back is final */
	SW_F_GONE = 1 << 12,	   /* read-back: the file was deleted or replaced before it could
				    * be read; nothing is left there to spread from */
	/* SW_EV_TICK only (on data records this bit is SW_F_COPY): the secret index the source
	 * staged as hdr.session_id takes effect here (the daemon built it off its event loop). */
	SW_F_INDEX = 1 << 8,
	SW_F_HELD = 1 << 14, /* TLS write in guard mode: the writer is stopped (SIGSTOP)
			      * until the daemon's verdict is carried out */
	/* Loss records only (on exec records this bit is SW_F_CANDIDATE): the window no daemon
	 * ran (down_* fields). */
	SW_F_DOWN = 1 << 9,
	/* Data records of regular files only (on exec records this bit is SW_F_NEW_SESSION): a
	 * write of a process whose memory other threads share: one of them may have rewritten
	 * the buffer while the syscall ran, so the daemon compares the file's range (src_pos) with
	 * the bytes it got, and reads it back when they differ. */
	SW_F_SHARED_MM = 1 << 7,
	SW_F_PEER_GUESS = 1 << 15, /* TLS write: the socket is the one the thread wrote last, not
				    * yet known to be its SSL object's (its next write tells) */
};

/* sw_data_rec.syscall_nr of a TLS write seen by a uprobe: SW_NR_TLS + enum sw_tlsw (the
 * uprobe's attach cookie). Above every real syscall number. */
#define SW_NR_TLS 0x10000u
enum sw_tlsw {
	SW_TLSW_SSL_WRITE = 1,
	SW_TLSW_SSL_WRITE_EX = 2,
	SW_TLSW_GNUTLS_SEND = 3,
};

/* Ways bytes move that the data records do not carry (README, "Every way bytes move"). */
enum sw_channel {
	SW_CH_IO_URING = 1,
	SW_CH_MMAP_SHARED = 2,
	SW_CH_PROCESS_VM_WRITEV = 3,
	SW_CH_IO_SUBMIT = 4,	/* Linux AIO: io_submit of a write or send */
	SW_CH_MQ_TIMEDSEND = 5, /* POSIX message queue */
	SW_CH_MSGSND = 6,	/* System V message queue */
	SW_CH_SHMAT = 7,	/* System V shared memory attached writable */
	SW_CH_PTRACE_POKE = 8,	/* ptrace POKE/SETREGS: bytes into another process */
	SW_CH_KEYRING = 9,	/* add_key, keyctl update/instantiate: a key's payload */
	SW_CH_XATTR = 10,	/* setxattr family: bytes into a file's extended attributes */
	SW_CH_COMPAT = 11,	/* a 32-bit (int 0x80, ia32) syscall that moves bytes, other
				 * than write (which is captured) */
	SW_CH_CORE_DUMP = 12,	/* the kernel wrote a core dump of a session process (made by
				 * the pipeline from the exit record) */
	SW_CH_TIOCSTI = 13,	/* ioctl TIOCSTI: bytes pushed into a terminal's input */
	SW_CH_SIGQUEUE = 14,	/* a signal with a siginfo payload (rt_sigqueueinfo, ...) */
	SW_CH_UTS = 15,		/* sethostname, setdomainname: bytes every process reads */
	SW_CH_BPF_MAP = 16,	/* bpf(BPF_MAP_UPDATE_*): bytes into a kernel map */
	SW_CH_UFFD_COPY = 17,	/* userfaultfd UFFDIO_COPY/MOVE: bytes into a registered range,
				 * maybe of another process */
	SW_CH_TLS = 18, /* a TLS stack that cannot be hooked (rustls, Go, an unknown build) */
	SW_CH_FALLOC_SHIFT = 19, /* fallocate COLLAPSE_RANGE/INSERT_RANGE: a file's bytes moved
				  * within it (pieces written apart made adjacent); the file is
				  * read back like a shared mapping's */
};

enum sw_art_kind {
	SW_AK_NONE = 0,
	SW_AK_FILE = 1,	  /* regular file: dev, ino, path */
	SW_AK_SOCKET = 2, /* family, sock_type, protocol, addr, port; unix peer path as path */
	SW_AK_PIPE = 3,	  /* pipe or FIFO: dev, ino (userspace finds the reader) */
	SW_AK_TTY = 4,	  /* terminal: rdev, path */
	SW_AK_TLS = 5,	  /* plaintext of a TLS write (uprobe): the socket as for SW_AK_SOCKET,
			   * fd = the socket the writer's thread wrote last, -1 if none */
	/* Daemon-made (SW_F_READBACK) only: a git object read from a repository's object store
	 * for the pipeline (SW_REQ_GIT_BASE): ino = the request's token, syscall_nr = the object's
	 * type, total = its size, offset = the chunk's offset in it. */
	SW_AK_GITOBJ = 6,
};

/* Common header of every record. */
struct sw_hdr {
	__u16 type;  /* enum sw_event_type */
	__u16 flags; /* enum sw_flags */
	__u32 size;  /* whole record, header included */
	__u64 ktime; /* bpf_ktime_get_ns() */
	__u32 pid;   /* thread id */
	__u32 tgid;  /* process id */
	__u32 ppid;  /* parent process id */
	__u32 uid;
	__u64 session_id;
	char comm[SW_COMM_LEN];
};
_Static_assert(sizeof(struct sw_hdr) == 56, "sw_hdr layout");

/* sw_scope.flags */
enum sw_scope_flags {
	SW_SCOPE_IO_URING = 1 << 0, /* the process set up io_uring: its writable opens are
				     * reported so the files can be read back */
	/* The process's memory has been shared (a thread, a CLONE_VM child) since its exec: a
	 * racing thread may have exited before the write it raced returns, so the count of
	 * users at the write's exit is not enough. */
	SW_SCOPE_SHARED_MM = 1 << 1,
};

/* Value of the scope map (tgid -> session). */
struct sw_scope {
	__u64 session_id;
	__u32 root_pid;
	__u32 flags;
};
_Static_assert(sizeof(struct sw_scope) == 16, "sw_scope layout");

/* SW_EV_FORK: hdr.pid/tgid are the child, hdr.ppid the parent process. */
struct sw_fork_rec {
	struct sw_hdr hdr;
	__u32 parent_tgid;
	__u32 child_tgid;
	__u64 cgroup_id; /* the child's cgroup v2 (its directory's inode) at the fork */
};
_Static_assert(sizeof(struct sw_fork_rec) == 72, "sw_fork_rec layout");

/* SW_EV_EXEC: tail = filename[filename_len] argv[args_len] env[env_len]; argv and env are
 * NUL-separated strings as in the process image. */
struct sw_exec_rec {
	struct sw_hdr hdr;
	__u32 filename_len;
	__u32 args_len;
	__u32 env_len;
	__u32 old_pid;
	__u64 cgroup_id; /* the process's cgroup v2 (its directory's inode) at the exec */
};
_Static_assert(sizeof(struct sw_exec_rec) == 80, "sw_exec_rec layout");

/* SW_EV_EXIT: the whole thread group has exited. */
struct sw_exit_rec {
	struct sw_hdr hdr;
	__s32 exit_code;
	__u32 pad;
};
_Static_assert(sizeof(struct sw_exit_rec) == 64, "sw_exit_rec layout");

/* SW_EV_DATA: bytes a session process wrote. tail = path[path_len] data[data_len]; path only
 * in the SW_F_FIRST chunk. A copy (SW_F_COPY) has no data: tail = path src_path. A syscall's chunks
 * arrive in order, offset = position in the syscall's byte stream. */
struct sw_data_rec {
	struct sw_hdr hdr;
	__u32 syscall_nr;
	__s32 fd;
	__u64 total;	/* true byte count the syscall returned */
	__u64 offset;	/* offset of this chunk within the syscall's bytes */
	__s64 file_pos; /* pwrite position, -1 when the file position was used */
	__u64 dev;
	__u64 ino;
	__u32 path_len;
	__u32 data_len;
	__u16 art_kind;	 /* enum sw_art_kind */
	__u16 family;	 /* socket: AF_INET, AF_INET6, AF_UNIX */
	__u16 sock_type; /* socket: SOCK_STREAM, SOCK_DGRAM */
	__u16 protocol;	 /* socket: IPPROTO_TCP, IPPROTO_UDP */
	__u16 port;	 /* socket: peer port, host order */
	__u16 guard;	 /* TLS with SW_F_HELD: enum sw_guard (file_pos: the buffer's address) */
	__u32 rdev;	 /* tty: device number (kernel encoding) */
	__u8 addr[16];	 /* socket: peer address (IPv4 in the first 4 bytes) */
	/* SW_F_COPY: the source of copy_file_range, sendfile, splice or tee */
	__u64 src_dev;
	__u64 src_ino;
	/* first byte copied, -1 when unknown (pipes); a file write flagged SW_F_SHARED_MM: the
	 * file position of the syscall's first byte */
	__s64 src_pos;
	__u16 src_kind; /* enum sw_art_kind */
	__u16 pad1;
	__u32 src_path_len; /* source path after the destination path in the tail */
	__u32 gen;	    /* file: inode generation, tells a reused inode number apart */
	__u32 pad2;
};
_Static_assert(sizeof(struct sw_data_rec) == 184, "sw_data_rec layout");

/* SW_EV_SESSION: hdr.session_id, hdr.tgid = the root. */
struct sw_session_rec {
	struct sw_hdr hdr;
	char agent[64];
};
_Static_assert(sizeof(struct sw_session_rec) == 120, "sw_session_rec layout");

/* SW_EV_READER: hdr.tgid read the pipe (kernel dev, ino), 0 when nobody was found; tail =
 * exe[exe_len], the reader's executable. */
struct sw_reader_rec {
	struct sw_hdr hdr;
	__u64 dev;
	__u64 ino;
	__u32 exe_len;
	__u32 pad;
};
_Static_assert(sizeof(struct sw_reader_rec) == 80, "sw_reader_rec layout");

/* SW_EV_TICK: the wall clock (CLOCK_REALTIME, ns) when CLOCK_MONOTONIC was hdr.ktime. Alert
 * times are record times mapped through the latest tick. SW_F_FIRST: a daemon's first tick;
 * SW_F_LAST: its last (it stops: every live process's files are read back). */
struct sw_tick_rec {
	struct sw_hdr hdr;
	__u64 realtime_ns;
};
_Static_assert(sizeof(struct sw_tick_rec) == 64, "sw_tick_rec layout");

/* SW_EV_PROC: hdr names the process (tgid, ppid, uid, session, comm); tail = exe[exe_len]
 * args[args_len] (NUL-separated) cgroup[cgroup_len] (its cgroup v2 path). */
struct sw_proc_rec {
	struct sw_hdr hdr;
	__u32 exe_len;
	__u32 args_len;
	__u32 cgroup_len;
	__u32 pad;
};
_Static_assert(sizeof(struct sw_proc_rec) == 72, "sw_proc_rec layout");

/* SW_EV_CLOSED: hdr.tgid closed (dev in stat's encoding, ino) after writing it. */
struct sw_closed_rec {
	struct sw_hdr hdr;
	__u64 dev;
	__u64 ino;
};
_Static_assert(sizeof(struct sw_closed_rec) == 72, "sw_closed_rec layout");

/* SW_EV_RULES: tail = nfiles times { __u32 name_len, __u32 text_len, name, text }, len bytes in
 * all: the rule files as the daemon loaded them. */
struct sw_rules_rec {
	struct sw_hdr hdr;
	__u32 nfiles;
	__u32 len;
};
_Static_assert(sizeof(struct sw_rules_rec) == 64, "sw_rules_rec layout");
#define SW_RULES_REC_MAX (768u << 10) /* rule text a rules record carries */

/* SW_EV_GUARDED: hdr names the held writer (tgid, and the thread in pid); result 0 or a
 * negative errno (the overwrite or the signal failed). */
struct sw_guarded_rec {
	struct sw_hdr hdr;
	__u32 action; /* enum sw_guard_action */
	__s32 result;
	__u32 spans; /* spans overwritten */
	__u32 pad;
};
_Static_assert(sizeof(struct sw_guarded_rec) == 72, "sw_guarded_rec layout");

/* SW_EV_RENAMED: tail = path[path_len]; dev in stat's encoding. */
struct sw_renamed_rec {
	struct sw_hdr hdr;
	__u64 dev;
	__u64 ino;
	__u32 path_len;
	__u32 pad;
};
_Static_assert(sizeof(struct sw_renamed_rec) == 80, "sw_renamed_rec layout");

/* Key of the origins map: (dev, ino) of every secret's origin file, dev in kernel encoding. */
struct sw_inode_key {
	__u64 dev;
	__u64 ino;
};
_Static_assert(sizeof(struct sw_inode_key) == 16, "sw_inode_key layout");

/* SW_EV_OPEN: tail = path[path_len]. */
struct sw_open_rec {
	struct sw_hdr hdr;
	__u64 dev;
	__u64 ino;
	__u32 open_flags;
	__u32 path_len;
	__u32 gen;
	__u32 origin; /* 1: the kernel's origins map held the file (an exposure, not only a name
		       * made; a replay's set may hold origins the live one did not yet) */
};
_Static_assert(sizeof(struct sw_open_rec) == 88, "sw_open_rec layout");

/* SW_EV_RENAME: a name a session process gave: a rename's or link's new name, or a new
 * directory, node or symlink (syscall_nr tells which). tail = dir[dir_len] name[name_len]
 * target[target_len]; the new name is dir + "/" + name unless name is absolute (dir_len 0);
 * target: a symlink's (0 for the others). */
struct sw_rename_rec {
	struct sw_hdr hdr;
	__u32 syscall_nr;
	__u32 dir_len;
	__u32 name_len;
	__u32 target_len;
	__u64 pad2[2]; /* the kernel builds open, rename and channel records in one
			* scratch union: all three must be the same size */
};
_Static_assert(sizeof(struct sw_rename_rec) == 88, "sw_rename_rec layout");

/* SW_CH_TLS: which stack it is (sw_channel_rec.detail). */
enum sw_tls_stack {
	SW_STACK_UNKNOWN = 0,
	SW_STACK_RUSTLS = 1,
	SW_STACK_GO = 2,
	SW_STACK_BORINGSSL = 3, /* linked in, SSL_write not found (an unknown build) */
	SW_STACK_LATE = 4,	/* hooked, but after the process (a foreground job) wrote TCP */
	SW_STACK_OPENSSL = 5,	/* linked in, SSL_write not found (stripped) */
	SW_STACK_UNHOOKED = 6,	/* hookable, but its uprobes could not be attached */
	SW_STACK_JAVA = 7,	/* the JVM: TLS in Java code (JSSE) */
};

/* SW_EV_CHANNEL: tail = path[path_len] of the mapped file (shared mmap), of the executable
 * (SW_CH_TLS, made by the daemon). */
struct sw_channel_rec {
	struct sw_hdr hdr;
	__u32 channel; /* enum sw_channel */
	__u32 path_len;
	__u64 dev; /* SW_CH_TLS: stat's encoding */
	__u64 ino;
	__u32 gen;
	__u32 detail; /* SW_CH_TLS: enum sw_tls_stack; else 0 */
};
_Static_assert(sizeof(struct sw_channel_rec) == 88, "sw_channel_rec layout");

/* SW_EV_TLSLIB: hdr.tgid mapped executable, or made executable with mprotect, (addr: the
 * mapping's start) or exec'd (addr 0) the file (dev in
 * kernel encoding, ino, gen): one of the tls_files map, or (SW_TLSLIB_UNKNOWN) one the daemon
 * has not looked at (in neither tls_files nor tls_seen); it is stopped until the daemon
 * resumes it, unless it is a job in a terminal's foreground (SW_TLSLIB_NOT_STOPPED). An unknown
 * file's record has its path as tail (hdr.size - sizeof: a process not stopped may be gone
 * before the daemon looks). */
enum {
	SW_TLSLIB_UNKNOWN = 1 << 0,
	SW_TLSLIB_NOT_STOPPED = 1 << 1,
	SW_TLSLIB_FORKED = 1 << 2, /* a child of a process with TLS hooks (no file: dev, ino 0) */
	SW_TLSLIB_NO_DAEMON = 1 << 3, /* not stopped: no daemon ran to resume it (a coverage_gap
				       * for the window says what ran unwatched) */
	SW_TLSLIB_RESCAN = 1 << 4,    /* mprotect made a range executable the kernel could not
				       * look at (no file: dev, ino 0; addr: the range's start): every
				       * executable mapping of the process is looked at */
};
struct sw_tlslib_rec {
	struct sw_hdr hdr;
	__u64 dev;
	__u64 ino;
	__u64 addr;
	__u32 gen;
	__u32 flags; /* SW_TLSLIB_* */
};
_Static_assert(sizeof(struct sw_tlslib_rec) == 88, "sw_tlslib_rec layout");

/* Value of the tls_held map (tgid -> why it was stopped, when). */
enum sw_hold_why {
	SW_HOLD_ATTACH = 1, /* mapped a TLS stack: resumed once the uprobes are attached */
	SW_HOLD_GUARD = 2,  /* a TLS write: resumed (or killed) by the guard's verdict */
};
struct sw_hold {
	__u64 ktime;
	__u32 why; /* enum sw_hold_why */
	__u32 tid;
};
_Static_assert(sizeof(struct sw_hold) == 16, "sw_hold layout");

/* Value of the spills map, keyed by the file (sw_inode_key): file bytes a session wrote that the
 * ring had no room for. Userspace takes the entry and reads its ranges back from the file. A
 * spill joins the range it touches; one touching none takes a free range, else it widens the
 * last (which then covers bytes the ring carried: read again, never missed). */
#define SW_SPILL_RANGES 4
struct sw_spill_range {
	__u64 start, end; /* file bytes [start, end); start == end: unused */
};
struct sw_spill {
	struct sw_hdr hdr; /* the first write spilled: its process and session */
	struct sw_spill_range r[SW_SPILL_RANGES];
	__u32 gen;	/* inode generation */
	__s32 fd;	/* the writer's descriptor, to reopen the file if its path fails */
	__u32 writes;	/* syscalls spilled into this entry */
	__u32 path_len; /* 0: unknown or cut */
	/* Bit i: range i is read back on past its end (what the file holds): an edge range, or a
	 * range one joined, so bytes across that edge are scanned together (spill_edge_ring,
	 * fileorder.bpf.h). */
	__u32 edge;
	/* Bit i: range i holds only bytes the ring carried too (an edge range alone): writes do
	 * not join it, and a write over it is not lost. */
	__u32 carried;
	char path[SW_PATH_LEN];
};
_Static_assert(sizeof(struct sw_spill) == 144 + SW_PATH_LEN, "sw_spill layout");

/* Value of the spill_reading map, keyed by the file: the ranges of a spills entry userspace took
 * and has not read back yet (it moves each range's start as it reads, and deletes the entry
 * when done). A write over them is counted: those bytes are gone unseen. */
struct sw_spill_reading {
	__u32 gen;
	__u32 carried; /* sw_spill.carried of the ranges */
	struct sw_spill_range r[SW_SPILL_RANGES];
};
_Static_assert(sizeof(struct sw_spill_reading) == 72, "sw_spill_reading layout");

/* Per-CPU loss counters (array map, one entry). */
struct sw_loss {
	__u64 ringbuf_full; /* records that could not be reserved */
	__u64 truncated;    /* syscalls whose bytes exceeded the per-syscall cap */
	__u64 read_errors;  /* user/kernel reads that failed */
	__u64 path_truncated;
	__u64 scope_full;    /* children that could not enter the scope map */
	__u64 copies_unread; /* copies whose source could not be named */
	__u64 spilled;	     /* file writes the ring had no room for, left to be read back */
	__u64 pad;
};
_Static_assert(sizeof(struct sw_loss) == 64, "sw_loss layout");

/* SW_EV_LOSS: deltas since the previous one. With SW_F_DOWN, made once at a daemon's start
 * when the programs ran on without one: the loss is what the previous daemon never told, and
 * the window runs from down_since_ns (its last sign of life, wall clock; 0 unknown) to hdr's
 * time. The sessions the window saw are the ones of the records fed before it. */
struct sw_loss_rec {
	struct sw_hdr hdr;
	struct sw_loss loss;
	__u64 down_since_ns;
	__u64 drained_bytes; /* ring bytes held for the new daemon and read by it */
	__u64 dropped_bytes; /* ring bytes an incompatible build left, thrown away unread */
	__u64 pad;
};
_Static_assert(sizeof(struct sw_loss_rec) == 152, "sw_loss_rec layout");

/* Value of the meta map (one entry, pinned with the programs): what a daemon leaves for the
 * next one, and the running daemon's pid, which the programs never watch. */
struct sw_meta {
	__u64 build;	     /* hash of the program build and its knobs: reused only by the same */
	__u64 alive_real_ns; /* the daemon's last sign of life (each second), wall clock */
	__u32 daemon_tgid;
	__u32 format; /* SW_RECORD_FORMAT of the build: a newer build reads an older one's ring
		       * when they agree */
	__u64 alive_ktime_ns; /* the same sign of life, CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	struct sw_loss told;  /* loss counts a daemon has reported already */
};
_Static_assert(sizeof(struct sw_meta) == 96, "sw_meta layout");

#endif
