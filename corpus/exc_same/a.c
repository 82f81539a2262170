/* exc_same, input a: a program whose exception callback is a global
 * function of the same input.  When the program throws, the kernel returns
 * the callback's return value as the program's.  A second program throws
 * without a callback: the kernel's default one returns the cookie, so
 * exc_cb must not get attached there. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__noinline int exc_cb(__u64 cookie)
{
	return cookie * 10 + 3;
}

/* skb->len is 64, so it throws 7: exc_cb(7) = 73 */
__exception_cb(exc_cb)
SEC("tc")
int exc_prog(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(7);
	return 1;
}

/* throws 9: the default callback returns 9 (exc_cb would give 93) */
SEC("tc")
int plain_throw(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(9);
	return 1;
}
