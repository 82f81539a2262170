/* weak_strong, input a: weak definitions that b.o's strong ones must replace,
 * whichever input comes first. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__weak __noinline int pick(void)
{
	return 1;
}

__weak int level = 10;

/* strong pick() and level from b.o: 2 * 100 + 20 */
SEC("tc")
int ws_a(struct __sk_buff *skb)
{
	return pick() * 100 + level;
}
