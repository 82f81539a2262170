/* extern_map, input b: a map of its own, then `counts` declared extern with
 * the same definition as a.c's. */
#include "../include/bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} b_only SEC(".maps");

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* counts[1] += 7, b_only[3] = 9; returns counts[0] * 1000 + counts[1] */
SEC("tc")
int map_b(struct __sk_buff *skb)
{
	__u32 k0 = 0, k1 = 1, k3 = 3, nine = 9;
	__u64 *v0 = bpf_map_lookup_elem(&counts, &k0);
	__u64 *v1 = bpf_map_lookup_elem(&counts, &k1);

	if (!v0 || !v1)
		return 1;
	*v1 += 7;
	bpf_map_update_elem(&b_only, &k3, &nine, BPF_ANY);
	return *v0 * 1000 + *v1;
}
