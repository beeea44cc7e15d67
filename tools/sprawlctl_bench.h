/* SPDX-License-Identifier: Apache-2.0 */
/* sprawlctl bench: in-process benchmarks. */
#ifndef SW_CTL_BENCH_H
#define SW_CTL_BENCH_H

/* argv[0] is "bench" (or the first argument after it); the rest:
 *   matcher [--size MB] [--secrets N,N,N]
 * Prints a table on stdout. Returns EXIT_SUCCESS or EXIT_FAILURE. */
int sw_ctl_bench(int argc, char **argv);

#endif
