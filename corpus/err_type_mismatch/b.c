/* err_type_mismatch, input b: defines mismatched_var as a long. */
#include "../include/bpf_defs.h"

long mismatched_var = 3;

SEC("tc")
int tm_b(struct __sk_buff *skb)
{
	return mismatched_var;
}
