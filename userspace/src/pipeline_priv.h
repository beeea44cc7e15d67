/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline's parts (pipeline.c: the dispatcher, its outputs and time; pipeline_scan.c:
 * matching bytes and deciding spreads; pipeline_places.c: processes, sessions, pipe readers,
 * opens, renames, channels and read-backs) share its state through this header. Nothing
 * outside the pipeline includes it. */
#ifndef SW_PIPELINE_PRIV_H
#define SW_PIPELINE_PRIV_H

#include "agentcred.h"
#include "agentproc.h"
#include "alertbuild.h"
#include "covered.h"
#include "delivery.h"
#include "detect.h"
#include "event.h"
#include "learn.h"
#include "matcher.h"
#include "naming.h"
#include "origins.h"
#include "pipeline.h"
#include "redact.h"
#include "rescan.h"
#include "rulesrec.h"
#include "streams.h"
#include "summary.h"

#define MATCHES_MAX	 256  /* matches handled per scan; more are counted as a gap */
#define PL_UNINDEXED_MAX 1024 /* learned secrets waiting for the next index */
#define PL_FOUND_MAX	 64   /* detector hits of learned secrets kept per scan */
#define REQUESTS_MAX	 8192 /* requests one record may raise; more are counted */
#define READERS_MAX	 4096 /* pipe readers remembered */
#define SNI_MAX		 256  /* TLS server names remembered */
#define BLIND_MAX	 256  /* processes with a TLS stack we cannot hook */
#define CONTEXT_MAX	 256  /* (session, secret) pairs in an agent's context */
#define CONNS_MAX	 256  /* TLS connections of processes we cannot hook */
#define PENDING_MAX	 64   /* TLS writes waiting for their socket */
#define WATCH_MAX	 256  /* TLS connections watched for data no hook saw */
#define PLAIN_MAX	 256  /* processes' last TLS plaintext at a hook */
#define PENDING_MATCHES	 16   /* matches one of them keeps */

/* Losses the pipeline sees itself, reported with the next tick. */
enum gap {
	GAP_MATCHES,
	GAP_READBACK_FAILED,
	GAP_READBACK_CUT,
	GAP_COPY,
	GAP_LEARN,
	GAP_ALERTS,
	GAP_CHUNKS,
	GAP_GUARD,
	GAP_INFLATE_BOUND,
	GAP_INFLATE_RATIO,
	GAP_INFLATE_ERROR,
	GAP_DELTA_UNRESOLVED,
	GAP_INFLATE_BUSY,
	GAP_EXEC_ARGS, /* argv past SW_ARGS_LEN */
	GAP_EXEC_ENV,  /* environment past SW_ENV_LEN */
	GAP__COUNT
};

/* The matches of one scan: local to it, so nothing a later record does can disturb them. */
struct hits {
	struct sw_pipeline *p;
	struct sw_match m[MATCHES_MAX];
	uint8_t learned[MATCHES_MAX]; /* found by a detector in this record */
	size_t n;
	size_t first_new; /* secrets from this index on were learned in this record */
	int redact;
};

struct sw_pipeline {
	const struct sw_key *key;
	struct sw_registry *reg;
	struct sw_proctab *pt;
	struct sw_secretset *set;
	struct sw_matcher *m;
	/* An index built off the pipeline, in force from the tick record that names gen. */
	struct sw_secretset *staged_set;
	struct sw_matcher *staged_m;
	uint64_t staged_gen, index_gen;
	struct sw_secretset *retired_set; /* the index a switch replaced, until taken */
	struct sw_matcher *retired_m;
	struct sw_streams *streams;
	struct sw_rescan *rescan;
	struct sw_delivery *dl;
	struct sw_summary *sum;	    /* what spread in each session, told when it ends */
	struct sw_covered *covered; /* shared mappings a read-back covers */
	struct sw_agentcred *cred;  /* credentials agents made for themselves */
	/* Covered channels whose read-back at their process's exit is the last chance. */
	struct retry {
		uint64_t session, dev, ino;
		uint32_t tgid, channel, gen;
		uint32_t wait; /* ticks left to wait for the file's close, once it was found gone */
		char *path;
		struct sw_hdr hdr;
	} retry[64];
	size_t nretry;
	/* An interpreter asked to be adopted: its HOME, for the session it will root. */
	uint32_t cand_tgid;
	char cand_home[SW_PATH_LEN + 1];
	const struct sw_rules *rules; /* in force: borrowed or own */
	struct sw_rules *own_rules;
	int rules_fixed;    /* borrowed: rules records are ignored */
	int recorded_finds; /* opts.recorded_finds */
	struct sw_policy policy;
	struct sw_learn learn;
	int learned_dirty;
	struct sw_origins *origins; /* origin paths that name another file than at the import */
	int origins_moved;	    /* since sw_pipeline__origins_moved */
	/* Learned secrets the index in force could not take (a lean set: no room left, or a value
	 * shorter than its stride) until the next index: the detectors' hits of them stand in for
	 * matches, so they alert and stay out of the trace meanwhile. */
	uint32_t unindexed[PL_UNINDEXED_MAX];
	size_t nunindexed;
	struct pl_found {
		uint32_t secret;
		uint32_t len;
		uint64_t pos; /* in the bytes scanned */
	} found[PL_FOUND_MAX];
	size_t nfound;
	char host[256];
	struct sw_pipeline_stats st;
	struct sw_alert alert; /* scratch: too big for the stack */
	struct hits hits;      /* the matches of the record being handled */
	/* The record's names with a secret filled (pipeline_names.c), and their matches. */
#define PL_NAMES       6
#define PL_NAME_REC    4 /* the record copied with its comm filled */
#define PL_NAME_JOIN   5 /* a new name whole: directory and name */
#define PL_COMM_TAINTS 64
	char *name_buf[PL_NAMES];
	size_t name_cap[PL_NAMES];
	struct hits name_hits;
	int in_name; /* pl_spread: the matches are in a name the process gave (pipeline_names.c) */
	/* Process names (comm) that hold a part of a secret, from a program run under a name
	 * holding it (the kernel keeps the first 15 bytes): each filled wherever it shows up. */
	struct {
		char raw[SW_COMM_LEN], filled[SW_COMM_LEN];
	} comm_taint[PL_COMM_TAINTS];
	size_t ncomm_taint;
	struct sw_artifact fill_art; /* pl_fill_artifact's copy */
	char fill_key[SW_ARTIFACT_KEY_MAX];
	/* Time: the wall clock at kernel time tick_ktime, from the latest tick. */
	uint64_t tick_ktime, tick_real_ns, now_us, tick_seq;
	uint64_t rec_us; /* the current record's time */
	uint64_t gaps[GAP__COUNT];
	/* Outputs of the current record. */
	struct sw_redact red;
	const struct sw_redaction *recorded; /* replay */
	size_t nrecorded;
	int replaying; /* the record being handled comes from a trace */
	struct sw_request *req;
	size_t nreq;
	/* Pipe readers the source named: (kernel dev, ino) -> reader, and the tick it answered. */
	struct reader {
		uint64_t dev, ino, tick, asked;
		uint32_t tgid;
		char *exe;
	} readers[READERS_MAX];
	size_t readers_next;
	int force;
	/* Server names from the ClientHellos session processes wrote: (tgid, socket ino). */
	struct sni {
		uint32_t tgid;
		uint64_t ino;
		char name[256];
	} sni[SNI_MAX];
	size_t sni_next;
	/* Processes whose TLS stack cannot be hooked (SW_CH_TLS), and the secrets that reached
	 * an agent's context in each session: such a process's TLS connections after that are
	 * inferred spreads. */
	struct blind {
		uint32_t tgid;
		uint64_t session;
	} blind[BLIND_MAX];
	size_t blind_next;
	struct in_context {
		uint64_t session;
		uint8_t secret[SW_SECRET_ID_BYTES];
		uint64_t since_us; /* when it got there (the alert's time) */
	} context[CONTEXT_MAX];
	size_t context_next;
	int context_new; /* a context was added: inferences are due */
	/* TLS connections of those processes (a ClientHello crossed the socket): the socket
	 * record that named it last, its server name, when it was written to last. */
	struct tls_conn {
		struct sw_hdr hdr;
		struct sw_data_rec rec;
		char sni[256];
		uint64_t last_us;
	} conns[CONNS_MAX];
	size_t conns_next;
	/* TLS connections of session processes (a ClientHello opened them), their records
	 * followed until application data shows whether a hook saw its plaintext
	 * (pipeline_tlswatch.c); and when each process last wrote TLS plaintext at a hook. */
	struct tls_watch {
		uint32_t tgid; /* 0: free */
		uint64_t ino;  /* the socket's */
		uint64_t hello_ktime;
		uint64_t first_ktime; /* of its first encrypted record bigger than an alert */
		uint32_t big;	      /* such records */
		uint32_t rec_left;    /* bytes of the current record still to come */
		uint8_t hdr[5];	      /* a record header cut across writes */
		uint8_t hdr_have, prev_type, tls12, told;
		uint8_t lost;	     /* its records no longer followed (a header not kept) */
		uint32_t lost_bytes; /* written after that */
		char sni[256];
		struct sw_hdr last_hdr; /* its last write: the connection named by it */
		struct sw_data_rec last;
	} watch[WATCH_MAX];
	size_t watch_next;
	struct tls_plain {
		uint32_t tgid;
		uint64_t ktime;
	} plain[PLAIN_MAX];
	size_t plain_next;
	/* TLS writes whose socket is a guess: named by the next socket write of their thread. */
	struct tls_pending {
		struct sw_hdr hdr;
		struct sw_artifact *art; /* NULL: free */
		uint64_t time_us;
		size_t n;
		struct sw_match m[PENDING_MATCHES];
		uint8_t learned[PENDING_MATCHES];
		const char *action;
	} pending[PENDING_MAX];
	/* The held TLS write being decided (guard): its writer, buffer and secret spans. */
	struct held {
		uint32_t pid, tgid;
		uint64_t addr, total;
		uint32_t nspans, overflow;
		struct {
			uint64_t offset, length;
		} spans[SW_VERDICT_SPANS];
	} held;
	const char *action; /* "redacted" or "blocked" for the alerts of a held write */
	/* The sessions of the records fed from a daemon's first tick to its first timer tick or
	 * its SW_F_DOWN loss record: the ones that lived while no daemon ran. */
	struct {
		uint64_t id[8];
		size_t n, more;
		int open;
	} boot;
	struct pl_git *git; /* what the pipeline learned of repositories (pipeline_decode.c) */
};

/* A record's kernel time as wall-clock microseconds, through the latest tick. */
static inline uint64_t rec_time(const struct sw_pipeline *p, uint64_t ktime)
{
	if (!p->tick_real_ns)
		return ktime / 1000;
	return (p->tick_real_ns + (ktime - p->tick_ktime)) / 1000;
}

#define PL_INDEX_RESERVE SW_PIPELINE_INDEX_RESERVE

/* pipeline_index.c */
/* Secrets from index first on (just learned) join the matcher: added in place, rebuilt only
 * when the matcher has no room left. 0, or a negative errno (the matcher is unchanged). */
int pl_index_add(struct sw_pipeline *p, size_t first);
void pl_origins_follow(struct sw_pipeline *p);
/* A tick flagged SW_F_INDEX: the staged index named gen takes over. */
void pl_take_index(struct sw_pipeline *p, uint64_t gen);
/* pipeline.c */
struct sw_request *pl_request(struct sw_pipeline *p, enum sw_request_kind kind,
			      const struct sw_hdr *h, const char *path, size_t path_len);
void pl_readback_file(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx);
void pl_rescan_add(struct sw_pipeline *p, const struct sw_hdr *h, uint64_t dev, uint64_t ino,
		   uint32_t gen, const char *path);
/* pipeline_scan.c */
/* Each match a first sighting in its place becomes an alert (key NULL: a pipe, decided as
 * it leaves delivery). */
void pl_spread(struct sw_pipeline *p, const struct hits *h, const struct sw_hdr *hdr,
	       const struct sw_artifact *art, const char *key);
void pl_scan(struct sw_pipeline *p, struct hits *h, struct sw_stream *st,
	     struct sw_detect_stream *ds, const void *data, size_t len, size_t base, int whole,
	     int learn);
/* An unmonitored_channel alert, once per session, channel and file (dev in stat's encoding;
 * ino 0: no file); failed: the read-back that should have covered it, or 0. */
void pl_channel_alert(struct sw_pipeline *p, const struct sw_hdr *h, uint32_t channel, uint64_t dev,
		      uint64_t ino, uint32_t gen, const char *path, size_t len, int failed);
/* A whole-file read-back ended (its last chunk): covered channels learn how it went. */
void pl_readback_done(struct sw_pipeline *p, const struct sw_event *ev);
void pl_retry_tick(struct sw_pipeline *p);
void pl_retry_flush(struct sw_pipeline *p);
const struct sw_proc *pl_proc_of(struct sw_pipeline *p, const struct sw_hdr *h);
void pl_process_of(struct sw_pipeline *p, struct sw_alert *a, const struct sw_hdr *h);
/* pipeline_names.c: a secret in a record's names is filled in copies the handlers see (and
 * kept out of the trace); a file written under such a name is a spread into it. */
void pl_names(struct sw_pipeline *p, struct sw_event *ev, const void *rec, size_t size);
void pl_names_free(struct sw_pipeline *p);
/* Fills each tracked secret in s (a name taken from a record's bytes: a TLS server name). */
void pl_fill_secrets(struct sw_pipeline *p, char *s, size_t len);
/* art with every string filled where it holds a tracked secret (strings taken from a record's
 * bytes: a git ref or repository, a variable's name), and *key too: both valid until the next
 * call. */
const struct sw_artifact *pl_fill_artifact(struct sw_pipeline *p, const struct sw_artifact *art,
					   const char **key);
void pl_exec_scan(struct sw_pipeline *p, const struct sw_event *ev, int env, struct hits *h,
		  uint32_t *elem);
int pl_exec_proc(struct sw_pipeline *p, const struct sw_event *ev, const char *comm);
void pl_exec_spread(struct sw_pipeline *p, const struct sw_event *ev, const struct hits *h,
		    const uint32_t *elem);
int pl_on_data(struct sw_pipeline *p, const struct sw_event *ev);
/* Each match (a first sighting in its place) as an alert; key NULL: a pipe, decided later. */
void pl_spread(struct sw_pipeline *p, const struct hits *h, const struct sw_hdr *hdr,
	       const struct sw_artifact *art, const char *key);
int pl_on_proc(struct sw_pipeline *p, const struct sw_event *ev, const char *comm);
/* pipeline_tls.c */
/* A socket's first bytes: a ClientHello's server name is remembered for its TLS writes. */
void pl_tls_hello(struct sw_pipeline *p, const struct sw_event *ev);
/* The server name of the connection a TLS write goes to, when its ClientHello was seen. */
void pl_tls_name(const struct sw_pipeline *p, const struct sw_event *ev, struct sw_artifact *a);
/* A SW_CH_TLS channel record: the process's TLS cannot be seen. */
void pl_tls_blind(struct sw_pipeline *p, const struct sw_event *ev);
/* A decided alert: a secret that reached an agent's context is remembered for its session. */
void pl_tls_context(struct sw_pipeline *p, const struct sw_alert *a);
/* After alerts were released: spreads inferred from contexts added meanwhile. */
void pl_tls_infer_due(struct sw_pipeline *p);
/* A TLS write whose socket is a guess (SW_F_PEER_GUESS) waits for the next socket write of
 * its thread, which names it; 0 if it waits, -1 to spread now. */
int pl_tls_defer(struct sw_pipeline *p, const struct hits *h, const struct sw_event *ev,
		 const struct sw_artifact *art);
/* A held TLS write's chunk was scanned: its secret spans noted; at its last, the verdict. */
void pl_tls_held(struct sw_pipeline *p, const struct sw_event *ev);
/* What became of a held write: a failure, or no verdict in time, is a coverage gap. */
void pl_tls_guarded(struct sw_pipeline *p, const struct sw_event *ev);
/* Time passes (force: the end): writes that waited a second for their socket spread as
 * named. */
void pl_tls_flush(struct sw_pipeline *p, uint64_t now_us, int force);
/* Any socket write: a TLS connection of a process we cannot hook is an inferred spread of
 * what is in its agent's context. */
void pl_tls_socket(struct sw_pipeline *p, const struct sw_event *ev);
int pl_tls_is_blind(const struct sw_pipeline *p, uint32_t tgid);
/* p->alert as an unmonitored_channel tls of h's process at t (its session, first seen, count
 * 1): the caller fills its artifact and message. */
struct sw_alert *pl_tls_channel_alert(struct sw_pipeline *p, const struct sw_hdr *h, uint64_t t);
/* The artifact of a TLS write to sock's connection, whose ClientHello named sni. */
void pl_tls_conn_art(const struct sw_pipeline *p, const struct sw_event *sock, const char *sni,
		     struct sw_artifact *art);
void pl_tls_blind_proc(struct sw_pipeline *p, const struct sw_event *sock, const char *sni);
/* pipeline_tlswatch.c: a TLS plaintext record (a hook saw it); a TCP socket write. */
void pl_tls_plain(struct sw_pipeline *p, const struct sw_event *ev);
void pl_tls_watch(struct sw_pipeline *p, const struct sw_event *ev);
/* Time passes (ktime; force: a verdict for every connection now). */
void pl_tls_watch_due(struct sw_pipeline *p, uint64_t ktime, int force);
/* pipeline_decode.c. Before a file record's bytes are matched as written (start: the stream
 * offset they begin at): whether the stream is compressed (decided at its first bytes), and a
 * ref's id learned. Returns 1 when the trace must keep the bytes whole (no unsettled tail
 * redacted: a replay inflates them again, or learns the ref). After: the bytes inflated and
 * matched. And the commit and ref of a git alert as it leaves. */
int pl_decode_start(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev,
		    uint64_t start);
void pl_decode(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev);
void pl_git_fill(struct sw_pipeline *p, struct sw_artifact *a);
/* A connection's bytes (TLS plaintext, a TCP socket) followed as HTTP requests, for a git push:
 * whether this record's bytes must be kept whole in the trace (start), then the record fed
 * (after its bytes as written are matched): a pushed pack is inflated and its objects' matches
 * alert named by the remote's URL (pipeline_decode.c). */
int pl_push_start(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev);
void pl_push(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev);
void pl_git_reset(struct sw_pipeline *p);
/* A git object the source read for a delta's base (SW_AK_GITOBJ, SW_REQ_GIT_BASE): at its last
 * chunk the delta is applied and what it makes matched (pipeline_decode.c). */
void pl_git_base(struct sw_pipeline *p, const struct sw_event *ev);
/* pipeline_places.c */
struct sw_session *pl_session(struct sw_pipeline *p, uint64_t id, uint32_t root, uint64_t t);
int pl_decide(struct sw_alert *a, void *ctx);
int pl_on_exec(struct sw_pipeline *p, const struct sw_event *ev, const char *comm);
int pl_on_session(struct sw_pipeline *p, const struct sw_event *ev);
void pl_on_reader(struct sw_pipeline *p, const struct sw_event *ev);
void pl_on_exit_rec(struct sw_pipeline *p, const struct sw_event *ev);
void pl_on_open(struct sw_pipeline *p, const struct sw_event *ev);
void pl_on_renamed(struct sw_pipeline *p, const struct sw_event *ev);
void pl_on_channel(struct sw_pipeline *p, const struct sw_event *ev);
void pl_on_closed(struct sw_pipeline *p, const struct sw_event *ev);
/* The window no daemon ran (a SW_F_DOWN loss record): one coverage_gap. */
void pl_on_down(struct sw_pipeline *p, const struct sw_event *ev);
void pl_boot_note(struct sw_pipeline *p, uint64_t session_id);
/* A process goes (or the daemon stops): its files read back, its covered channels settled. */
void pl_release_files(struct sw_pipeline *p, const struct sw_hdr *h);

#endif
