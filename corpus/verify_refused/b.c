/* verify_refused, input b: the link is correct, but unchecked() reads the
 * packet without comparing against data_end, so the kernel verifier refuses
 * it ("invalid access to packet").  bpflink --verify must name unchecked,
 * this input (b.o) and the source line from the verifier log.  Built with
 * -DUNCHECKED_SEC='"?xdp"' (tests/test_verify.py) it is not loaded by
 * default, and --verify must leave it out. */
#include "../include/bpf_defs.h"

#ifndef UNCHECKED_SEC
#define UNCHECKED_SEC "xdp"
#endif

__noinline int b_first_byte(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;

	if (data + 1 > end)
		return -1;
	return data[0];
}

SEC(UNCHECKED_SEC)
int unchecked(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;

	return data[0] == 0 ? XDP_PASS : 0; /* no bounds check: refused */
}
