/* static_same_name, input a: a static function and a static variable whose
 * names b.c reuses with different bodies and values.  Statics never bind
 * across inputs, so each program must keep seeing its own. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

static int counter = 5;

static __noinline int helper(int x)
{
	return x + counter;
}

/* counter: 5 -> 6 -> 7 over two runs; helper(64) = 64 + 7 */
SEC("tc")
int static_a(struct __sk_buff *skb)
{
	counter += 1;
	return helper(skb->len);
}
