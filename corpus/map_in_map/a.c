/* map_in_map, input a: an ARRAY_OF_MAPS whose slot 0 is initialised to an
 * inner array map.  The initialiser is an R_BPF_64_ABS64 relocation inside
 * .maps; when b.o's map comes first in the output .maps section, the
 * relocation's offset must move with a.o's piece or libbpf fills the wrong
 * slot (or none). */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner SEC(".maps");

struct {
	__uint(type, 12);		/* BPF_MAP_TYPE_ARRAY_OF_MAPS */
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [0] = &inner },
};

/* First run: slot 0 holds inner, inner[0] goes 0 -> 5: returns 105.
 * An empty slot 0 would return 1. */
SEC("tc")
int mim_prog(struct __sk_buff *skb)
{
	__u32 k = 0;
	void *m = (void *)bpf_map_lookup_elem(&outer, &k);
	__u32 *v;

	if (!m)
		return 1;
	v = (__u32 *)bpf_map_lookup_elem(m, &k);
	if (!v)
		return 2;
	*v += 5;
	return 100 + *v;
}
