// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target for the rules loader: the first byte picks which of the three rule files the
 * input replaces (the other two are the embedded defaults); the rest is the file. A successful
 * load is exercised once with the detector scan, agent match and allowlist queries. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "detect.h"
#include "rules.h"

static int count_hit(const struct sw_detect_hit *h, void *ctx)
{
	(void)h;
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"agents.yaml", "detectors.yaml", "policy.yaml"};
	static const char *const argv[] = {"node", "/usr/lib/node_modules/x/cli.js", NULL};
	char comms[8][SW_AGENT_COMM_LEN];
	struct sw_embedded_file files[4] = {{0}};
	struct sw_rules_error err;
	struct sw_rules *r;
	const char *label;
	size_t i, n = 0, hits = 0, which;

	if (size < 1)
		return 0;
	which = data[0] % 3;
	for (i = 0; sw_embedded_rules[i].name && n < 3; i++)
		if (strcmp(sw_embedded_rules[i].name, names[which]))
			files[n++] = sw_embedded_rules[i];
	files[n].name = names[which];
	files[n].data = data + 1;
	files[n].len = size - 1;
	r = sw_rules__load_files(files, "fuzz/", &err);
	if (!r)
		return 0;
	sw_detect__scan(r, data, size, count_hit, &hits);
	sw_rules__agent_match(r, "/usr/bin/node", "node", argv, 2, &label);
	sw_rules__agent_comms(r, comms, 8);
	sw_rules__transcript(r, "/home/u/.claude/projects/x", NULL, &label);
	sw_rules__allowlisted(r, "NAME", "/home/u/.aws/credentials");
	sw_rules__free(r);
	return 0;
}
