/* err_mixed_endian, input a: little-endian (the default target). */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int b_func(int x); /* b.c */

SEC("tc")
int mixed_a(struct __sk_buff *skb)
{
	return b_func(skb->len);
}
