/* static_same_name, input b: same names as a.c, different meaning. */
#include "../include/bpf_defs.h"

static int counter = 100;

static __noinline int helper(int x)
{
	return x * 2 + counter;
}

/* counter: 100 -> 110 -> 120 over two runs; helper(64) = 128 + 120 */
SEC("tc")
int static_b(struct __sk_buff *skb)
{
	counter += 10;
	return helper(skb->len);
}
