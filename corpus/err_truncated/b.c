/* err_truncated, input b: a valid object next to the truncated a.o. */
#include "../include/bpf_defs.h"

SEC("tc")
int trunc_b(struct __sk_buff *skb)
{
	return 1;
}
