/* SPDX-License-Identifier: Apache-2.0 */
/* Programs a daemon left pinned: the build directories (b<16 hex digits>) under the pin dir,
 * each holding one build's links, ring and maps, and what its meta map says. They keep
 * capturing while no daemon runs; `sprawlctl status` reports them when no daemon answers. */
#ifndef SW_PINS_H
#define SW_PINS_H

#include <stddef.h>
#include <stdint.h>

#define SW_PINS_DIR_MAX 1100

struct sw_pins_build {
	char dir[SW_PINS_DIR_MAX];
	char build[17];
	int links;		/* link_* entries: attached programs */
	uint64_t alive_real_ns; /* its last daemon's last sign of life; 0 unknown */
};

/* Fills out with up to max build directories of pin_dir, sorted by name; returns how many
 * there are (may exceed max), or a negative errno (-ENOENT: no pin dir). */
int sw_pins__list(const char *pin_dir, struct sw_pins_build *out, size_t max);

#endif
