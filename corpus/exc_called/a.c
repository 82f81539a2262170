/* exc_called, input a: exc_cb is the program's exception callback and is
 * also reached by a direct call, through b_work() in b.o.  The verifier
 * refuses that ("cannot call exception cb directly"); the call only shows
 * up across inputs. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int b_work(int x); /* b.c: calls exc_cb */

__noinline int exc_cb(__u64 cookie)
{
	return cookie + 1;
}

__exception_cb(exc_cb)
SEC("tc")
int called_prog(struct __sk_buff *skb)
{
	if (skb->len == 1)
		bpf_throw(5);
	return b_work(skb->len);
}
