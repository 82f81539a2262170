/* license_twice, input b: the same license string as a.c. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__noinline int lt_b_value(void)
{
	return 41;
}

SEC("tc")
int lt_b(struct __sk_buff *skb)
{
	return lt_b_value();
}
