/* SPDX-License-Identifier: Apache-2.0 */
/* sprawlctl bench: in-process benchmarks. */
#ifndef SW_CTL_BENCH_H
#define SW_CTL_BENCH_H

/* argv[0] is "bench" (or the first argument after it); the rest:
 *   matcher [--size MB] [--secrets N,N,N]
 * Prints a table on stdout. Returns EXIT_SUCCESS or EXIT_FAILURE. */
int sw_ctl_bench(int argc, char **argv);

/* bench detect ...: the detectors (sprawlctl_bench_detect.c); argv after "detect". */
int sw_ctl_bench_detect(int argc, char **argv);

/* bench inflate PACK [--secrets N] (sprawlctl_bench_inflate.c); argv after "inflate". */
int sw_ctl_bench_inflate(int argc, char **argv);

/* The generated corpora both benches use (deterministic in seed). */
#include <stddef.h>
#include <stdint.h>
void sw_bench_gen_source(uint8_t *p, size_t n, uint64_t seed);
void sw_bench_gen_base64(uint8_t *p, size_t n, uint64_t seed);

#endif
