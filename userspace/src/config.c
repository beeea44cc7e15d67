// SPDX-License-Identifier: Apache-2.0
/* See config.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"

static const char *pick(const char *arg, const char *env, const char *def)
{
	const char *e = getenv(env);

	if (arg && *arg)
		return arg;
	if (e && *e)
		return e;
	return def;
}

int sw_paths__init(struct sw_paths *p, const char *state_dir, const char *run_dir)
{
	memset(p, 0, sizeof(*p));
	if (snprintf(p->state_dir, sizeof(p->state_dir), "%s",
		     pick(state_dir, "SPRAWL_STATE_DIR", SW_DEFAULT_STATE_DIR)) >=
		    (int)sizeof(p->state_dir) ||
	    snprintf(p->run_dir, sizeof(p->run_dir), "%s",
		     pick(run_dir, "SPRAWL_RUN_DIR", SW_DEFAULT_RUN_DIR)) >=
		    (int)sizeof(p->run_dir) ||
	    snprintf(p->pin_dir, sizeof(p->pin_dir), "%s",
		     pick(NULL, "SPRAWL_PIN_DIR", SW_DEFAULT_PIN_DIR)) >= (int)sizeof(p->pin_dir))
		return -ENAMETOOLONG;
	snprintf(p->key, sizeof(p->key), "%s/key", p->state_dir);
	snprintf(p->secrets, sizeof(p->secrets), "%s/secrets.pb", p->state_dir);
	snprintf(p->registry, sizeof(p->registry), "%s/registry.pb", p->state_dir);
	snprintf(p->lock, sizeof(p->lock), "%s/secrets.lock", p->state_dir);
	snprintf(p->control, sizeof(p->control), "%s/control.sock", p->run_dir);
	return 0;
}

int sw_paths__mkdir(const char *dir, unsigned int mode, int strict)
{
	char buf[1024], *s;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, mode)) {
		if (errno != EEXIST)
			return -errno;
		if (strict && chmod(buf, mode))
			return -errno;
	}
	return 0;
}
