/* cross_call, input a: the program calls b_compute() defined in b.o, which
 * calls back a_helper() defined here.  Return values encode the arithmetic,
 * so a call bound to the wrong function gives a different number. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int b_compute(int x); /* defined in b.c */

__noinline int a_helper(int x)
{
	return x * 3;
}

/* skb->len is 64: b_compute(64) = a_helper(65) + 7 = 202 */
SEC("tc")
int cross_a(struct __sk_buff *skb)
{
	return b_compute(skb->len);
}
