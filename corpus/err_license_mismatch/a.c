/* err_license_mismatch, input a: GPL. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int lm_a(struct __sk_buff *skb)
{
	return 1;
}
