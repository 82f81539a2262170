/* err_dup_strong_var, input a: a strong definition of dup_var. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int dup_var = 1;

SEC("tc")
int dupv_a(struct __sk_buff *skb)
{
	return dup_var;
}
