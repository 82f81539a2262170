/* cross_call, input b: global b_compute() used by a.o, calling back into a.o. */
#include "../include/bpf_defs.h"

int a_helper(int x); /* defined in a.c */

__noinline int b_compute(int x)
{
	return a_helper(x + 1) + 7;
}

/* a_helper(10) + b_compute(1) = 30 + (a_helper(2) + 7) = 43 */
SEC("tc")
int cross_b(struct __sk_buff *skb)
{
	return a_helper(10) + b_compute(1);
}
