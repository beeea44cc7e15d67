/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS edge of the live daemon: which files carry a TLS stack we hook (libssl, libgnutls,
 * executables that export SSL_write), the uprobes attached per session process (so nothing
 * outside a session traps), and the processes the kernel stopped until that is done. Never in
 * replay: what it makes the kernel see arrives as ordinary records. */
#ifndef SW_TLSEDGE_H
#define SW_TLSEDGE_H

#include <stdint.h>

#include "sprawl_events.h"

struct daemon;
struct tlsedge;

/* Finds the TLS libraries and executables of this host, tells the kernel, and resumes what a
 * previous daemon left stopped. NULL with errno on failure (no memory). */
struct tlsedge *tlsedge__new(struct daemon *d);
void tlsedge__free(struct tlsedge *t); /* detaches everything; takes NULL */
/* A session process mapped or exec'd a file of the set: attach for it, then resume it. */
void tlsedge__on_tlslib(struct tlsedge *t, const struct sw_tlslib_rec *r);
/* A session process's write: a TCP write of a foreground job before its uprobes were attached
 * is told as a TLS channel hooked late. */
void tlsedge__on_data(struct tlsedge *t, const struct sw_data_rec *d);
/* A session process exec'd, was adopted or recovered: attach to what it maps already, learn
 * whether its executable carries a TLS stack (one we cannot hook is told to the pipeline as
 * a SW_CH_TLS channel record). */
void tlsedge__on_proc(struct tlsedge *t, uint32_t tgid, uint64_t session);
/* A process exited: its uprobes go. */
void tlsedge__on_exit(struct tlsedge *t, uint32_t tgid);
/* The worker's descriptor (readable when a large binary's look is done), or -1; then poll. */
int tlsedge__fd(const struct tlsedge *t);
void tlsedge__poll(struct tlsedge *t);
/* Time passes: stops nobody answered in time are resumed (fail-open). */
void tlsedge__tick(struct tlsedge *t);
/* Counters for status. */
struct tlsedge_stats {
	uint64_t files;	    /* files hooked */
	uint64_t processes; /* processes with uprobes */
	uint64_t uprobes;
	uint64_t attach_failed;
	uint64_t failopen;   /* stops resumed without a verdict */
	uint64_t unresolved; /* files mapped that were gone before they were looked at */
	uint64_t forks;	     /* forked children of hooked processes stopped to be hooked */
	uint64_t rescans;    /* an mprotect the kernel could not look at: all mappings looked at */
	uint64_t stale;	     /* files of the set whose inode a new file took (out of the set) */
};
void tlsedge__stats(const struct tlsedge *t, struct tlsedge_stats *out);

#endif
