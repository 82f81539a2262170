/* err_map_mismatch, input b: declares shared_map extern with max_entries 8. */
#include "../include/bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} shared_map SEC(".maps");

SEC("tc")
int mm_b(struct __sk_buff *skb)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&shared_map, &k);

	return v ? *v : 1;
}
