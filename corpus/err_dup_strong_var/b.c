/* err_dup_strong_var, input b: a second strong definition of dup_var. */
#include "../include/bpf_defs.h"

int dup_var = 2;

SEC("tc")
int dupv_b(struct __sk_buff *skb)
{
	return dup_var;
}
