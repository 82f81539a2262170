/* verify_refused, input a: a program the verifier accepts.  It calls
 * b_first_byte() from b.o, which checks its bounds, so --verify passes it. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int b_first_byte(struct xdp_md *ctx); /* defined in b.c */

SEC("xdp")
int checked(struct xdp_md *ctx)
{
	return b_first_byte(ctx) >= 0 ? XDP_PASS : 0;
}
