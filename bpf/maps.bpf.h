/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Every map and read-only knob of the kernel side, each with its purpose. */
#ifndef SPRAWL_MAPS_BPF_H
#define SPRAWL_MAPS_BPF_H

#include "sprawl_events.h"

#define SW_SCOPE_MAX	   65536
#define SW_AGENT_COMMS_MAX 256

/* Knobs, set by userspace between open and load. */
const volatile __u32 max_bytes = SW_DEFAULT_MAX_BYTES; /* per syscall, then truncation */
const volatile __u32 guard_mode = 0; /* 0 alert; else TLS writes stop their writer (guard) */

/* What a daemon leaves for the next, and the running daemon's pid (sw_meta). Pinned with the
 * programs, which run on while no daemon does. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sw_meta);
} meta SEC(".maps");

/* tgid -> session: the scope. Pinned, so sessions survive a daemon restart. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_SCOPE_MAX);
	__type(key, __u32);
	__type(value, struct sw_scope);
} scope SEC(".maps");

/* comm of an agent binary -> agent index: an exec with this comm starts a session. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_AGENT_COMMS_MAX);
	__type(key, char[SW_COMM_LEN]);
	__type(value, __u32);
} agent_comms SEC(".maps");

/* (dev, ino) of every secret's origin file: opening one is an exposure. Set by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sw_inode_key);
	__type(value, __u32);
} origins SEC(".maps");

/* pipe inode -> the session process that last read it: names the reader of a pipe write
 * even when the reader has exited by the time userspace looks. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sw_inode_key);
	__type(value, __u32);
} pipe_readers SEC(".maps");

/* Open files already named to userspace: (struct file *, device, inode number, generation). A
 * later write through the same open file skips the path walk and sends no path; userspace
 * keeps it per stream. Smaller than userspace's stream table, so a file named here is still
 * named there. A struct file is reused as soon as it is closed and an inode number as soon as
 * its file is deleted: keyed by pointer and number alone, git's next loose object (the freed
 * struct file of the ref it had just written, that ref's inode given to the object) was
 * taken for named, and the daemon had no path to know it for a git object by. */
struct named_key {
	__u64 file;
	__u64 ino;
	__u32 dev;
	__u32 gen;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct named_key);
	__type(value, __u32);
} named SEC(".maps");

/* Files that carry a TLS stack we hook (libssl, libgnutls, node, ...): (kernel dev, ino). A
 * session process that maps one executable (or execs it) is stopped until its uprobes are
 * attached, so no TLS write runs unseen. Set by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct sw_inode_key);
	__type(value, __u32);
} tls_files SEC(".maps");

/* Session processes with a TLS stack we hook mapped (tgid -> 1): set by the kernel at the map
 * or exec of a tls_files file, and by the daemon when it hooks one it looked at. A child such a
 * process makes (no exec: its own memory, the same libraries) is marked at the fork
 * (SW_TLS_PROC_FORKED), then stopped at its first return until the daemon has attached its
 * uprobes, which are per process. */
#define SW_TLS_PROC_FORKED 2
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} tls_procs SEC(".maps");

/* Session processes told to have their executable mappings looked at again (tgid -> 1): an
 * mprotect made something executable while the kernel could not look at the mapping (its
 * lock was taken). One look at a time: the daemon deletes the entry before it reads the
 * process's mappings, so a later mprotect is told again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} tls_rescan SEC(".maps");

/* Executable files the daemon looked at and found no TLS stack to hook in: (kernel dev, ino)
 * -> inode generation. A session process that maps (or execs) a file in neither map is
 * stopped until the daemon has looked: a copy of libssl (LD_LIBRARY_PATH), one upgraded since
 * the daemon started, or a library that links OpenSSL in is hooked like the host's libssl.
 * Set by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sw_inode_key);
	__type(value, __u32);
} tls_seen SEC(".maps");

/* Session processes the kernel stopped (tgid -> why, when): the daemon resumes them, and a
 * restarted daemon resumes what a previous one left stopped. Pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct sw_hold);
} tls_held SEC(".maps");

/* thread -> the TCP socket it wrote last: names the peer of its next TLS write. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __s32);
} tls_sock SEC(".maps");

/* thread -> the SSL object of its last TLS write, until its next socket write ties the two. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} tls_pend SEC(".maps");

/* (SSL object, tgid) -> its socket: a process with many connections (node) names each
 * write's peer after the connection's first. */
struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ssl_key);
	__type(value, __s32);
} ssl_fd SEC(".maps");

/* All records to userspace. Size set by userspace before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

/* Per-CPU loss counters, read by userspace every second. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sw_loss);
} loss SEC(".maps");

/* Progress of one syscall's capture. Kept in the per-CPU scratch map rather than on the stack:
 * the verifier treats map values as unknown on every bpf_loop iteration, so the callback is
 * verified once instead of once per distinct (precise) stack state. */
struct chunk_state {
	__u64 nr; /* syscall number */
	__s64 fd;
	__s64 pos;  /* pwrite position, -1 */
	__u64 buf;  /* current user buffer */
	__u64 left; /* bytes left in the current buffer */
	__u64 iov;  /* user iovec array, 0 for plain write */
	__u64 iovcnt;
	__u64 iov_idx;
	__u64 dest;	/* user sockaddr of sendto/sendmsg, 0 if none */
	__s64 src_fd;	/* copies: the source fd, -1 for plain writes */
	__u64 src_off;	/* copies: user loff_t * of the source offset, 0 if none */
	__u64 dst_off;	/* copy_file_range, splice: user loff_t * of the destination's, 0 if none */
	__u64 sent;	/* bytes sent so far */
	__u64 limit;	/* min(total, max_bytes) */
	__u64 path_len; /* bytes of path already in the tail (first chunk only) */
	__u64 failed;
	__u64 tls;	 /* a TLS write (uprobe): its extra header flags | 1 */
	__u64 fbase;	 /* regular file: the file position of the syscall's first byte */
	__u64 ring_full; /* the ring had no room for the chunk at lost_at: the rest is unsent */
	__u64 lost_at;
	__u64 ooo; /* a write at the file position out of file order (fileorder.bpf.h) */
	/* A clone (FICLONE, FICLONERANGE): src_off and dst_off are where the cloned range ends in
	 * each file (values, not user pointers; nothing advanced a file position). */
	__u64 clone;
};

/* Per-CPU scratch for a data record: too big for the 512-byte BPF stack. */
struct data_scratch {
	struct chunk_state st;
	struct sw_data_rec rec;
	char tail[SW_PATH_LEN + SW_CHUNK];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct data_scratch);
} data_buf SEC(".maps");

/* Per-CPU scratch where a path is assembled backwards, component by component. The slack
 * after SW_PATH_LEN lets the verifier prove a masked offset plus a 255-byte name fits. */
struct path_scratch {
	__u64 dentry; /* struct dentry * being walked */
	__u64 mnt;    /* struct mount * it is in */
	__u64 off;    /* start of the path in buf; the path ends at SW_PATH_LEN */
	__u64 truncated;
	__u64 done;
	char buf[SW_PATH_LEN + 256];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_scratch);
} path_buf SEC(".maps");

/* Scratch for an exec record, one entry per CPU (userspace sets max_entries to the CPU count):
 * argv and the environment are copied whole up to their large bounds, far more than a per-CPU
 * map value may hold (32 KiB). The argv part is sized twice so that the environment's offset,
 * masked to a power of two, provably fits (the path is shorter than SW_ARGS_LEN). */
struct exec_scratch {
	struct sw_exec_rec rec;
	char tail[2 * SW_ARGS_LEN + SW_ENV_LEN];
};
_Static_assert(SW_PATH_LEN <= SW_ARGS_LEN && !(SW_ARGS_LEN & (SW_ARGS_LEN - 1)), "exec tail masks");
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_buf SEC(".maps");

/* Per-CPU scratch for open, rename and channel records. */
struct misc_scratch {
	union {
		struct sw_open_rec open;
		struct sw_rename_rec rename;
		struct sw_channel_rec channel;
		struct sw_tlslib_rec tlslib;
	};
	char tail[SW_PATH_LEN * 4]; /* a rename record's three names, masked to 4 */
};
_Static_assert(sizeof(struct sw_open_rec) == sizeof(struct sw_rename_rec) &&
		       sizeof(struct sw_rename_rec) == sizeof(struct sw_channel_rec) &&
		       sizeof(struct sw_channel_rec) == sizeof(struct sw_tlslib_rec),
	       "the tail follows each record directly");
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct misc_scratch);
} misc_buf SEC(".maps");

static __always_inline struct sw_loss *loss_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&loss, &zero);
}

#define LOSS_INC(field)                                                                            \
	do {                                                                                       \
		struct sw_loss *__l = loss_counters();                                             \
		if (__l)                                                                           \
			__sync_fetch_and_add(&__l->field, 1);                                      \
	} while (0)

#endif
