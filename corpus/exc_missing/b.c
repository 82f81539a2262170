/* exc_missing, input b: global functions, none of them no_such_cb. */
#include "../include/bpf_defs.h"

__noinline int some_cb(__u64 cookie)
{
	return cookie + 1;
}

SEC("tc")
int b_prog(struct __sk_buff *skb)
{
	return some_cb(skb->len);
}
