/* SPDX-License-Identifier: Apache-2.0 */
/* A set of option values, shared by the option table and command line (daemon_config.c) and
 * the config file loader (daemon_config_file.c). Nothing outside daemon_config includes this. */
#ifndef SW_DAEMON_CONFIG_PRIV_H
#define SW_DAEMON_CONFIG_PRIV_H

#include <stddef.h>

#include "daemon_config.h"

struct dval {
	char **v;
	size_t n;
	int line, col; /* where the file set it */
};

struct sw_dconf {
	struct dval val[SW_DO__COUNT];
};

#endif
