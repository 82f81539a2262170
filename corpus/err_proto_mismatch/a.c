/* err_proto_mismatch, input a: declares calc() with one int parameter. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int calc(int x); /* b.c defines it with two parameters */

SEC("tc")
int pm_a(struct __sk_buff *skb)
{
	return calc(skb->len);
}
