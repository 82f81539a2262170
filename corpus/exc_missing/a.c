/* exc_missing, input a: the exception callback tag names a function that no
 * input defines. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__exception_cb(no_such_cb)
SEC("tc")
int missing_prog(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(5);
	return 0;
}
