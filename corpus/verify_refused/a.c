/* verify_refused, input a: checked() is a program the verifier accepts; it
 * calls b_first_byte() from b.o, which checks its bounds.  no_null_check()
 * dereferences a map lookup without testing it for NULL, so the verifier
 * refuses it ("invalid mem access 'map_value_or_null'"): --verify must name
 * it with this input (a.o) and a.c's line, besides b.o's refused program. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH); /* not an array: the verifier knows an array lookup by a constant key never fails */
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} counts SEC(".maps");

int b_first_byte(struct xdp_md *ctx); /* defined in b.c */

SEC("xdp")
int checked(struct xdp_md *ctx)
{
	return b_first_byte(ctx) >= 0 ? XDP_PASS : 0;
}

SEC("tc")
int no_null_check(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u32 *count = bpf_map_lookup_elem(&counts, &key);

	return *count; /* no NULL check: refused */
}
