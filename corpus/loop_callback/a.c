/* loop_callback, input a: bpf_loop() with a callback defined in b.o.  The
 * callback's address is taken here through an extern, so the link has to
 * turn a reference to another input's function into a subprogram address.
 * Loop callbacks must be static for the verifier; across inputs that means
 * __hidden. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct loop_ctx {
	__u64 sum;
	__u64 calls;
};

extern long loop_cb(__u32 index, void *ctx) __hidden; /* b.c */

/* loop_cb adds 3 * index + 1 for index 0..9: 3 * 45 + 10 = 145; calls = 10 */
SEC("tc")
int loop_a(struct __sk_buff *skb)
{
	struct loop_ctx ctx = {};

	bpf_loop(10, loop_cb, &ctx, 0);
	return ctx.sum * 100 + ctx.calls;
}
