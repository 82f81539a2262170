/* weak_strong, input b: strong definitions of pick() and level. */
#include "../include/bpf_defs.h"

__noinline int pick(void)
{
	return 2;
}

int level = 20;

/* 1000 + 2 * 100 + 20 */
SEC("tc")
int ws_b(struct __sk_buff *skb)
{
	return 1000 + pick() * 100 + level;
}
