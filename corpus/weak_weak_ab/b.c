/* weak_weak, input b: competing weak definitions; also used by weak_weak_ba. */
#include "../include/bpf_defs.h"

__weak __noinline int pick(void)
{
	return 2;
}

__weak int level = 20;

SEC("tc")
int ww_b(struct __sk_buff *skb)
{
	return 1000 + pick() * 100 + level;
}
