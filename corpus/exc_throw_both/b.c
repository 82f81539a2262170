/* exc_throw_both, input b: its own callback, and a program that throws with
 * the default callback (which returns the cookie). */
#include "../include/bpf_defs.h"

__noinline int cb_b(__u64 cookie)
{
	return cookie + 200;
}

/* throws 2: cb_b(2) = 202 */
__exception_cb(cb_b)
SEC("tc")
int throw_b(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(2);
	return 0;
}

/* throws 3 with no callback: 3 */
SEC("tc")
int throw_b_default(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(3);
	return 0;
}
