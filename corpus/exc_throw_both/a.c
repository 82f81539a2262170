/* exc_throw_both, input a: both inputs call bpf_throw() and each has a
 * program with its own exception callback; each tag must stay bound to its
 * own input's callback. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__noinline int cb_a(__u64 cookie)
{
	return cookie + 100;
}

/* throws 1: cb_a(1) = 101 */
__exception_cb(cb_a)
SEC("tc")
int throw_a(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(1);
	return 0;
}
