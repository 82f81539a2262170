/* exc_two_tags, input a: one program carries two exception_callback tags. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__noinline int cb_one(__u64 cookie)
{
	return cookie + 1;
}

__noinline int cb_two(__u64 cookie)
{
	return cookie + 2;
}

__exception_cb(cb_one) __exception_cb(cb_two)
SEC("tc")
int two_tags_prog(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(5);
	return 0;
}
