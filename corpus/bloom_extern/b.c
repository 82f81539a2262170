/* bloom_extern, input b: `seen` declared extern, with the same __ulong
 * map_extra as a.c's definition; queries the values a.o added. */
#include "../include/bpf_defs.h"

#define ___ulong_paste(a, b) a##b
#define ___ulong_name(n) ___ulong_paste(__unique_value, n)
#define __ulong(name, val) enum { ___ulong_name(__COUNTER__) = val } name

#define BPF_MAP_TYPE_BLOOM_FILTER 30
#define BPF_F_ZERO_SEED (1U << 6)

static long (*bpf_map_peek_elem)(void *map, void *value) = (void *)89;

extern struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(map_flags, BPF_F_ZERO_SEED);
	__uint(max_entries, 64);
	__type(value, __u32);
	__ulong(map_extra, 5);
} seen SEC(".maps");

/* bit i set when 10 * (i + 1) may be in the filter: after bloom_add, 10, 20
 * and 30 are (a bloom filter has no false negatives) and 40, 50 are not
 * (no false positive with this fixed seed) -> 0b00111 = 7 */
SEC("tc")
int bloom_check(struct __sk_buff *skb)
{
	__u32 v10 = 10, v20 = 20, v30 = 30, v40 = 40, v50 = 50;

	return (bpf_map_peek_elem(&seen, &v10) == 0) << 0 |
	       (bpf_map_peek_elem(&seen, &v20) == 0) << 1 |
	       (bpf_map_peek_elem(&seen, &v30) == 0) << 2 |
	       (bpf_map_peek_elem(&seen, &v40) == 0) << 3 |
	       (bpf_map_peek_elem(&seen, &v50) == 0) << 4;
}
