/* extern_map, input a: defines the BTF map `counts` (and a map of its own
 * before it, so `counts` is not the first map); b.o uses `counts` through an
 * extern declaration. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} a_only SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* counts[0] += 5, a_only[1] += 1; returns counts[0] + counts[1] * 100 */
SEC("tc")
int map_a(struct __sk_buff *skb)
{
	__u32 k0 = 0, k1 = 1;
	__u64 *v0 = bpf_map_lookup_elem(&counts, &k0);
	__u64 *v1 = bpf_map_lookup_elem(&counts, &k1);
	__u64 *own = bpf_map_lookup_elem(&a_only, &k1);

	if (!v0 || !v1 || !own)
		return 1;
	*v0 += 5;
	*own += 1;
	return *v0 + *v1 * 100;
}
