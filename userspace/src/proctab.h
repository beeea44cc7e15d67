/* SPDX-License-Identifier: Apache-2.0 */
/* The process table: every session process (exe, argv, ancestry) and every session. */
#ifndef SW_PROCTAB_H
#define SW_PROCTAB_H

#include <stddef.h>
#include <stdint.h>

#define SW_PROCTAB_MAX	  65536 /* processes tracked at once, like the kernel scope map */
#define SW_SESSIONS_MAX	  4096	/* sessions remembered, live and ended */
#define SW_PROCTAB_RECENT 512	/* exited processes whose exe is still remembered */

struct sw_proc {
	uint32_t tgid, ppid, uid;
	char comm[16];
	char *exe;    /* "" when unknown */
	char *args;   /* NUL-separated argv */
	char *cgroup; /* cgroup v2 path, "" when unknown (from proc records) */
	size_t args_len;
	uint64_t session_id;
	/* Its current image is an agent: its exec matched an agent rule (set by the caller
	 * that matched it, kept by fork, cleared by the next exec). Tool output it reads is in
	 * the model's context. */
	int agent;
	struct sw_proc *next;
};

struct sw_session {
	uint64_t id;
	char agent[64];
	uint32_t root_pid;
	char *root_exe;
	uint32_t nprocs;     /* live processes */
	uint64_t started_us; /* record time of its first record, set by the pipeline */
	int ended;
	/* The label is a default (sprawlctl run without --agent): an agent rule matching the
	 * root's exec may still name the session. */
	int provisional;
	/* The session's home directory (`~` of the agent rules): HOME in the root's
	 * environment when it exec'd; NULL when unknown (see sw_proctab__home). */
	char *home;
	struct sw_session *next;
};

struct sw_proctab;

/* Pure: everything it knows comes from records (exec, fork, proc, session). */
struct sw_proctab *sw_proctab__new(void);
void sw_proctab__free(struct sw_proctab *pt);

/* The session id's session, created (agent "", root root_pid) when unknown. */
struct sw_session *sw_proctab__session(struct sw_proctab *pt, uint64_t id, uint32_t root_pid);
const struct sw_session *sw_proctab__find_session(const struct sw_proctab *pt, uint64_t id);
int sw_proctab__set_agent(struct sw_proctab *pt, uint64_t id, const char *agent);
/* HOME of the session's root as its exec's environment says (copied). */
int sw_proctab__set_home(struct sw_proctab *pt, uint64_t id, const char *home, size_t len);
/* The session's home: what the root's environment said, else (live only, where the passwd
 * database is the machine's) the home of the root's uid; NULL when unknown. */
const char *sw_proctab__home(const struct sw_proctab *pt, uint64_t id);

int sw_proctab__fork(struct sw_proctab *pt, uint32_t parent, uint32_t child, uint64_t session,
		     uint32_t uid, const char *comm);
int sw_proctab__exec(struct sw_proctab *pt, uint32_t tgid, uint32_t ppid, uint32_t uid,
		     uint64_t session, const char *comm, const char *exe, size_t exe_len,
		     const char *args, size_t args_len);
void sw_proctab__exit(struct sw_proctab *pt, uint32_t tgid);

/* The process, made from the header's fields if unknown. NULL only on allocation failure. */
const struct sw_proc *sw_proctab__get(struct sw_proctab *pt, uint32_t tgid, uint32_t ppid,
				      uint32_t uid, uint64_t session, const char *comm);
const struct sw_proc *sw_proctab__find(const struct sw_proctab *pt, uint32_t tgid);
/* The exe of tgid, also shortly after it exited (the last SW_PROCTAB_RECENT exits are
 * remembered: a pipe's reader has often exited by the time its writer is reported). */
const char *sw_proctab__exe(const struct sw_proctab *pt, uint32_t tgid);
/* The process's cgroup (from a proc record). 0, -ENOENT (unknown process) or -ENOMEM. */
int sw_proctab__set_cgroup(struct sw_proctab *pt, uint32_t tgid, const char *cg, size_t len);
/* Up to max agent processes of session (sw_agentproc: the root too) into out; returns how many. */
size_t sw_proctab__agents(const struct sw_proctab *pt, uint64_t session, uint32_t *out, size_t max);
/* Marks tgid's current image as an agent (its exec matched an agent rule). */
int sw_proctab__mark_agent(struct sw_proctab *pt, uint32_t tgid);
/* 1 when tgid's image is an agent, also shortly after it exited (like sw_proctab__exe). */
int sw_proctab__is_agent(const struct sw_proctab *pt, uint32_t tgid);

/* Iteration for status: calls fn for every session, then for each of its processes. */
void sw_proctab__each_session(const struct sw_proctab *pt,
			      void (*fn)(const struct sw_session *s, void *ctx), void *ctx);
void sw_proctab__each_proc(const struct sw_proctab *pt,
			   void (*fn)(const struct sw_proc *p, void *ctx), void *ctx);
size_t sw_proctab__count(const struct sw_proctab *pt);

#endif
