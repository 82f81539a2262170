/* exc_ambiguous_3, input g1: the program's exception callback `cb` is
 * defined in another input (g2.o). */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__exception_cb(cb)
SEC("tc")
int g1_prog(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(5);
	return 0;
}
