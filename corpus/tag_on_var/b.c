/* tag_on_var, input b: the reset function, which only the tag names, and a
 * program that does not use the variable. */
#include "../include/bpf_defs.h"

extern int counter;

__noinline int reset_counter(void)
{
	counter = 0;
	return 0;
}

SEC("xdp")
int other_prog(struct xdp_md *ctx)
{
	return 2;
}
