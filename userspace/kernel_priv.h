/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by kernel.c (load, attach, maps) and kernel_pin.c (what a previous daemon left
 * pinned); nothing else includes it. */
#ifndef SW_KERNEL_PRIV_H
#define SW_KERNEL_PRIV_H

#include <bpf/libbpf.h>

#include "kernel.h"
#include "sprawl.skel.h"

#define PIN_PATH_MAX  1200
#define OLD_MAX	      4	   /* rings of other builds read at start */
#define CONSUME_BATCH 4096 /* records per consume call: then the loop serves the rest */

/* The kernel's named map key (maps.bpf.h), to clear it. */
struct named_key_u {
	uint64_t file, ino;
	uint32_t dev, gen;
};

struct sw_kernel {
	struct sprawl *skel;
	struct ring_buffer *rb;
	int ncpus;
	void *cons_pos, *prod_pos; /* the ring's position pages, mapped for its fill level */
	uint64_t build;
	struct bpf_link *links[8]; /* pinned links of a previous daemon, reused */
	size_t nlinks;
	struct sw_kernel_prev prev;
	struct sw_loss told;   /* loss counts reported, as the meta map keeps them */
	int old_ring[OLD_MAX]; /* rings of another build of our record format, to be read */
	size_t nold;
	ring_buffer_sample_fn fn;
	void *ctx;
	size_t batch; /* records of the current consume call */
	char pin_dir[PIN_PATH_MAX], dir[PIN_PATH_MAX];
};

int kp_join(char *out, const char *dir, const char *prefix, const char *name);
void kp_unpin_dir(const char *dir);
int kp_ring_used(int fd, uint64_t *used);
void kp_loss_add(struct sw_loss *to, const struct sw_loss *a, const struct sw_loss *minus);
int kp_loss_sum(int fd, int ncpus, struct sw_loss *out);
int kp_old_map(const char *dir, const char *name, uint32_t value_size);
uint64_t kp_old_entries(const char *dir, const char *name, uint32_t value_size);
void kp_take_old(struct sw_kernel *k, const char *dir);
void kp_unlink_links(struct sw_kernel *k, const char *dir);
struct bpf_map **kp_pinned_maps(struct sprawl *s, size_t *n);
int kp_pinned_prog(const struct bpf_program *prog);
int kp_links_pinned(struct sw_kernel *k, const char *dir);
int kp_open_links(struct sw_kernel *k, const char *dir);
int kp_pin_links(struct sw_kernel *k, const char *dir);
/* Other builds' pin directories (b<hex>) handed to fn; returns how many. */
int kp_each_old(const char *pin_dir, const char *mine, void (*fn)(struct sw_kernel *, const char *),
		struct sw_kernel *k);
void kp_unpin_old(struct sw_kernel *k, const char *dir);
void kp_clear_map(struct bpf_map *m, size_t key_size);

#endif
