/* map_in_map, input b: a plain map, so that in the order b.o a.o a.o's
 * maps do not start at offset 0 of the output .maps section. */
#include "../include/bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mim_counts SEC(".maps");

SEC("tc")
int mim_count(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *c = (__u64 *)bpf_map_lookup_elem(&mim_counts, &k);

	if (!c)
		return 1;
	*c += skb->len;
	return 7;
}
