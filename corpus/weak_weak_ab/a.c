/* weak_weak, input a: weak definitions; also used by weak_weak_ba. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__weak __noinline int pick(void)
{
	return 1;
}

__weak int level = 10;

SEC("tc")
int ww_a(struct __sk_buff *skb)
{
	return pick() * 100 + level;
}
