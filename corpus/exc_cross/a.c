/* exc_cross, input a: the program names an exception callback that only b.o
 * defines.  a.o has no reference to it besides the decl tag. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

/* throws 7: cross_cb(7) = 7 + 500 */
__exception_cb(cross_cb)
SEC("tc")
int exc_cross_prog(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(7);
	return 1;
}

/* does not throw on a 64-byte packet */
SEC("tc")
int exc_cross_nothrow(struct __sk_buff *skb)
{
	if (skb->len == 1)
		bpf_throw(1);
	return 11;
}
