/* loop_callback, input b: the hidden callback, and a program of its own that
 * uses it too. */
#include "../include/bpf_defs.h"

struct loop_ctx {
	__u64 sum;
	__u64 calls;
};

__hidden long loop_cb(__u32 index, void *ctx)
{
	struct loop_ctx *c = ctx;

	c->sum += 3 * index + 1;
	c->calls += 1;
	return 0;
}

/* four iterations: 3 * 6 + 4 = 22; calls = 4 */
SEC("tc")
int loop_b(struct __sk_buff *skb)
{
	struct loop_ctx ctx = {};

	bpf_loop(4, loop_cb, &ctx, 0);
	return ctx.sum * 100 + ctx.calls;
}
