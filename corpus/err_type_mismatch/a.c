/* err_type_mismatch, input a: declares mismatched_var as an int. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

extern int mismatched_var; /* b.c defines it as long */

SEC("tc")
int tm_a(struct __sk_buff *skb)
{
	return mismatched_var;
}
