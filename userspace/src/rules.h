/* SPDX-License-Identifier: Apache-2.0 */
/* Rules: agent CLIs (which exec starts a session, where transcripts live), regex detectors for
 * unregistered secrets, and the artifact policy. Loaded from a rules directory (YAML, libyaml)
 * or from the defaults compiled into the binary.
 *
 * A rules directory must hold all three files agents.yaml, detectors.yaml and policy.yaml: a
 * missing file is an error, never a silent fall-back to the embedded default, so that an
 * edited rule set is exactly what runs. Keys missing inside policy.yaml keep their built-in
 * defaults. Other files in the directory are ignored. */
#ifndef SW_RULES_H
#define SW_RULES_H

#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "alert.h"
#include "artifact.h"
#include "embedded.h"
#include "policy.h"

/* Limits on everything a rule file controls. */
#define SW_RULES_FILE_MAX    (1u << 20) /* bytes per file */
#define SW_RULES_MAX	     10000	/* agents + detectors + allowlist entries, all files */
#define SW_RULES_LIST_MAX    256	/* items in one list (basenames, keywords, paths, ...) */
#define SW_RULES_STR_MAX     1024	/* bytes in one string other than a regex */
#define SW_RULES_REGEX_MAX   4096	/* bytes in one regex */
#define SW_RULES_DEPTH_MAX   16		/* YAML nesting depth */
#define SW_RULES_LITERAL_MIN 2		/* prefilter literal length */
#define SW_RULES_LITERAL_MAX 32
#define SW_AGENT_LABEL_MAX   32 /* incl. NUL */
#define SW_AGENT_COMM_LEN    16 /* = TASK_COMM_LEN, incl. NUL */
#define SW_DETECTOR_ID_MAX   64 /* incl. NUL; = sizeof(sw_secret.detector) */
#define SW_DETECTOR_NAME_MAX 128

/* Where a rule file went wrong. line and col are 1-based; 0 when the problem concerns the whole
 * file (cannot open, too large, missing). */
struct sw_rules_error {
	char file[256];
	int line, col;
	char msg[512];
};

/* "rules/agents.yaml:12:3: unknown key 'mtach' (expected one of: ...)" into out; returns the
 * length snprintf would have written. */
int sw_rules_error__format(const struct sw_rules_error *e, char *out, size_t size);

/* The artifact policy (policy.yaml) is a struct sw_policy: see policy.h. */

enum sw_detector_check {
	SW_CHECK_NONE = 0,
	SW_CHECK_JWT, /* header decodes to a JSON object with "alg" */
};

/* A compiled detector; read-only outside rules.c (detect.c reads it). */
struct sw_detector {
	char id[SW_DETECTOR_ID_MAX];
	char name[SW_DETECTOR_NAME_MAX];
	char *regex;	    /* the source, for Hyperscan */
	pcre2_code *code;   /* JIT compiled */
	uint32_t group;	    /* capture group of the value; 0 = whole match */
	double min_entropy; /* bits per character */
	uint32_t min_len, max_len;
	uint32_t keyword_window;
	char **keywords; /* lower case */
	size_t nkeywords;
	char **prefilter; /* lower case; NULL/0: always searched */
	size_t nprefilter;
	enum sw_detector_check check;
	/* Example templates (see rules/detectors.yaml): what must be found, what must not. */
	char **match;
	size_t nmatch;
	char **nomatch;
	size_t nnomatch;
	int line; /* of the detector in its file */
	/* Values to let go (gitleaks allowlists): one of these regexes matches the value (or
	 * the whole match when allow_match is set), or the value contains a stopword. */
	pcre2_code **allow_re;
	size_t nallow_re;
	int allow_match;
	char **stopwords; /* lower case */
	size_t nstopwords;
};

struct sw_rules;
struct sw_detect_index;

/* Loads dir/agents.yaml, dir/detectors.yaml and dir/policy.yaml. Returns NULL with errno set
 * and *err filled (the first problem found) on failure. */
struct sw_rules *sw_rules__load_dir(const char *dir, struct sw_rules_error *err);
/* The three rule files of dir read into memory, for load_files and for a rules record; free
 * with sw_rules__free_files. Returns 0 or a negative errno with *err filled. */
#define SW_RULES_FILES 3
int sw_rules__read_dir(const char *dir, struct sw_embedded_file files[SW_RULES_FILES + 1],
		       struct sw_rules_error *err);
void sw_rules__free_files(struct sw_embedded_file files[SW_RULES_FILES + 1]);
/* Loads the default rules compiled into the binary (sw_embedded_rules). */
struct sw_rules *sw_rules__load_embedded(struct sw_rules_error *err);
/* Loads from memory: files is terminated by an entry whose name is NULL and must hold the three
 * base names; others are ignored. Error file names are prefix + base name. */
struct sw_rules *sw_rules__load_files(const struct sw_embedded_file *files, const char *prefix,
				      struct sw_rules_error *err);
void sw_rules__free(struct sw_rules *r);

/* For `sprawlctl rules check DIR`: checks each of the three files on its own and reports the
 * first problem of each (up to max), so one run shows every broken file. Returns the number of
 * errors (0 = the directory loads) and fills errs[0..min(ret, max)-1]. */
size_t sw_rules__check_dir(const char *dir, struct sw_rules_error *errs, size_t max);

/* Verifies every detector's examples (sw_detect__check_examples); file names the detectors
 * file in the errors. Returns the number of failing detectors; fills errs[0..min(ret,max)-1]. */
size_t sw_rules__check_examples(const struct sw_rules *r, const char *file,
				struct sw_rules_error *errs, size_t max);

/* Returns 1 and sets *label (owned by r) when the exec of exe_path (comm after exec, argv) is
 * an agent, 0 otherwise. Any argument may be NULL/0 when unknown. */
int sw_rules__agent_match(const struct sw_rules *r, const char *exe_path, const char *comm,
			  const char *const *argv, int argc, const char **label);
/* Distinct basename and comm entries of all agents, truncated to 15 characters, for the
 * kernel's agent table. Writes at most max; returns the number of distinct entries (more than
 * max means the table is too small). */
/* The comms of the interpreters list (a trailing '*' dropped, other globs skipped): execs
 * with these comms are reported so that script rules can match. Returns the count written. */
size_t sw_rules__interpreter_comms(const struct sw_rules *r, char (*out)[SW_AGENT_COMM_LEN],
				   size_t max);
size_t sw_rules__agent_comms(const struct sw_rules *r, char (*out)[SW_AGENT_COMM_LEN], size_t max);
/* Returns 1 and sets *label (may be NULL) when path is in an agent's transcripts. The globs
 * are path globs (`*` within a component, `**` across); a leading `~/` is home, the session's
 * home directory, or any home directory (/root/, /home/NAME/) when home is NULL. */
int sw_rules__transcript(const struct sw_rules *r, const char *path, const char *home,
			 const char **label);
/* 1 (and the agent's label) when path is where an agent keeps a tool's output for itself to
 * read back (Claude Code's task output files): into the agent's context. Globs as above. */
int sw_rules__tool_output(const struct sw_rules *r, const char *path, const char *home,
			  const char **label);
/* 1 (and the agent's label) when path is where an agent keeps a credential it makes for
 * itself (a session key, a peer token): a detector's find there is the agent's own, not
 * reported. Globs as above. */
int sw_rules__credentials(const struct sw_rules *r, const char *path, const char *home,
			  const char **label);
/* 1 when the environment variable name[0..len) is one an agent sets for its tools with a
 * credential it made for itself (see agentcred.h). */
int sw_rules__credential_env(const struct sw_rules *r, const char *name, size_t len);
size_t sw_rules__agent_count(const struct sw_rules *r);

/* Returns 1 when a secret named secret_name landing at path is allowlisted. */
int sw_rules__allowlisted(const struct sw_rules *r, const char *secret_name, const char *path);

const struct sw_policy *sw_rules__policy(const struct sw_rules *r);

const struct sw_detector *sw_rules__detectors(const struct sw_rules *r, size_t *n);
/* The detect module's prefilter and scratch, built at load (see detect.h). */
struct sw_detect_index *sw_rules__detect_index(const struct sw_rules *r);

#endif
