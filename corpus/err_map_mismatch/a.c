/* err_map_mismatch, input a: defines shared_map with max_entries 4. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} shared_map SEC(".maps");

SEC("tc")
int mm_a(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&shared_map, &k);

	return v ? *v : 1;
}
