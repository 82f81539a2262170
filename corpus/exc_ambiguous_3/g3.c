/* exc_ambiguous_3, input g3: an unrelated static `cb` used by its own
 * program, which makes the name ambiguous in the output. */
#include "../include/bpf_defs.h"

static __noinline int cb(int x)
{
	return x * 3;
}

SEC("tc")
int g3_prog(struct __sk_buff *skb)
{
	return cb(skb->len);
}
