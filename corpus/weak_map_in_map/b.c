/* weak_map_in_map, input b: the same weak outer map as a.c, initialised
 * to b's own inner map.  Whichever input comes first wins; either way slot 0
 * holds the winner's inner map, so both programs see one inner map. */
#include "../include/bpf_defs.h"

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} b_inner SEC(".maps");

struct {
	__uint(type, 12);		/* BPF_MAP_TYPE_ARRAY_OF_MAPS */
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} wmim_outer SEC(".maps") __weak = {
	.values = { [0] = &b_inner },
};

/* runs after wmim_a: the same inner[0] goes 5 -> 12, returns 212 */
SEC("tc")
int wmim_b(struct __sk_buff *skb)
{
	__u32 k = 0;
	void *m = (void *)bpf_map_lookup_elem(&wmim_outer, &k);
	__u32 *v;

	if (!m)
		return 1;
	v = (__u32 *)bpf_map_lookup_elem(m, &k);
	if (!v)
		return 2;
	*v += 7;
	return 200 + *v;
}
