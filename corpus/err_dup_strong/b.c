/* err_dup_strong, input b: a second strong definition of dup_func. */
#include "../include/bpf_defs.h"

__noinline int dup_func(int x)
{
	return x + 2;
}

SEC("tc")
int dup_b(struct __sk_buff *skb)
{
	return dup_func(skb->len);
}
