/* err_dup_strong, input a: a strong definition of dup_func. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__noinline int dup_func(int x)
{
	return x + 1;
}

SEC("tc")
int dup_a(struct __sk_buff *skb)
{
	return dup_func(skb->len);
}
