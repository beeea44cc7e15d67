/* SPDX-License-Identifier: Apache-2.0 */
/* Artifacts: the places a secret can land, each with a canonical identity key. */
#ifndef SW_ARTIFACT_H
#define SW_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

enum sw_artifact_type {
	SW_ART_FILE = 0,
	SW_ART_SOCKET,
	SW_ART_EXEC_ARG,
	SW_ART_EXEC_ENV,
	SW_ART_PIPE,
	SW_ART_TTY,
	SW_ART_TLS,
	SW_ART__COUNT,
};

#define SW_PATH_MAX	    4096
#define SW_ARTIFACT_KEY_MAX (SW_PATH_MAX + 128)

struct sw_artifact {
	uint8_t type;		      /* enum sw_artifact_type */
	char path[SW_PATH_MAX];	      /* file path; exec path; unix socket path */
	uint64_t dev, ino;	      /* file */
	uint32_t gen;		      /* file: inode generation (identity only, not shown) */
	uint8_t in_name;	      /* file: the secret is in the path, a name the process gave */
	char proto[8];		      /* socket: "tcp", "udp", "unix" */
	char peer[SW_PATH_MAX];	      /* socket/tls: "ip:port" ("[v6]:port") or unix path */
	char sni[256];		      /* tls */
	uint32_t index;		      /* exec_arg */
	char name[256];		      /* exec_env variable name */
	uint32_t reader_pid;	      /* pipe */
	char reader_exe[SW_PATH_MAX]; /* pipe */
	/* file: what a compressed file held, inflated ("gzip", "zlib"; "" not compressed); tls: a
	 * pack pushed over https, inflated ("zlib") */
	char inflated[8];
	/* file: a git object, loose or in a pack (repo "" when not); tls: an object of a pack
	 * pushed over https (repo: the remote's URL) */
	struct sw_artifact_git {
		char repo[SW_PATH_MAX]; /* the repository: its gitdir without "/.git" */
		char object[41];	/* the object's id (hex), "" unknown */
		char kind[8];		/* "blob", "tree", "commit", "tag" */
		char commit[41];	/* a commit that holds it, "" unknown */
		char ref[256];		/* a ref that points at that commit, "" unknown */
	} git;
};

/* "file", "socket", "exec_arg", "exec_env", "pipe", "tty", "tls". */
const char *sw_artifact__type_name(enum sw_artifact_type t);
/* Canonical identity: file dev+ino (a git object: its repository, so a repack or gc of it is
 * the same place; so is a push over https: the remote's URL); socket proto+peer; exec_arg exe path;
 * exec_env exe+name; pipe reader exe; tty; tls peer/sni. Returns the length written (truncated to
 * size-1). */
size_t sw_artifact__key(const struct sw_artifact *a, char *out, size_t size);

#endif
