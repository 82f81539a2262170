/* bloom_extern, input a: defines the bloom filter `seen`, whose number of
 * hash functions (map_extra, 5) is given by libbpf's __ulong: a member whose
 * type is an enum with one enumerator, here a 32-bit BTF ENUM.  b.o declares
 * the map extern and queries what a.o added. */
#include "../include/bpf_defs.h"

/* libbpf's bpf_helpers.h spelling, with a two-step paste so __COUNTER__
 * expands and every __ulong gets an enumerator of its own. */
#define ___ulong_paste(a, b) a##b
#define ___ulong_name(n) ___ulong_paste(__unique_value, n)
#define __ulong(name, val) enum { ___ulong_name(__COUNTER__) = val } name

#define BPF_MAP_TYPE_BLOOM_FILTER 30
#define BPF_F_ZERO_SEED (1U << 6)	/* fixed hash seed: the same bits every run */

char LICENSE[] SEC("license") = "GPL";

static long (*bpf_map_push_elem)(void *map, const void *value, __u64 flags) = (void *)87;

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(map_flags, BPF_F_ZERO_SEED);
	__uint(max_entries, 64);
	__type(value, __u32);
	__ulong(map_extra, 5);
} seen SEC(".maps");

/* adds 10, 20 and 30; returns how many adds succeeded (3) */
SEC("tc")
int bloom_add(struct __sk_buff *skb)
{
	__u32 v10 = 10, v20 = 20, v30 = 30;

	return (bpf_map_push_elem(&seen, &v10, BPF_ANY) == 0) +
	       (bpf_map_push_elem(&seen, &v20, BPF_ANY) == 0) +
	       (bpf_map_push_elem(&seen, &v30, BPF_ANY) == 0);
}
