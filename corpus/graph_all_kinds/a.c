/* graph_all_kinds, input a: one program with every kind of call-graph edge
 * (a call, a bpf_loop callback address, an exception callback), and one
 * that calls across inputs.  Also the input of the call-graph golden tests
 * (tests/golden/), so keep it small and stable. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct acc {
	__u64 sum;
};

extern long step(__u32 index, void *ctx) __hidden; /* b.c: the loop callback */
int scale(int x);                                   /* b.c */

/* the exception callback: global, called by nobody */
__noinline int on_throw(__u64 cookie)
{
	return cookie * 2 + 1;
}

static __noinline int twice(__u64 x)
{
	return x * 2;
}

/* step adds index + 1 for index 0..3: sum = 10; throws twice(10) = 20 on a
 * 64-byte packet, so on_throw(20) = 41 is the program's return value */
__exception_cb(on_throw)
SEC("tc")
int kinds_prog(struct __sk_buff *skb)
{
	struct acc a = {};

	bpf_loop(4, step, &a, 0);
	if (skb->len == 64)
		bpf_throw(twice(a.sum));
	return 0;
}

/* scale(64) = triple(64) = 192 */
SEC("tc")
int plain_prog(struct __sk_buff *skb)
{
	return scale(skb->len);
}
