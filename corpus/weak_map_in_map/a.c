/* weak_map_in_map, input a: a __weak ARRAY_OF_MAPS whose slot 0 is
 * initialised to this input's inner map.  b.c defines the same weak map with
 * its slot 0 pointing at b's inner map.  Only the first definition is kept;
 * the other one's bytes stay in .maps with no symbol and no BTF entry, so
 * its initialiser (an R_BPF_64_ABS64 inside .maps) must be dropped too:
 * libbpf looks for the map each .maps relocation initialises and refuses the
 * object otherwise ("cannot find map 'b_inner' at rel->r_offset ..."). */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} a_inner SEC(".maps");

struct {
	__uint(type, 12);		/* BPF_MAP_TYPE_ARRAY_OF_MAPS */
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} wmim_outer SEC(".maps") __weak = {
	.values = { [0] = &a_inner },
};

/* runs first: the winner's inner[0] goes 0 -> 5, returns 105; an empty
 * slot 0 returns 1 */
SEC("tc")
int wmim_a(struct __sk_buff *skb)
{
	__u32 k = 0;
	void *m = (void *)bpf_map_lookup_elem(&wmim_outer, &k);
	__u32 *v;

	if (!m)
		return 1;
	v = (__u32 *)bpf_map_lookup_elem(m, &k);
	if (!v)
		return 2;
	*v += 5;
	return 100 + *v;
}
