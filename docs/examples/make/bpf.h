/* The few definitions these examples need; a real project includes
 * libbpf's <bpf/bpf_helpers.h> instead. */
#ifndef EXAMPLE_BPF_H
#define EXAMPLE_BPF_H
#define SEC(name) __attribute__((section(name), used))
#define __noinline __attribute__((noinline))
#endif
