/* err_proto_mismatch, input b: defines calc() with two parameters. */
#include "../include/bpf_defs.h"

__noinline int calc(int x, int y)
{
	return x + y;
}

SEC("tc")
int pm_b(struct __sk_buff *skb)
{
	return calc(skb->len, 1);
}
