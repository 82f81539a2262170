/* exc_ambiguous_2, input g1: the program's exception callback is the global
 * function `cb` of this input. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__noinline int cb(__u64 cookie)
{
	return cookie + 1;
}

__exception_cb(cb)
SEC("tc")
int g1_prog(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(5);
	return 0;
}
